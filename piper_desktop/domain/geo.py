"""Which country a time zone belongs to, from the IANA tables that ship with the zone
data (zone.tab: one country per zone), for spreading proxies by country."""

from __future__ import annotations

import re
import zoneinfo
from functools import cache
from importlib import resources
from pathlib import Path

COUNTRY = re.compile(r"[A-Z]{2}")


def _zone_tab_text() -> str:
    """zone.tab from the system's zone data (zoneinfo.TZPATH), else from the `tzdata`
    package that zoneinfo itself falls back to (Windows, the frozen app)."""
    for folder in zoneinfo.TZPATH:
        path = Path(folder) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    try:
        return resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return ""


@cache
def zone_countries() -> dict[str, str]:
    """{zone name: ISO 3166 country code}; empty when no zone data is found."""
    table: dict[str, str] = {}
    for line in _zone_tab_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) >= 3 and COUNTRY.fullmatch(cells[0]):
            table[cells[2].strip()] = cells[0]
    return table


def country_of_zone(zone: str | None) -> str | None:
    """The country of a time zone (Asia/Tokyo → JP); None for UTC and zones of no
    country."""
    return zone_countries().get(zone or "")


def country_code(value: str | None) -> str | None:
    """An ISO 3166 alpha-2 code in capitals, or None when `value` is not one."""
    code = (value or "").strip().upper()
    return code if COUNTRY.fullmatch(code) else None
