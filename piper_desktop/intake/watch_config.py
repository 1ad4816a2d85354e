"""Watched folders: what the operator configured, and what the watcher last did.

The folders live in the settings row `watch.folders` (a JSON list, see `parse_folders`);
each one names its target (an account or a group), its route, its caption template and
its slot rule. A folder belongs to the machine it was added on (`machine`): on a team
server every desktop shares the settings, but a path means something on one machine.

What the watcher did (per folder: its heartbeat, last file taken, last file failed,
and the journal of a file in progress, see intake/folders.py) is kept in the settings
row `watch.state`, written only by the watcher; the CLI and the GUI read it.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain.errors import NotFound, ValidationError
from ..domain.intake import Target
from ..domain.leases import machine_tag
from ..store.enums import JobRoute
from ..store.models import Setting

if TYPE_CHECKING:
    from ..domain.services import Services

FOLDERS_KEY = "watch.folders"
STATE_KEY = "watch.state"  # internal: not in settings.DEFS, never edited by hand
SLOT_RULES = ("auto", "now")
DONE_DIR = "done"
FAILED_DIR = "failed"

# the caption template's placeholders (literal braces: {{ and }})
PLACEHOLDERS: dict[str, str] = {
    "stem": "the file name without its extension",
    "name": "the file name",
    "ext": "the extension, without the dot",
    "folder": "the watched folder's own name",
    "date": "the day the file was taken, YYYY-MM-DD (this machine's time zone)",
    "time": "the time the file was taken, HH:MM",
}


def check_template(template: str) -> None:
    """ValidationError naming the first placeholder the template cannot fill."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValidationError(
            "caption_template", f"{exc} (write a literal brace as {{{{ or }}}})"
        ) from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            known = ", ".join("{" + k + "}" for k in PLACEHOLDERS)
            raise ValidationError(
                "caption_template", f"unknown placeholder {{{name}}}; known: {known}"
            )


def render_template(template: str, file: Path, folder: Path, taken: datetime) -> str:
    check_template(template)
    local = taken.astimezone()
    return template.format(
        stem=file.stem,
        name=file.name,
        ext=file.suffix.lstrip("."),
        folder=folder.name,
        date=local.strftime("%Y-%m-%d"),
        time=local.strftime("%H:%M"),
    )


@dataclass(frozen=True)
class WatchedFolder:
    id: str
    path: str
    account: str | None = None
    group: str | None = None
    route: str | None = None
    caption_template: str | None = None
    slot: str = "auto"
    machine: str = ""

    @property
    def folder(self) -> Path:
        return Path(self.path)

    def target(self, route: str | None = None) -> Target:
        return Target(account=self.account, group=self.group, route=route or self.route)

    def target_text(self) -> str:
        return f"account {self.account}" if self.account else f"group {self.group}"

    def here(self) -> bool:
        return self.machine == machine_tag()


def _entry(raw: Any, number: int) -> WatchedFolder:
    where = f"folder {number}"
    if not isinstance(raw, dict):
        raise ValidationError(FOLDERS_KEY, f"{where} must be an object")
    known = {k for k in WatchedFolder.__dataclass_fields__}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValidationError(FOLDERS_KEY, f"{where}: unknown field {unknown[0]!r}")
    for key in known:
        if key in raw and raw[key] is not None and not isinstance(raw[key], str):
            raise ValidationError(FOLDERS_KEY, f"{where}: {key} must be text")
    if not raw.get("id") or not raw.get("path"):
        raise ValidationError(FOLDERS_KEY, f"{where} needs an id and a path")
    folder = WatchedFolder(**raw)
    if (folder.account is None) == (folder.group is None):
        raise ValidationError(FOLDERS_KEY, f"{where}: give an account or a group")
    if folder.route is not None and folder.route not in [r.value for r in JobRoute]:
        raise ValidationError(FOLDERS_KEY, f"{where}: unknown route {folder.route!r}")
    if folder.slot not in SLOT_RULES:
        raise ValidationError(FOLDERS_KEY, f"{where}: slot must be auto or now")
    if folder.caption_template:
        check_template(folder.caption_template)
    return folder


def parse_folders(field: str, value: Any) -> list[dict[str, Any]] | None:
    """The setting's value: a list of folder objects (see WatchedFolder)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError(field, "must be a JSON list of folders") from None
    if not isinstance(value, list):
        raise ValidationError(field, "must be a JSON list of folders")
    return [asdict(_entry(raw, number)) for number, raw in enumerate(value, start=1)]


def load_folders(services: Services) -> list[WatchedFolder]:
    return [WatchedFolder(**raw) for raw in services.settings.get(FOLDERS_KEY) or []]


def _inside(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def add_folder(
    services: Services,
    path: str | Path,
    *,
    account: str | None = None,
    group: str | None = None,
    route: str | None = None,
    caption_template: str | None = None,
    slot: str = "auto",
) -> WatchedFolder:
    """Watch `path` for `account` or `group`; ValidationError names what is wrong."""
    raw = Path(path).expanduser()
    if not raw.exists():
        raise ValidationError("folder", f"no such folder: {raw}")
    if not raw.is_dir():
        raise ValidationError("folder", f"not a folder: {raw}")
    folder = raw.resolve()
    target = Target(account=account, group=group, route=route)  # one of the two
    if target.account is not None:
        try:
            services.accounts.find(target.account)
        except NotFound:
            raise ValidationError("account", f"no account {target.account!r}") from None
    elif not services.accounts.list(group=target.group):
        raise ValidationError("group", f"no accounts in group {target.group!r}")
    if route is not None and route not in [r.value for r in JobRoute]:
        raise ValidationError("route", f"must be one of {', '.join(r.value for r in JobRoute)}")
    if slot not in SLOT_RULES:
        raise ValidationError("slot", "must be auto or now")
    if caption_template:
        check_template(caption_template)
    folders = load_folders(services)
    for other in folders:
        if not other.here():
            continue
        if _inside(folder, other.folder):
            raise ValidationError("folder", f"{folder} is inside the watched folder {other.path}")
        if _inside(other.folder, folder):
            raise ValidationError("folder", f"{folder} holds the watched folder {other.path}")
    entry = WatchedFolder(
        id=secrets.token_hex(3),
        path=str(folder),
        account=account,
        group=group,
        route=route,
        caption_template=caption_template or None,
        slot=slot,
        machine=machine_tag(),
    )
    services.settings.set(FOLDERS_KEY, [asdict(f) for f in [*folders, entry]])
    return entry


def remove_folder(services: Services, ref: str) -> WatchedFolder:
    """By id or path; the folder's files stay where they are."""
    folders = load_folders(services)
    resolved = str(Path(ref).expanduser().resolve())
    for folder in folders:
        if folder.id == ref or (folder.here() and folder.path == resolved):
            rest = [asdict(f) for f in folders if f.id != folder.id]
            services.settings.set(FOLDERS_KEY, rest or None)
            return folder
    raise ValidationError("folder", f"no watched folder {ref!r} (see 'piper watch list')")


# --- what the watcher did ----------------------------------------------------------------------
def read_state(services: Services) -> dict[str, dict[str, Any]]:
    with services.db.session() as session:
        row = session.get(Setting, STATE_KEY)
        value = row.value if row is not None else None
    return value if isinstance(value, dict) else {}


def update_state(
    services: Services, folder_id: str, change: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Read, change and write one folder's state in one write transaction (two watchers
    of the same data dir take turns rather than overwrite each other)."""
    with services.db.write() as session:
        row = session.get(Setting, STATE_KEY)
        # a deep copy: changed in place, the loaded value would equal the new one and
        # SQLAlchemy would write nothing (a journal entry lost to a kill -9 showed it)
        old = row.value if row is not None and isinstance(row.value, dict) else {}
        whole = json.loads(json.dumps(old))
        mine = whole.get(folder_id) or {}
        change(mine)
        whole[folder_id] = mine
        if row is None:
            session.add(Setting(key=STATE_KEY, value=whole, is_secret=False))
        else:
            row.value = whole
        return mine


# --- which files a folder offers -----------------------------------------------------------
# names a download or an editor is still writing (renamed when finished)
PARTIAL_SUFFIXES = (".part", ".partial", ".crdownload", ".tmp", ".download")


def is_partial(name: str) -> bool:
    lower = name.lower()
    return (
        lower.startswith((".", "~"))
        or lower.endswith("~")
        or any(lower.endswith(s) for s in PARTIAL_SUFFIXES)
    )


def candidates(folder: Path) -> list[Path]:
    """The videos directly in `folder` that may be taken (sorted; done/ and failed/
    are folders, so never listed)."""
    from ..domain.mediafile import VIDEO_SUFFIXES

    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    return [
        p
        for p in entries
        if p.suffix.lower() in VIDEO_SUFFIXES and not is_partial(p.name) and p.is_file()
    ]


def folder_status(services: Services, folder: WatchedFolder, now: datetime) -> dict[str, Any]:
    """What the CLI and the GUI show of a folder: watched?, files waiting, last taken,
    last failed (with its reason)."""
    state = read_state(services).get(folder.id, {})
    seen = state.get("seen_at")
    every = int(services.settings.get("watch.scan_seconds"))
    fresh = False
    if isinstance(seen, str):
        try:
            fresh = (now - datetime.fromisoformat(seen)).total_seconds() <= 3 * every + 5
        except ValueError:
            fresh = False
    if not folder.here():
        watching = "on another machine"
    elif not folder.folder.is_dir():
        watching = "folder missing"
    else:
        watching = "watching" if fresh else "not watched (the engine is not running)"
    return {
        "id": folder.id,
        "path": folder.path,
        "target": folder.target_text(),
        "route": folder.route or "account's first",
        "caption_template": folder.caption_template or "",
        "slot": folder.slot,
        "status": watching,
        "waiting": len(candidates(folder.folder)) if folder.here() else 0,
        "last_taken": state.get("last_taken"),
        "last_failed": state.get("last_failed"),
    }
