"""The drift record: a fallback match is kept with the date first seen, the first
candidate matching again clears it; stored in one settings key (no migration)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from piper_desktop.domain.services import Services
from piper_desktop.routes.web.drift import DRIFT_KEY, drift_rows, merge, parse, record_matches

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_merge_keeps_first_seen_while_the_same_fallback_matches() -> None:
    first = merge(
        {}, "tiktok", {"file_input": (2, "input[type=file]"), "post_button": (0, "x")}, T0
    )
    assert list(first["tiktok"]) == ["file_input"]
    later = merge(first, "tiktok", {"file_input": (2, "input[type=file]")}, T0 + timedelta(days=3))
    row = later["tiktok"]["file_input"]
    assert row["first_seen"].startswith("2026-12-01") and row["last_seen"].startswith("2026-12-04")
    moved = merge(later, "tiktok", {"file_input": (1, "other")}, T0 + timedelta(days=4))
    assert moved["tiktok"]["file_input"]["first_seen"].startswith("2026-12-05"), "a new fallback"
    # an element not looked at keeps its row; the first candidate matching clears it
    assert merge(moved, "tiktok", {"caption_editor": (0, "div")}, T0) == moved
    assert merge(moved, "tiktok", {"file_input": (0, "the first")}, T0) == {}


def test_unreadable_record_counts_as_none() -> None:
    assert parse("not json") == {} and parse("[1, 2]") == {} and parse(None) == {}
    assert parse(json.dumps({"tiktok": {"a": 1, "b": {"candidate": 1}}})) == {
        "tiktok": {"b": {"candidate": 1}}
    }


def test_record_is_one_settings_key(services: Services) -> None:
    rows = record_matches(services, "tiktok", {"post_button": (1, "role=button name='Post'")}, T0)
    assert [(r.site, r.element, r.candidate, r.first_seen[:10]) for r in rows] == [
        ("tiktok", "post_button", 1, "2026-12-01")
    ]
    assert json.loads(services.settings.get(DRIFT_KEY))["tiktok"]["post_button"]["candidate"] == 1
    record_matches(services, "tiktok", {"post_button": (0, "button[data-e2e=post_video_button]")})
    assert drift_rows(services) == [] and services.settings.get(DRIFT_KEY) is None
