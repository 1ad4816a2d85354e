"""A watched file's sidecar: its caption and choices, next to it under the same stem.

- `<stem>.txt`: the whole text (UTF-8, trimmed) is the caption.
- `<stem>.json`: an object with any of
  `caption` (text), `hashtags` (a list of words, or one text of words separated by
  spaces/commas; a leading # is optional), `at` or `scheduled_date` ("auto", "now" or an
  ISO 8601 date-time; naive is UTC), `route` (tiktok_api, upload_post, browser:
  overrides the folder's), `title` (the media library's name for it).
  Any other field, or a field of the wrong kind, is refused: one line per bad field.

Both files at once are refused (which one was meant?). A sidecar is at most 64 KB.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domain import fields as f
from ..domain.errors import ValidationError
from ..store.enums import JobRoute

MAX_BYTES = 64 * 1024
SIDECAR_SUFFIXES = (".txt", ".json")
JSON_FIELDS = ("caption", "hashtags", "at", "scheduled_date", "route", "title")
_TAG = re.compile(r"[^\s#,;]+")


class SidecarError(Exception):
    """What is wrong with a sidecar: one line per bad field, joined for a reason file."""

    def __init__(self, name: str, problems: list[str]) -> None:
        self.name = name
        self.problems = problems
        super().__init__("; ".join(f"{name}: {p}" for p in problems))


@dataclass(frozen=True)
class Sidecar:
    caption: str | None = None
    hashtags: tuple[str, ...] = ()
    at: str | None = None  # "auto", "now" or an ISO 8601 moment (UTC)
    route: str | None = None
    title: str | None = None

    def full_caption(self) -> str | None:
        tags = " ".join(f"#{t}" for t in self.hashtags)
        if self.caption is None and not tags:
            return None
        return " ".join(p for p in [self.caption or "", tags] if p)


def sidecars_of(video: Path) -> list[Path]:
    return [p for s in SIDECAR_SUFFIXES if (p := video.with_suffix(s)).is_file()]


def _text(data: bytes, name: str) -> str:
    if len(data) > MAX_BYTES:
        raise SidecarError(name, [f"is {len(data)} bytes; a sidecar holds at most {MAX_BYTES}"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SidecarError(name, [f"is not UTF-8 text (byte {exc.start})"]) from None


def parse_txt(data: bytes, name: str = "sidecar.txt") -> Sidecar:
    text = _text(data, name).strip()
    if "\x00" in text:
        raise SidecarError(name, ["holds a NUL character"])
    return Sidecar(caption=text or None)


def _check_text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{field} must be text")
    if "\x00" in value:
        raise ValueError(f"{field} holds a NUL character")
    if len(value) > limit:
        raise ValueError(f"{field} is {len(value)} characters; at most {limit}")
    return value.strip()


def parse_json(data: bytes, name: str = "sidecar.json") -> Sidecar:
    text = _text(data, name)
    try:
        raw = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise SidecarError(
            name, [f"is not JSON (line {line})" if line else "is not JSON"]
        ) from None
    if not isinstance(raw, dict):
        raise SidecarError(name, ["must be a JSON object"])
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key in raw:
        if key not in JSON_FIELDS:
            problems.append(f"unknown field {str(key)[:40]!r} (known: {', '.join(JSON_FIELDS)})")
    if "at" in raw and "scheduled_date" in raw:
        problems.append("at: give at or scheduled_date, not both")
    for key in JSON_FIELDS:
        if key not in raw or raw[key] is None:
            continue
        value = raw[key]
        try:
            if key == "caption":
                values["caption"] = _check_text(value, key, 2200) or None
            elif key == "title":
                values["title"] = _check_text(value, key, 300) or None
            elif key == "hashtags":
                if isinstance(value, str):
                    words = _TAG.findall(_check_text(value, key, 2200))
                elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                    words = [w for v in value for w in _TAG.findall(v)]
                else:
                    raise ValueError("hashtags must be a list of words or one text")
                values["hashtags"] = tuple(words)
            elif key == "route":
                route = _check_text(value, key, 40)
                if route not in [r.value for r in JobRoute]:
                    routes = ", ".join(r.value for r in JobRoute)
                    raise ValueError(f"route must be one of {routes}, got {route[:40]!r}")
                values["route"] = route
            else:  # at / scheduled_date
                when = _check_text(value, key, 60)
                if when.lower() in ("auto", "now"):
                    values["at"] = when.lower()
                else:
                    try:
                        moment = f.moment()(key, when)
                    except ValidationError:
                        moment = None
                    if moment is None:
                        raise ValueError(
                            f"{key} must be auto, now or an ISO 8601 date-time, got {when[:40]!r}"
                        )
                    values["at"] = moment.isoformat()
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise SidecarError(name, problems)
    return Sidecar(**values)


def read_sidecar(video: Path) -> tuple[Sidecar | None, list[Path]]:
    """The video's sidecar (None when it has none) and its files; SidecarError if bad."""
    found = sidecars_of(video)
    if len(found) > 1:
        raise SidecarError(found[0].name, [f"and {found[1].name} both exist: keep one"])
    if not found:
        return None, []
    path = found[0]
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SidecarError(path.name, [f"cannot be read: {exc.strerror}"]) from None
    parse = parse_json if path.suffix == ".json" else parse_txt
    return parse(data, path.name), found
