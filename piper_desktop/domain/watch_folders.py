"""Watched folders (issue 20): where each one's videos go, how their captions are made,
and what a sidecar file may say.

Kept in the setting `watch.folders` as {"<id>": {"path": P, "account"|"group": NAME,
"route": R?, "caption_template": T?, "at": "auto"|"now"}}; `piper watch add|list|rm`
and the GUI's Watched folders box change it through `add` / `remove`, which check the
folder and the target before storing them. The watcher itself is intake/folders.py.

Caption template placeholders: {stem} (the file name without its suffix), {name} (the
file name), {folder} (the watched folder's name), {date} (the day the file is taken,
YYYY-MM-DD, UTC). A sidecar's caption wins over the template.

Sidecar: `<stem>.txt` holds the caption; `<stem>.json` is an object with any of
caption (text), hashtags (a list of words, or one text of words), at or scheduled_date
("auto", "now" or an ISO date-time) and route (one of the job routes).
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import NotFound, ValidationError
from .intake import Target, target_accounts
from .telegram_chats import parse_route

if TYPE_CHECKING:
    from .services import Services
    from .settings import SettingsService

KEY = "watch.folders"
LAST_KEY = "watch.last"
PLACEHOLDERS = ("stem", "name", "folder", "date")
AT_RULES = ("auto", "now")
DONE, FAILED = "done", "failed"
SIDECAR_KEYS = ("caption", "hashtags", "at", "scheduled_date", "route")
MAX_CAPTION = 5000


@dataclass(frozen=True)
class WatchedFolder:
    id: int
    path: Path
    target: Target
    caption_template: str | None = None
    at: str = "auto"

    def line(self) -> str:
        template = f", caption {self.caption_template!r}" if self.caption_template else ""
        return f"{self.id}  {self.path}  → {self.target.describe()}, slot {self.at}{template}"


@dataclass
class Sidecar:
    caption: str | None = None
    hashtags: list[str] = field(default_factory=list)
    at: str | None = None
    route: str | None = None


def check_template(template: str | None, field_name: str = "caption_template") -> str | None:
    """The template, or ValidationError naming the first unknown placeholder."""
    if template is None or not template.strip():
        return None
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValidationError(field_name, f"{exc} (write {{{{ and }}}} for braces)") from None
    for _text, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ValidationError(field_name, f"unknown placeholder {{{name}}}: use {known}")
        if spec or conversion:
            raise ValidationError(field_name, f"{{{name}}} takes no format or conversion")
    return template


def render_caption(template: str | None, file: Path, folder: Path, now: datetime) -> str | None:
    if not template:
        return None
    values = {
        "stem": file.stem,
        "name": file.name,
        "folder": folder.name,
        "date": now.strftime("%Y-%m-%d"),
    }
    return template.format(**values).strip() or None


def parse_sidecar(text: str, suffix: str) -> Sidecar:
    """A sidecar's content (`.txt` or `.json`), or ValidationError naming the field."""
    if suffix == ".txt":
        plain = text.strip()
        if len(plain) > MAX_CAPTION:
            raise ValidationError("caption", f"longer than {MAX_CAPTION} characters")
        return Sidecar(caption=plain or None)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationError("sidecar", f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError("sidecar", 'must be a JSON object, e.g. {"caption": "…"}')
    for key in data:
        if key not in SIDECAR_KEYS:
            raise ValidationError(str(key), f"unknown field; use {', '.join(SIDECAR_KEYS)}")
    out = Sidecar()
    caption = data.get("caption")
    if caption is not None:
        if not isinstance(caption, str):
            raise ValidationError("caption", "must be text")
        if len(caption) > MAX_CAPTION:
            raise ValidationError("caption", f"longer than {MAX_CAPTION} characters")
        out.caption = caption.strip() or None
    tags = data.get("hashtags")
    if tags is not None:
        if isinstance(tags, str):
            tags = tags.replace(",", " ").split()
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ValidationError("hashtags", "must be a list of words")
        words = [t.strip().lstrip("#") for t in tags if t.strip().lstrip("#")]
        for word in words:
            if any(c.isspace() or c == "#" for c in word):
                raise ValidationError("hashtags", f"{word!r} is not one word")
        out.hashtags = words
    if "at" in data and "scheduled_date" in data:
        raise ValidationError("at", "give at or scheduled_date, not both")
    at = data.get("at", data.get("scheduled_date"))
    at_field = "at" if "at" in data else "scheduled_date"
    if at is not None:
        if not isinstance(at, str):
            raise ValidationError(at_field, "must be auto, now or an ISO date-time")
        if at not in AT_RULES:
            try:
                moment = datetime.fromisoformat(at)
            except ValueError:
                raise ValidationError(
                    at_field, f"{at!r} is not auto, now or an ISO date-time"
                ) from None
            if moment.tzinfo is None:
                raise ValidationError(at_field, "give the time zone, e.g. 2030-01-07T18:00+01:00")
        out.at = at
    route = data.get("route")
    if route is not None:
        if not isinstance(route, str):
            raise ValidationError("route", "must be text")
        out.route = parse_route(route)
    return out


def full_caption(base: str | None, hashtags: list[str]) -> str | None:
    tags = " ".join("#" + tag for tag in hashtags)
    joined = " ".join(part for part in (base or "", tags) if part)
    return joined or None


# --- the setting ------------------------------------------------------------------------------
def _folder(field_name: str, key: str, value: Any) -> WatchedFolder:
    allowed = {"path", "account", "group", "route", "caption_template", "at"}
    if not isinstance(value, dict) or set(value) - allowed or not value.get("path"):
        raise ValidationError(field_name, "each folder needs {path, account or group, route?}")
    if not str(key).isdigit():
        raise ValidationError(field_name, f"folder id {key!r} is not a number")
    names = {k: v for k, v in value.items() if isinstance(v, str) and v}
    at = names.get("at", "auto")
    if at not in AT_RULES:
        raise ValidationError(field_name, "at must be auto or now")
    try:
        target = Target(names.get("account"), names.get("group"), parse_route(names.get("route")))
        template = check_template(names.get("caption_template"))
    except ValidationError as exc:
        raise ValidationError(field_name, f"{exc.field}: {exc.reason}") from None
    return WatchedFolder(int(key), Path(names["path"]), target, template, at)


def _stored(folder: WatchedFolder) -> dict[str, str]:
    target = folder.target
    stored = {"path": str(folder.path)}
    stored |= {"account": target.account} if target.account else {"group": str(target.group)}
    if target.route:
        stored["route"] = target.route
    if folder.caption_template:
        stored["caption_template"] = folder.caption_template
    stored["at"] = folder.at
    return stored


def parse_folders(field_name: str, value: Any) -> dict[str, dict[str, str]] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError(field_name, "must be a JSON object") from None
    if not isinstance(value, dict):
        raise ValidationError(field_name, "must map folder ids to {path, account or group}")
    return {str(k): _stored(_folder(field_name, str(k), v)) for k, v in value.items()}


def watched(settings: SettingsService) -> list[WatchedFolder]:
    stored = settings.get(KEY) or {}
    out = []
    for key, value in stored.items():
        try:
            out.append(_folder(KEY, key, value))
        except ValidationError:
            continue  # stored by hand and broken: that folder is not watched
    return sorted(out, key=lambda f: f.id)


def _inside(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def add(
    services: Services,
    folder: str | Path,
    *,
    account: str | None = None,
    group: str | None = None,
    route: str | None = None,
    caption_template: str | None = None,
    at: str = "auto",
) -> WatchedFolder:
    """Watch `folder`, queueing its videos on the account or group (checked now)."""
    raw = str(folder).strip()
    if not raw:
        raise ValidationError("folder", "give the folder to watch")
    path = Path(raw).expanduser()
    if not path.exists():
        raise ValidationError("folder", f"no such folder: {path}")
    if not path.is_dir():
        raise ValidationError("folder", f"not a folder: {path}")
    path = path.resolve()
    if account is not None and not account.strip():
        raise ValidationError("account", "give the account's name")
    if group is not None and not group.strip():
        raise ValidationError("group", "give the group's name")
    if at not in AT_RULES:
        raise ValidationError("at", "must be auto (the next free slot) or now")
    template = check_template(caption_template)
    target = Target(account, group, parse_route(route))
    target_accounts(services, target)  # an unknown account or an empty group is refused
    if target.account:
        found = services.accounts.find(target.account)
        target = Target(f"{found.platform}:{found.username}", None, target.route)
    current = watched(services.settings)
    for other in current:
        if _inside(path, other.path):
            raise ValidationError("folder", f"{path} is inside the watched folder {other.path}")
        if _inside(other.path, path):
            raise ValidationError("folder", f"{path} holds the watched folder {other.path}")
    new = WatchedFolder(max((f.id for f in current), default=0) + 1, path, target, template, at)
    services.settings.set(KEY, {str(f.id): _stored(f) for f in [*current, new]})
    return new


def find(settings: SettingsService, ref: str | Path) -> WatchedFolder:
    text = str(ref).strip()
    for folder in watched(settings):
        if text == str(folder.id):
            return folder
    resolved = Path(text).expanduser().resolve()
    for folder in watched(settings):
        if folder.path == resolved:
            return folder
    raise NotFound("watched folder", text)


def remove(services: Services, ref: str | Path) -> WatchedFolder:
    gone = find(services.settings, ref)
    rest = {str(f.id): _stored(f) for f in watched(services.settings) if f.id != gone.id}
    services.settings.set(KEY, rest or None)
    return gone


# --- what happened in each folder (written by the watcher, shown by the GUI and CLI) ---------
@dataclass(frozen=True)
class FolderStatus:
    watching: str  # "watching", or why not
    waiting: int
    last_taken: str | None
    last_failed: str | None


def parse_last(field_name: str, value: Any) -> dict[str, dict[str, str]] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError(field_name, "must be a JSON object") from None
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ValidationError(field_name, "must map folder ids to {taken?, failed?}")
    return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in value.items()}


def record(settings: SettingsService, folder_id: int, kind: str, line: str) -> None:
    last = dict(settings.get(LAST_KEY) or {})
    entry = dict(last.get(str(folder_id), {}))
    entry[kind] = line
    last[str(folder_id)] = entry
    settings.set(LAST_KEY, last)


def status(settings: SettingsService, folder: WatchedFolder) -> FolderStatus:
    from .mediafile import VIDEO_SUFFIXES

    if not folder.path.is_dir():
        state = f"missing folder: {folder.path}"
        waiting = 0
    else:
        state = "watching"
        waiting = sum(
            1 for p in folder.path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
        )
    entry = (settings.get(LAST_KEY) or {}).get(str(folder.id), {})
    return FolderStatus(state, waiting, entry.get("taken"), entry.get("failed"))
