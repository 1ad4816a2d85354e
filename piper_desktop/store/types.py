"""Column types that SQLite lacks natively."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Dialect, String, Text
from sqlalchemy.types import TypeDecorator


# The stored forms, shared with the engine's hot path that runs plain SQL.
def time_to_db(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def time_from_db(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)  # 3.11 reads Z as UTC


def json_to_db(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_from_db(value: str | None) -> Any:
    return None if value is None else json.loads(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as sortable ISO text."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        return None if value is None else time_to_db(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        return time_from_db(value)


class JSONText(TypeDecorator[Any]):
    """JSON stored as text (compact, key order kept)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return json_to_db(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return json_from_db(value)
