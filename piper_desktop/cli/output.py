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


def print_record(data: dict[str, Any]) -> None:
    width = max((len(k) for k in data), default=0)
    for key, value in data.items():
        if isinstance(value, dict | list) and value and not isinstance(value, str):
            rendered = json.dumps(value, default=plain, ensure_ascii=False)
        else:
            rendered = _cell(value) if not isinstance(value, str) else value
        print(f"{key.ljust(width)}  {rendered}")


def emit(data: Any, *, as_json: bool, columns: Sequence[str] | None = None) -> None:
    if as_json:
        print_json(data)
    elif isinstance(data, list):
        print_table(data, columns or (list(data[0].keys()) if data else []))
    elif isinstance(data, dict):
        print_record(data)
    else:
        print(data)
