"""Field parsers shared by CRUD, importers, the CLI and the GUI's dialogs.

Every parser takes the raw value (text from a CSV cell or CLI flag, or a JSON value) and
returns the typed value or raises ValidationError naming the field.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .errors import ValidationError

T = TypeVar("T")
# A parser of one field's raw value (anything a CSV cell, a CLI flag or JSON may hold)
# into a T, or None when blank; Parser is any field's parser, whatever it returns.
ParserOf = Callable[[str, Any], T | None]
Parser = ParserOf[object]

_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def shown(value: Any, limit: int = 40) -> str:
    """A value for a message: repr'd (control characters visible) and cut short."""
    result = repr(value)
    return result if len(result) <= limit else result[: limit - 4] + "...'"


# line breaks and tabs are text (captions, notes) unless a field is one line (a name)
_LINE_BREAKS = frozenset("\t\n\r")


def check_characters(field: str, value: str, *, single_line: bool = False) -> None:
    """Refuse what cannot be stored or shown as text: NUL and the other control
    characters (line breaks and tabs too in a one-line field), and lone surrogates."""
    if value.isprintable():  # the usual case, checked at C speed
        return
    for char in value:
        if char.isprintable() or char == " ":
            continue
        category = unicodedata.category(char)
        if category == "Cs":
            raise ValidationError(field, "is not valid Unicode text (a lone surrogate)")
        if category == "Cc" and (single_line or char not in _LINE_BREAKS):
            name = "NUL" if char == "\0" else f"U+{ord(char):04X}"
            raise ValidationError(field, f"contains a control character ({name})")


def text(
    max_len: int = 255,
    *,
    required: bool = False,
    pattern: str | None = None,
    single_line: bool = False,
) -> ParserOf[str]:
    regex = re.compile(pattern) if pattern else None

    def parse(field: str, value: Any) -> str | None:
        if blank(value):
            if required:
                raise ValidationError(field, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationError(field, "must be text")
        result = str(value).strip()
        if len(result) > max_len:
            raise ValidationError(field, f"is longer than {max_len} characters")
        check_characters(field, result, single_line=single_line)
        if regex and not regex.fullmatch(result):
            raise ValidationError(field, f"has an invalid format: {shown(result)}")
        return result

    return parse


def secret(max_len: int = 1000) -> ParserOf[str]:
    def parse(field: str, value: Any) -> str | None:
        if blank(value):
            return None
        if not isinstance(value, str):
            raise ValidationError(field, "must be text")
        if len(value) > max_len:
            raise ValidationError(field, f"is longer than {max_len} characters")
        # NUL cuts a password short where C code reads it (Chromium, SQLite, HTTP
        # clients) and no login form takes control characters: refused, never echoed
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise ValidationError(field, "must not contain control characters (such as NUL)")
        if any(unicodedata.category(c) == "Cs" for c in value):
            raise ValidationError(field, "is not valid Unicode text (a lone surrogate)")
        return value

    return parse


def integer(minimum: int | None = None, maximum: int | None = None) -> ParserOf[int]:
    def parse(field: str, value: Any) -> int | None:
        if blank(value):
            return None
        if isinstance(value, bool):
            raise ValidationError(field, "must be a whole number")
        try:
            result = int(str(value).strip()) if not isinstance(value, int) else value
        except ValueError:
            raise ValidationError(field, f"must be a whole number, got {shown(value)}") from None
        if minimum is not None and result < minimum:
            raise ValidationError(field, f"must be at least {minimum}")
        if maximum is not None and result > maximum:
            raise ValidationError(field, f"must be at most {maximum}")
        return result

    return parse


def number(minimum: float | None = None, maximum: float | None = None) -> ParserOf[float]:
    def parse(field: str, value: Any) -> float | None:
        if blank(value):
            return None
        if isinstance(value, bool):
            raise ValidationError(field, "must be a number")
        try:
            result = float(value)
        except (TypeError, ValueError, OverflowError):
            raise ValidationError(field, f"must be a number, got {shown(value)}") from None
        if not math.isfinite(result):
            raise ValidationError(field, "must be a finite number")
        if minimum is not None and result < minimum:
            raise ValidationError(field, f"must be at least {minimum}")
        if maximum is not None and result > maximum:
            raise ValidationError(field, f"must be at most {maximum}")
        return result

    return parse


def boolean() -> ParserOf[bool]:
    def parse(field: str, value: Any) -> bool | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False if lowered else None
        raise ValidationError(field, f"must be true or false, got {shown(value)}")

    return parse


def choice(enum: type[StrEnum]) -> ParserOf[str]:
    allowed = [member.value for member in enum]

    def parse(field: str, value: Any) -> str | None:
        if blank(value):
            return None
        lowered = str(value).strip().lower()
        if lowered not in allowed:
            raise ValidationError(field, f"must be one of {', '.join(allowed)}, got {shown(value)}")
        return lowered

    return parse


def clock_time() -> ParserOf[time]:
    def parse(field: str, value: Any) -> time | None:
        if blank(value):
            return None
        if isinstance(value, time):
            return value
        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", str(value).strip())
        if not match:
            raise ValidationError(field, f"must be a time HH:MM, got {shown(value)}")
        hour, minute = int(match[1]), int(match[2])
        if hour > 23 or minute > 59:
            raise ValidationError(field, f"must be a time HH:MM, got {shown(value)}")
        return time(hour, minute)

    return parse


_ZONES: set[str] | None = None


def timezone_name() -> ParserOf[str]:
    def parse(field: str, value: Any) -> str | None:
        global _ZONES
        if blank(value):
            return None
        if not isinstance(value, str):
            raise ValidationError(field, "must be a time zone name such as Europe/Berlin")
        name = value.strip()
        if _ZONES is None:
            _ZONES = available_timezones() | {"UTC"}
        if name not in _ZONES:
            check_characters(field, name, single_line=True)
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise ValidationError(field, f"unknown time zone {shown(name)}") from None
        return name

    return parse


def string_list(separators: str = ";,|") -> ParserOf[list[str]]:
    split = re.compile("[" + re.escape(separators) + "]")

    def parse(field: str, value: Any) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str):
            items: Iterable[Any] = split.split(value)
        elif isinstance(value, list | tuple):
            items = value
        else:
            raise ValidationError(field, "must be a list")
        result = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise ValidationError(field, "must be a list of text")
            cleaned = str(item).strip()
            check_characters(field, cleaned, single_line=True)
            if cleaned and cleaned not in result:
                result.append(cleaned)
        return result

    return parse


def moment() -> ParserOf[datetime]:
    """An ISO 8601 date-time; naive values are taken as UTC."""

    def parse(field: str, value: Any) -> datetime | None:
        if blank(value):
            return None
        if isinstance(value, datetime):
            result = value
        else:
            try:
                result = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
            except ValueError:
                raise ValidationError(
                    field, f"must be an ISO 8601 date-time, got {shown(value)}"
                ) from None
        if result.tzinfo is None:
            result = result.replace(tzinfo=UTC)
        try:
            return result.astimezone(UTC)
        except OverflowError:  # year 1 or 9999 moved across midnight by its offset
            raise ValidationError(field, "is out of range") from None

    return parse


# a key that can stand as a field's name in a message; any other is quoted
_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,60}")


@dataclass(frozen=True)
class Field:
    name: str
    parse: Parser
    required: bool = False
    secret: bool = False


def parse_record(
    fields: dict[str, Field], record: dict[str, Any], *, partial: bool = False
) -> dict[str, Any]:
    """Validate a record against field specs. Unknown keys are errors naming the key.

    With partial=True (edits), only the keys present are parsed and required fields may
    be absent; blank values still clear optional fields.
    """
    for key in record:
        if key not in fields:
            if isinstance(key, str) and _KEY.fullmatch(key):
                raise ValidationError(key, "unknown field")
            raise ValidationError("field", f"unknown field {shown(key)}")
    result: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in record:
            if spec.required and not partial:
                raise ValidationError(name, "is required")
            continue
        value = spec.parse(name, record[name])
        if value is None and spec.required:
            raise ValidationError(name, "is required")
        result[name] = value
    return result
