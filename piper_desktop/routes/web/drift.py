"""Selector drift: elements the site still shows, but only through a fallback candidate.

Kept in one settings key (`browser.selector_drift`, JSON, so no migration) as
`{site: {element: {"candidate": N, "matched": "...", "first_seen": ISO, "last_seen": ISO}}}`.
Every walk of the page (a post, the scheduled probe, `piper browser probe`) reports which
candidate matched each element it met: a fallback adds or refreshes the element's row
(its first-seen date kept while the same candidate matches), the first candidate
matching again removes it. The GUI's Settings and `piper browser probe` show the rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ...domain.services import Services
from ...logs import get_logger

log = get_logger("routes")

DRIFT_KEY = "browser.selector_drift"


@dataclass(frozen=True)
class DriftRow:
    site: str
    element: str
    candidate: int
    matched: str
    first_seen: str
    last_seen: str


def parse(raw: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """The stored record; anything unreadable counts as no drift known."""
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    record: dict[str, dict[str, dict[str, Any]]] = {}
    for site, elements in data.items():
        if isinstance(elements, dict):
            record[str(site)] = {
                str(k): dict(v) for k, v in elements.items() if isinstance(v, dict)
            }
    return record


def merge(
    record: Mapping[str, Mapping[str, Mapping[str, Any]]],
    site: str,
    matches: Mapping[str, tuple[int, str]],
    now: datetime,
) -> dict[str, dict[str, dict[str, Any]]]:
    """`record` after a walk of `site` that found each element of `matches` through its
    candidate (index, description)."""
    updated = {name: {k: dict(v) for k, v in rows.items()} for name, rows in record.items()}
    rows = updated.setdefault(site, {})
    stamp = now.astimezone(UTC).isoformat(timespec="seconds")
    for element, (index, described) in matches.items():
        if index <= 0:
            rows.pop(element, None)
            continue
        old = rows.get(element)
        same = old is not None and old.get("candidate") == index
        rows[element] = {
            "candidate": index,
            "matched": described,
            "first_seen": old["first_seen"] if same and old else stamp,
            "last_seen": stamp,
        }
    if not rows:
        updated.pop(site)
    return updated


def rows_of(record: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[DriftRow]:
    found = []
    for site, elements in sorted(record.items()):
        for element, row in sorted(elements.items()):
            found.append(
                DriftRow(
                    site,
                    element,
                    int(row.get("candidate") or 0),
                    str(row.get("matched") or ""),
                    str(row.get("first_seen") or ""),
                    str(row.get("last_seen") or ""),
                )
            )
    return found


def load(services: Services) -> dict[str, dict[str, dict[str, Any]]]:
    return parse(services.settings.get(DRIFT_KEY))


def drift_rows(services: Services) -> list[DriftRow]:
    return rows_of(load(services))


def record_matches(
    services: Services,
    site: str,
    matches: Mapping[str, tuple[int, str]],
    now: datetime | None = None,
) -> list[DriftRow]:
    """Store what a walk of `site` found; returns the site's drift rows now."""
    if not matches:
        return [row for row in drift_rows(services) if row.site == site]
    old = load(services)
    new = merge(old, site, matches, now or datetime.now(UTC))
    if new != old:
        services.settings.set(DRIFT_KEY, json.dumps(new, sort_keys=True) if new else None)
    return [row for row in rows_of(new) if row.site == site]
