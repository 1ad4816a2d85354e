"""Turning model rows into plain dicts keyed by field name (for --json, exports, the UI)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import inspect

from ..store.models import Base


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def row_dict(
    row: Base, *, omit: frozenset[str] = frozenset(), secrets: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Column values by name, secrets left out (omitted, not masked) unless not listed."""
    result = {}
    for column in inspect(row).mapper.column_attrs:
        name = column.key
        if name in omit or name in secrets:
            continue
        result[name] = plain(getattr(row, name))
    return result
