"""The watched-folder intake, hosted by the engine (engine/hosted.py).

A finished video in a watched folder becomes media and jobs through
`domain/intake.queue_file`, then moves to `done/` (or to `failed/` with
`<name>.reason.txt`), its sidecar with it (intake/sidecar.py).

**When a file is finished.** Its size and modification time (and its sidecar's) stay
the same for `watch.stable_seconds` on the engine's clock, its name is no partial
download (watch_config.is_partial), and it opens for reading. watchdog's events make
the watcher look at a file at once; a scan every `watch.scan_seconds` finds what events
miss (network drives, files present at start, a missed event).

**Crash safety.** Each file goes through a journal entry in the `watch.state` row:
written (with the file's sha256 and the highest job id so far) before the file moves;
then the file moves to done/, is queued from there (so the media item points at where
it lies), and the entry is cleared. A refusal moves it on to failed/. After a kill -9 the
entry is found at the next start: the file is found wherever it got to; the accounts
that already have a job of that content made after the entry are not queued again, the
others are; so a file is queued once and never lost.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ..domain.errors import DomainError, NotFound, ValidationError
from ..domain.intake import Queued, Target, queue_file, target_accounts
from ..domain.mediafile import VIDEO_SUFFIXES, NotMedia, sha256_of
from ..domain.services import Services
from ..engine.clock import Clock
from ..engine.hosted import HostContext
from ..logs import get_logger
from ..owner_only import private_dir, write_private_text
from ..store.models import Job, MediaItem
from .sidecar import SIDECAR_SUFFIXES, SidecarError, read_sidecar, sidecars_of
from .watch_config import (
    DONE_DIR,
    FAILED_DIR,
    WatchedFolder,
    candidates,
    is_partial,
    load_folders,
    read_state,
    render_template,
    update_state,
)

log = get_logger("intake")


@dataclass
class Seen:
    signature: tuple[Any, ...]
    since: float  # the clock's monotonic time this signature was first seen


def signature(path: Path) -> tuple[Any, ...] | None:
    """Size and mtime of the video and of its sidecars; None when it is gone."""
    parts: list[Any] = []
    for file in [path, *(path.with_suffix(s) for s in SIDECAR_SUFFIXES)]:
        try:
            info = file.stat()
        except OSError:
            if file == path:
                return None
            parts.append(None)
            continue
        parts.append((info.st_size, info.st_mtime_ns))
    return tuple(parts)


def opens(path: Path) -> bool:
    """A file another program holds exclusively (Windows) does not open yet."""
    try:
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError:
        return False
    return True


def free_name(directory: Path, name: str) -> str:
    """`name`, or `stem (2).ext`, ... so that neither it nor its sidecars or reason
    file would overwrite anything in `directory`."""
    stem, suffix = os.path.splitext(name)
    number = 1
    while True:
        candidate = stem if number == 1 else f"{stem} ({number})"
        taken = [candidate + suffix, f"{candidate}{suffix}.reason.txt"] + [
            candidate + s for s in SIDECAR_SUFFIXES
        ]
        if not any(os.path.lexists(directory / n) for n in taken):
            return candidate + suffix
        number += 1


def last_job_id(services: Services) -> int:
    with services.db.session() as session:
        return int(session.scalar(select(func.max(Job.id))) or 0)


def jobs_since(services: Services, sha: str, after: int) -> list[Job]:
    """Jobs of the content `sha` made after job id `after`: what an interrupted take
    already queued."""
    with services.db.session() as session:
        return list(
            session.scalars(
                select(Job)
                .join(MediaItem, MediaItem.id == Job.media_id)
                .where(MediaItem.sha256 == sha, Job.id > after)
            )
        )


def _move(source: Path, dest: Path) -> None:
    if os.path.lexists(dest):  # never overwrite: free_name chose it free
        raise FileExistsError(dest)
    private_dir(dest.parent)
    os.rename(source, dest)


class FolderWatcher:
    name = "watched folders"

    def __init__(
        self,
        services: Services,
        clock: Clock,
        *,
        stable_seconds: float | None = None,
        scan_seconds: float | None = None,
        events: bool = True,
    ) -> None:
        self.services = services
        self.clock = clock
        settings = services.settings
        self.stable = float(stable_seconds or settings.get("watch.stable_seconds"))
        self.every = float(scan_seconds or settings.get("watch.scan_seconds"))
        self.use_events = events
        self.folders: dict[str, WatchedFolder] = {}
        self.seen: dict[Path, Seen] = {}
        self._dirty: set[Path] = set()
        self._lock = threading.Lock()
        self._work = threading.Lock()  # one pass at a time (the loop, or a test's scan())
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer: Any = None
        self._watches: dict[str, Any] = {}
        self._next_scan = float("-inf")
        self.passes = 0
        self._changed = threading.Condition()
        # (path, size) of each observation, for tests and the status line
        self.observed: dict[Path, int] = {}
        self.taken: list[str] = []  # "done/x.mp4" or "failed/y.mp4", in order

    # --- Hosted ---------------------------------------------------------------------------
    def start(self) -> None:
        self.reload()
        for folder in self.folders.values():
            self.recover(folder)
        if self.use_events:
            from watchdog.observers import Observer

            self._observer = Observer()
            self._sync_watches()
            self._observer.start()
        self._thread = threading.Thread(target=self._loop, name="piper-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(10)
            self._observer = None
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def status(self) -> str:
        waiting = len(self.seen)
        return f"watching {len(self.folders)} folder(s), {waiting} file(s) settling"

    # --- the loop --------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.scan()
            except Exception:  # the next pass tries again; publishing goes on
                log.exception("watched folders: a pass failed")
            timeout = self._timeout()
            self.clock.wait(self._wake, timeout)
            self._wake.clear()

    def _timeout(self) -> float:
        now = self.clock.monotonic()
        due = [self._next_scan] + [s.since + self.stable for s in self.seen.values()]
        return max(0.0, min(due) - now)

    def _notify(self) -> None:
        with self._changed:
            self.passes += 1
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
        """For tests: wait (really) until `predicate()` holds after some pass."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def scan(self) -> None:
        """One pass: a full scan when one is due, else the files events named; then
        take what is finished."""
        with self._work:
            now = self.clock.monotonic()
            with self._lock:
                dirty, self._dirty = self._dirty, set()
            if now >= self._next_scan:
                self.reload()
                if self._observer is not None:
                    self._sync_watches()
                for folder in self.folders.values():
                    self.recover(folder)
                    for path in candidates(folder.folder):
                        self._observe(path, now)
                    self._heartbeat(folder)
                self._next_scan = now + self.every
            else:
                for path in dirty:
                    self._observe(path, now)
            for path, seen in list(self.seen.items()):
                if now - seen.since >= self.stable:
                    self._settle(path, now)
        self._notify()

    def _observe(self, path: Path, now: float) -> None:
        if path.suffix.lower() in SIDECAR_SUFFIXES:
            self._observe_video_of(path, now)
            return
        if (
            self._folder_of(path) is None
            or is_partial(path.name)
            or path.suffix.lower() not in VIDEO_SUFFIXES
        ):
            return
        sig = signature(path)
        if sig is None:
            self.seen.pop(path, None)
            return
        old = self.seen.get(path)
        if old is None or old.signature != sig:
            self.seen[path] = Seen(sig, now)
            self.observed[path] = sig[0][0]

    def _observe_video_of(self, sidecar: Path, now: float) -> None:
        for video in list(self.seen):
            if video.with_suffix(sidecar.suffix) == sidecar:
                self._observe(video, now)

    def _settle(self, path: Path, now: float) -> None:
        seen = self.seen[path]
        sig = signature(path)
        if sig != seen.signature:
            if sig is None:
                self.seen.pop(path, None)
            else:
                self.seen[path] = Seen(sig, now)
            return
        if not opens(path):
            return
        folder = self._folder_of(path)
        if folder is not None:
            self.take(folder, path)  # raising: kept in `seen`, tried at the next pass
        self.seen.pop(path, None)

    def _folder_of(self, path: Path) -> WatchedFolder | None:
        for folder in self.folders.values():
            if path.parent == folder.folder:
                return folder
        return None

    # --- configuration and events ----------------------------------------------------------
    def reload(self) -> None:
        self.folders = {f.id: f for f in load_folders(self.services) if f.here()}
        for path in list(self.seen):
            if self._folder_of(path) is None:
                del self.seen[path]

    def _sync_watches(self) -> None:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.is_directory:
                    return
                paths = [event.src_path, getattr(event, "dest_path", "")]
                with watcher._lock:
                    watcher._dirty.update(Path(os.fsdecode(p)) for p in paths if p)
                watcher._wake.set()

        for folder_id in list(self._watches):
            if folder_id not in self.folders:
                self._observer.unschedule(self._watches.pop(folder_id))
        for folder in self.folders.values():
            if folder.id not in self._watches and folder.folder.is_dir():
                try:
                    self._watches[folder.id] = self._observer.schedule(
                        Handler(), folder.path, recursive=False
                    )
                except OSError as exc:  # e.g. out of inotify watches: the scan still runs
                    log.warning("watched folder %s: no change events (%s)", folder.path, exc)

    def _heartbeat(self, folder: WatchedFolder) -> None:
        def beat(state: dict[str, Any]) -> None:
            state["seen_at"] = datetime.now(UTC).isoformat()

        update_state(self.services, folder.id, beat)

    # --- taking a file ---------------------------------------------------------------------
    def take(self, folder: WatchedFolder, path: Path) -> None:
        taken_at = self.clock.now()
        reason: str | None = None
        caption: str | None = None
        at, route, title = folder.slot, folder.route, None
        sidecars = [p.suffix for p in sidecars_of(path)]
        try:
            sidecar, _files = read_sidecar(path)
            if sidecar is not None:
                caption = sidecar.full_caption()
                at = sidecar.at or at
                route = sidecar.route or route
                title = sidecar.title
            if caption is None and folder.caption_template:
                caption = render_template(folder.caption_template, path, folder.folder, taken_at)
        except SidecarError as exc:
            reason = str(exc)
        except ValidationError as exc:
            reason = str(exc)
        try:
            sha = sha256_of(path)
        except NotMedia as exc:
            sha, reason = "", reason or str(exc)
        except FileNotFoundError:
            return  # gone meanwhile: nothing to do
        where = DONE_DIR if reason is None else FAILED_DIR
        entry: dict[str, Any] = {
            "name": path.name,
            "sidecars": sidecars,
            "sha": sha,
            "after_job": last_job_id(self.services),
            "dest": f"{where}/{free_name(folder.folder / where, path.name)}",
            "prev": None,
            "caption": caption,
            "at": at,
            "route": route,
            "title": title,
            "failed": reason,
            "taken_at": taken_at.isoformat(),
        }
        self._journal(folder, entry)
        self.advance(folder, entry)

    def _journal(self, folder: WatchedFolder, entry: dict[str, Any]) -> None:
        def write(state: dict[str, Any]) -> None:
            state.setdefault("pending", {})[entry["name"]] = entry

        update_state(self.services, folder.id, write)

    def recover(self, folder: WatchedFolder) -> None:
        """Finish every take a crash interrupted (see the module's note)."""
        pending = read_state(self.services).get(folder.id, {}).get("pending") or {}
        for entry in list(pending.values()):
            log.info("watched folder %s: finishing %s after a stop", folder.path, entry["name"])
            self.advance(folder, dict(entry))

    def _locations(self, folder: WatchedFolder, entry: dict[str, Any]) -> list[Path]:
        places = [folder.folder / entry["dest"]]
        if entry.get("prev"):
            places.append(folder.folder / entry["prev"])
        places.append(folder.folder / entry["name"])
        return places

    def _place(self, folder: WatchedFolder, entry: dict[str, Any]) -> Path | None:
        """Move the video and its sidecars to the entry's dest from wherever they are."""
        places = self._locations(folder, entry)
        dest = places[0]
        for suffix in ["", *entry.get("sidecars", [])]:
            want = dest.with_suffix(suffix) if suffix else dest
            if os.path.lexists(want):
                continue
            for place in places[1:]:
                have = place.with_suffix(suffix) if suffix else place
                if os.path.lexists(have):
                    _move(have, want)
                    break
        return dest if dest.exists() else None

    def advance(self, folder: WatchedFolder, entry: dict[str, Any]) -> None:
        try:
            dest = self._place(folder, entry)
        except OSError as exc:
            log.warning("watched folder %s: cannot move %s: %s", folder.path, entry["name"], exc)
            return  # kept in the journal: the next pass tries again
        if dest is None:
            log.warning("watched folder %s: %s disappeared", folder.path, entry["name"])
            self._finish(folder, entry, None)
            return
        if entry.get("failed") is None:
            try:
                queued = self._queue(folder, entry, dest)
            except DomainError as exc:
                reason = str(exc)
            except Exception:  # a database hiccup: kept in the journal, tried again
                log.exception("watched folder %s: %s not queued yet", folder.path, dest.name)
                return
            else:
                if queued.jobs:
                    self._finish(folder, entry, queued.line())
                    return
                reason = queued.line()
            entry["failed"] = reason
            entry["prev"] = entry["dest"]
            entry["dest"] = f"{FAILED_DIR}/{free_name(folder.folder / FAILED_DIR, entry['name'])}"
            self._journal(folder, entry)
            try:
                dest = self._place(folder, entry) or dest
            except OSError as exc:
                log.warning("watched folder %s: cannot move %s: %s", folder.path, dest, exc)
                return
        self._point_media(folder, entry, dest)
        reason_file = dest.with_name(dest.name + ".reason.txt")
        write_private_text(reason_file, " ".join(str(entry["failed"]).split()) + "\n")
        self._finish(folder, entry, None)

    def _queue(self, folder: WatchedFolder, entry: dict[str, Any], dest: Path) -> Queued:
        target = folder.target(entry.get("route"))
        ours = jobs_since(self.services, entry["sha"], int(entry["after_job"]))
        have = {job.account_id for job in ours}
        accounts = target_accounts(self.services, target)
        missing = [a for a in accounts if a.id not in have]
        kwargs: dict[str, Any] = {
            "caption": entry.get("caption"),
            "title": entry.get("title"),
            "at": entry.get("at") or "auto",
        }
        if not ours:
            return queue_file(self.services, dest, target, **kwargs)
        media = self.services.media.find(entry["sha"])
        result = Queued(media, jobs=list(ours))
        for account in missing:
            one = Target(account=str(account.id), route=target.route)
            try:
                queued = queue_file(self.services, dest, one, **kwargs)
            except DomainError as exc:
                result.refused.append((account.username, str(exc)))
                continue
            result.jobs += queued.jobs
            result.refused += queued.refused
        return result

    def _point_media(self, folder: WatchedFolder, entry: dict[str, Any], dest: Path) -> None:
        """A refused file's media item (if one was made) follows it to failed/."""
        if not entry.get("sha"):
            return
        try:
            media = self.services.media.find(entry["sha"])
        except NotFound:
            return
        if Path(media.path) != dest and not Path(media.path).exists():
            with contextlib.suppress(DomainError):
                self.services.media.add(dest)  # same content: only its path changes

    def _finish(self, folder: WatchedFolder, entry: dict[str, Any], line: str | None) -> None:
        when = datetime.now(UTC).isoformat()

        def write(state: dict[str, Any]) -> None:
            (state.get("pending") or {}).pop(entry["name"], None)
            if entry.get("failed") is not None:
                state["last_failed"] = {
                    "name": entry["name"],
                    "at": when,
                    "reason": entry["failed"],
                }
                state["failed"] = int(state.get("failed", 0)) + 1
            elif line is not None:
                state["last_taken"] = {"name": entry["name"], "at": when, "line": line}
                state["taken"] = int(state.get("taken", 0)) + 1

        update_state(self.services, folder.id, write)
        self.taken.append(entry["dest"])
        if entry.get("failed") is not None:
            log.warning(
                "watched folder %s: %s failed: %s", folder.path, entry["name"], entry["failed"]
            )
        elif line is not None:
            log.info("watched folder %s: %s queued: %s", folder.path, entry["name"], line)


def watched_folders(context: HostContext) -> FolderWatcher | None:
    """The engine's watcher, or None when this machine has no watched folder."""
    if not any(folder.here() for folder in load_folders(context.services)):
        return None
    return FolderWatcher(
        context.services,
        context.clock,
        events=bool(context.options.get("watch_events", True)),
    )
