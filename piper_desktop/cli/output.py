"""Printing results: aligned tables for people, JSON (model field names) for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from ..domain.records import plain


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=plain, ensure_ascii=False)
    sys.stdout.write("\n")


def _cell(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    if not rows:
        print("(none)")
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _scalar(value: Any) -> str:
    """A value in a record: whole (a record is read, not scanned like a table)."""
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _line(item: Any) -> str:
    """One element of a list in a record: a dict's values on one line (an event:
    time, kind, status, message), blanks and nested data left out."""
    if not isinstance(item, dict):
        return _scalar(item)
    parts = [
        _scalar(v)
        for k, v in item.items()
        if k not in LINE_SKIP and v not in (None, "", [], {}) and not isinstance(v, dict | list)
    ]
    return "  ".join(parts)


# ids that only repeat what the record already says
LINE_SKIP = frozenset({"id", "job_id", "campaign_id"})


def record_lines(data: dict[str, Any], indent: str = "") -> list[str]:
    """A record for people: `key  value` lines; a nested dict as an indented block, a
    list as one line per element; JSON only with --json."""
    # what is not set is left out (--json keeps it)
    data = {k: v for k, v in data.items() if v is not None}
    width = max((len(k) for k in data), default=0)
    lines: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict | list) and not value:
            lines.append(f"{indent}{key.ljust(width)}  (none)")
        elif isinstance(value, dict):
            lines.append(f"{indent}{key}")
            lines.extend(record_lines(value, indent + "  "))
        elif isinstance(value, list) and isinstance(value[0], dict):
            lines.append(f"{indent}{key}")
            lines.extend(f"{indent}  {_line(item)}" for item in value)
        elif isinstance(value, list):
            lines.append(f"{indent}{key.ljust(width)}  {', '.join(_scalar(v) for v in value)}")
        else:
            lines.append(f"{indent}{key.ljust(width)}  {_scalar(value)}".rstrip())
    return lines


def print_record(data: dict[str, Any]) -> None:
    for line in record_lines(data):
        print(line)


def emit(data: Any, *, as_json: bool, columns: Sequence[str] | None = None) -> None:
    if as_json:
        print_json(data)
    elif isinstance(data, list):
        print_table(data, columns or (list(data[0].keys()) if data else []))
    elif isinstance(data, dict):
        print_record(data)
    else:
        print(data)
