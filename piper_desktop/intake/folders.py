"""Watched folders, hosted by the engine (engine/hosted.py): a finished video dropped
into a watched folder is queued on the folder's account or group
(`domain/intake.queue_file`), then moved to `done/` (or to `failed/` with
`<name>.reason.txt` saying why in one line). Folders and rules: domain/watch_folders.py.

Finding files: watchdog's events wake the watcher at once; a full scan every
`watch.scan_seconds` catches what events miss (network drives, a full inotify table,
files already there at start). A file is taken only when finished: its size and mtime
unchanged for `watch.stable_seconds` on the engine's clock, no partial-download name,
and it opens for reading.

Exactly once across a `kill -9`: a file is known by (folder, content) as the origin ref
"<folder id>:<sha256>". A claim row is written before queueing (`origins.claim`); the
jobs' origin rows and the media item's new path (in done/) are written in one
transaction (`origins.settle`), and only then is the file renamed into done/. A crash
before the settle leaves the file in place and the claim: the next round adopts the jobs
already made. A crash after it finds the content already queued from this folder, and
just moves the file to where the media item says it is.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import origins
from ..domain import watch_folders as wf
from ..domain.errors import DomainError
from ..domain.intake import Queued, Target, queue_file, target_accounts
from ..domain.leases import machine_tag
from ..domain.mediafile import VIDEO_SUFFIXES
from ..domain.services import Services
from ..engine.hosted import HostContext
from ..engine.singleton import Singleton
from ..logs import get_logger
from ..owner_only import write_private_text
from ..store.models import MediaItem

log = get_logger("intake")

SOURCE = "folder"
TICK = 0.25  # real seconds between rounds when no event wakes the watcher
PARTIAL_SUFFIXES = (".part", ".crdownload", ".tmp", ".download", ".partial")
SIDECAR_SUFFIXES = (".json", ".txt")


def watched_folders(context: HostContext) -> FolderWatcher | None:
    """The hosted watcher, or None while no folder is watched."""
    folders = wf.watched(context.services.settings)
    if not folders:
        return None
    return FolderWatcher(context, folders)


def partial_name(path: Path) -> bool:
    name = path.name
    return (
        name.startswith(".")
        or name.startswith("~")
        or name.endswith("~")
        or path.suffix.lower() in PARTIAL_SUFFIXES
    )


def unique_in(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/stem-2.ext`… when that is taken."""
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{number}{suffix}"
        number += 1
    return candidate


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def opens(path: Path) -> bool:
    # a file another program still holds open for writing cannot be opened on Windows
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError:
        return False
    return True


@dataclass
class Seen:
    size: int
    mtime_ns: int
    sidecar_ns: int  # the sidecar's mtime (0: none): one written late is waited for too
    since: float  # the engine clock's monotonic time it was first seen like this


class FolderWatcher:
    name = "folders"

    def __init__(self, context: HostContext, folders: list[wf.WatchedFolder]) -> None:
        self.context = context
        self.services: Services = context.services
        self.clock = context.clock
        settings = self.services.settings
        self.folders = folders
        self.stable = float(settings.get("watch.stable_seconds") or 5)
        self.scan_every = float(settings.get("watch.scan_seconds") or 30)
        self.use_events = bool(context.options.get("watch_events", True))
        self.seen: dict[Path, Seen] = {}
        # files that could not be moved (no permission): left alone until they change
        self.stuck: dict[Path, tuple[int, int, int]] = {}
        self.candidates: set[Path] = set()
        self.rounds = 0
        self.taken = 0
        self.failed = 0
        self.events_on = False
        self._next_scan = 0.0
        self._lock = threading.Lock()
        self._round_done = threading.Condition()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._observer: Any = None
        self._handler: Any = None
        self._thread = threading.Thread(target=self._run, name="piper-folders", daemon=True)
        self._one = Singleton(self.services.db, context.data_dir, f"watch-{machine_tag()}")

    # --- Hosted ------------------------------------------------------------------------------
    def start(self) -> None:
        if self.use_events:
            self._start_events()
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(5.0)
        self._thread.join(30.0)
        self._one.release()

    def status(self) -> str:
        how = "events and scans" if self.events_on else "scans only"
        with self._lock:
            waiting = len(self.seen)
        return (
            f"watching {len(self.folders)} folder(s) ({how}); {waiting} file(s) waiting; "
            f"{self.taken} taken, {self.failed} failed"
        )

    def wait_rounds(self, count: int = 1, timeout: float = 30.0) -> bool:
        """Wait until `count` more rounds have run (tests wait on this, not on time)."""
        with self._round_done:
            goal = self.rounds + count
            return self._round_done.wait_for(lambda: self.rounds >= goal, timeout)

    # --- finding files -----------------------------------------------------------------------
    def _start_events(self) -> None:
        try:
            from watchdog.events import FileSystemEvent, FileSystemEventHandler
            from watchdog.observers import Observer

            watcher = self

            class Handler(FileSystemEventHandler):
                def on_any_event(self, event: FileSystemEvent) -> None:
                    if event.is_directory:
                        return
                    for raw in (event.src_path, getattr(event, "dest_path", "")):
                        if raw:
                            watcher._event(Path(str(raw)))

            observer = Observer()
            self._handler = Handler()
            for folder in self.folders:
                if folder.path.is_dir():
                    observer.schedule(self._handler, str(folder.path), recursive=False)
            observer.daemon = True
            observer.start()
        except Exception as exc:  # e.g. the inotify watch limit: the scans still find files
            log.warning("watched folders: no file events (%s); scanning only", exc)
            return
        self._observer = observer
        self.events_on = True

    def _event(self, path: Path) -> None:
        with self._lock:
            self.candidates.add(path)
        self._wake.set()

    def _refresh_folders(self) -> None:
        """Folders added or removed (CLI, GUI) while the engine runs are picked up."""
        current = wf.watched(self.services.settings)
        if [(f.id, f.path) for f in current] == [(f.id, f.path) for f in self.folders]:
            self.folders = current  # a target or template may have changed
            return
        self.folders = current
        if self._observer is not None:
            self._observer.unschedule_all()
            for folder in current:
                if folder.path.is_dir():
                    self._observer.schedule(self._handler, str(folder.path), recursive=False)

    def _scan(self) -> None:
        self._refresh_folders()
        with self._lock:
            self.stuck.clear()  # each full scan tries a file that could not be moved again
        found: set[Path] = set()
        for folder in self.folders:
            try:
                entries = list(folder.path.iterdir())
            except OSError:
                continue  # a network drive away: next scan
            found.update(p for p in entries if p.is_file())
        with self._lock:
            self.candidates |= found

    # --- the rounds --------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._round()
            except Exception:  # the watcher must never take the engine down
                log.exception("watched folders: a round failed")
            with self._round_done:
                self.rounds += 1
                self._round_done.notify_all()
            self._wake.wait(TICK)
            self._wake.clear()

    def _round(self) -> None:
        # one watcher per machine (two engines of this data dir or of a team on this
        # machine would race for the same files): the others wait, and take over
        if not self._one.try_acquire():
            with self._lock:
                self.candidates = set()
                self.seen.clear()
            return
        now = self.clock.monotonic()
        if now >= self._next_scan:
            self._scan()
            self._next_scan = now + self.scan_every
        with self._lock:
            paths = self.candidates | set(self.seen)
            self.candidates = set()
        for path in sorted(paths):
            if self._stopping.is_set():
                return
            folder = self._folder_of(path)
            if folder is None or not self._wanted(path):
                with self._lock:
                    self.seen.pop(path, None)
                continue
            if self._finished(path, now):
                with self._lock:
                    self.seen.pop(path, None)
                try:
                    self._take(folder, path)
                except OSError as exc:
                    log.warning(
                        "watched folder %s: cannot move %s: %s", folder.path, path.name, exc
                    )
                    self._stick(path)

    def _stick(self, path: Path) -> None:
        try:
            info = path.stat()
        except OSError:
            return
        sidecar = self._sidecar(path)
        sidecar_ns = sidecar.stat().st_mtime_ns if sidecar is not None else 0
        with self._lock:
            self.stuck[path] = (info.st_size, info.st_mtime_ns, sidecar_ns)

    def _folder_of(self, path: Path) -> wf.WatchedFolder | None:
        for folder in self.folders:
            if path.parent == folder.path:
                return folder
        return None

    @staticmethod
    def _wanted(path: Path) -> bool:
        return path.suffix.lower() in VIDEO_SUFFIXES and not partial_name(path)

    def _finished(self, path: Path, now: float) -> bool:
        try:
            info = path.stat()
        except OSError:
            with self._lock:
                self.seen.pop(path, None)
            return False
        sidecar = self._sidecar(path)
        try:
            sidecar_ns = sidecar.stat().st_mtime_ns if sidecar is not None else 0
        except OSError:
            sidecar_ns = 0
        shape = (info.st_size, info.st_mtime_ns, sidecar_ns)
        with self._lock:
            if path in self.stuck:
                if self.stuck[path] == shape:
                    return False  # could not be moved; tried again once it changes
                del self.stuck[path]
            seen = self.seen.get(path)
            if seen is None or (seen.size, seen.mtime_ns, seen.sidecar_ns) != shape:
                self.seen[path] = Seen(*shape, now)
                return False
        return now - seen.since >= self.stable and opens(path)

    # --- taking a file -----------------------------------------------------------------------
    def _take(self, folder: wf.WatchedFolder, path: Path) -> None:
        db = self.services.db
        try:
            ref = f"{folder.id}:{sha256_file(path)}"
        except OSError:
            return  # gone or unreadable now: the next round sees
        if origins.handled(db, SOURCE, ref):
            self._move_done(path, ref)  # queued before a crash; only the move was lost
            return
        sidecar_path = self._sidecar(path)
        try:
            sidecar = self._read_sidecar(sidecar_path)
            target = folder.target
            if sidecar.route:
                target = Target(target.account, target.group, sidecar.route)
            caption = wf.full_caption(
                sidecar.caption
                or wf.render_caption(
                    folder.caption_template, path, folder.path, self.clock.now().astimezone(UTC)
                ),
                sidecar.hashtags,
            )
            claim = origins.claim(db, SOURCE, ref)
            queued = self._queue(claim, path, target, caption, sidecar.at or folder.at)
        except DomainError as exc:
            origins.settle(db, SOURCE, ref, [])
            self._fail(folder, path, sidecar_path, str(exc))
            return
        if not queued.jobs:
            origins.settle(db, SOURCE, ref, [])
            self._fail(folder, path, sidecar_path, queued.line())
            return
        done = unique_in(self._sub(folder, wf.DONE), path.name)
        media_id = queued.media.id
        origins.settle(
            db,
            SOURCE,
            ref,
            [job.id for job in queued.jobs],
            also=lambda session: self._repoint(session, media_id, done),
        )
        self._rename(path, done)
        if sidecar_path is not None:
            self._rename(sidecar_path, unique_in(done.parent, done.stem + sidecar_path.suffix))
        self.taken += 1
        line = f"{path.name} at {self.clock.now().isoformat(timespec='seconds')}: {queued.line()}"
        wf.record(self.services.settings, folder.id, "taken", line)
        log.info("watched folder %s: took %s (%s)", folder.path, path.name, queued.line())

    def _queue(
        self, claim: origins.Claim, path: Path, target: Target, caption: str | None, at: str
    ) -> Queued:
        now = self.clock.now()
        if not claim.resumed:
            return queue_file(self.services, path, target, caption=caption, at=at, now=now)
        # an earlier run stopped while queueing this file: keep its jobs, add the rest
        accounts = target_accounts(self.services, target)
        media, _ = self.services.media.add(path)
        made = origins.made_since(self.services.db, claim, media.id, [a.id for a in accounts])
        queued = Queued(media, [self.services.jobs.get(job_id) for job_id in made.values()])
        for account in accounts:
            if account.id in made:
                continue
            one = Target(str(account.id), None, target.route)
            more = queue_file(self.services, path, one, caption=caption, at=at, now=now)
            queued.jobs += more.jobs
            queued.refused += more.refused
        return queued

    @staticmethod
    def _repoint(session: Session, media_id: int, path: Path) -> None:
        item = session.get(MediaItem, media_id)
        if item is not None:
            item.path = str(path)

    def _move_done(self, path: Path, ref: str) -> None:
        """The content was queued from this folder: move it where its media item points."""
        folder = self._folder_of(path)
        assert folder is not None
        digest = ref.partition(":")[2]
        with self.services.db.write() as session:
            item = session.scalar(select(MediaItem).where(MediaItem.sha256 == digest))
            done_dir = self._sub(folder, wf.DONE)
            known = Path(item.path) if item is not None else None
            if known is not None and known.parent == done_dir and not known.exists():
                dest = known  # the settle named it: only the rename was lost
            else:
                dest = unique_in(done_dir, path.name)
                if item is not None and (known == path or not Path(item.path).exists()):
                    item.path = str(dest)
        self._rename(path, dest)
        sidecar = self._sidecar(path)
        if sidecar is not None:
            self._rename(sidecar, unique_in(done_dir, dest.stem + sidecar.suffix))
        self.taken += 1
        line = f"{path.name} at {self.clock.now().isoformat(timespec='seconds')}: queued before"
        wf.record(self.services.settings, folder.id, "taken", line)

    def _fail(
        self, folder: wf.WatchedFolder, path: Path, sidecar: Path | None, reason: str
    ) -> None:
        reason = " ".join(reason.split())  # one line
        failed = unique_in(self._sub(folder, wf.FAILED), path.name)
        self._rename(path, failed)
        if sidecar is not None:
            self._rename(sidecar, unique_in(failed.parent, failed.stem + sidecar.suffix))
        note = unique_in(failed.parent, failed.name + ".reason.txt")
        write_private_text(note, reason + "\n")
        self.failed += 1
        wf.record(self.services.settings, folder.id, "failed", f"{path.name}: {reason}")
        log.warning("watched folder %s: %s failed: %s", folder.path, path.name, reason)

    @staticmethod
    def _sidecar(path: Path) -> Path | None:
        for suffix in SIDECAR_SUFFIXES:
            candidate = path.with_suffix(suffix)
            if candidate.is_file():
                return candidate
        return None

    @staticmethod
    def _read_sidecar(path: Path | None) -> wf.Sidecar:
        if path is None:
            return wf.Sidecar()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            from ..domain.errors import ValidationError

            raise ValidationError("sidecar", f"{path.name} cannot be read: {exc}") from None
        return wf.parse_sidecar(text, path.suffix)

    @staticmethod
    def _sub(folder: wf.WatchedFolder, name: str) -> Path:
        sub = folder.path / name
        sub.mkdir(exist_ok=True)
        return sub

    @staticmethod
    def _rename(src: Path, dest: Path) -> None:
        src.replace(dest)
