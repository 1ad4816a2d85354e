"""Cookie files and stored sessions of any shape: never a traceback; every cookie kept is
one Chromium takes; every one refused is named by its line, never by its value."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from piper_desktop.browser.cookies import (
    MAX_EXPIRES,
    normalise_cookie,
    normalise_storage_state,
    parse_cookies,
    storage_state_with_cookies,
)
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import cookies, json_values, netscape_documents

CONTROL = {chr(c) for c in range(0x20)} | {"\x7f"}


def assert_chromium_takes(cookie: dict[str, Any]) -> None:
    assert isinstance(cookie["name"], str) and cookie["name"]
    for key in ("name", "value", "path"):
        assert not CONTROL & set(cookie[key]), cookie
    assert ";" not in cookie["value"] and ";" not in cookie["path"]
    assert cookie["path"].startswith("/")
    assert math.isfinite(cookie["expires"])
    assert cookie["expires"] == -1 or 0 < cookie["expires"] <= MAX_EXPIRES
    assert cookie["domain"].isascii() and " " not in cookie["domain"]
    assert cookie["sameSite"] in ("Strict", "Lax", "None")
    assert normalise_cookie(cookie) == cookie  # stable when read back


def check_parse(text: str) -> None:
    result = parse_cookies(text)
    lines = text.count("\n") + 1
    for cookie in result.cookies:
        assert_chromium_takes(cookie)
    for error in result.errors:
        assert 1 <= error.line <= lines and error.reason
        assert "\n" not in str(error)
    # what was imported merges into a stored session without trouble
    merged = storage_state_with_cookies(result.cookies, {"cookies": result.cookies})
    assert len(merged["cookies"]) <= len(result.cookies)


@FUZZ
@given(
    items=st.lists(st.one_of(cookies, cookies, json_values), max_size=6), shape=st.integers(0, 3)
)
@example(items=[{"name": "a", "value": "v", "domain": ".x.com", "expires": math.nan}], shape=0)
@example(items=[{"name": "a", "value": "v\x00", "domain": ".x.com"}], shape=2)
def test_cookie_json(items: list[Any], shape: int) -> None:
    data: Any = [
        items,
        {"cookies": items},
        {"meta": {"cookies": [1, 2]}, "cookies": items, "origins": []},
        {"cookies": {"cookies": items}},
    ][shape]
    check_parse(json.dumps(data, indent=1 if shape % 2 else None, allow_nan=True))


@FUZZ
@given(text=netscape_documents())
@example(text=".tiktok.com\tTRUE\t/\tTRUE\tnan\tsid\tv")
@example(text=".tiktok.com\tTRUE\t/\tTRUE\t1e300\tsid\tv;x")
def test_cookies_txt(text: str) -> None:
    check_parse(text)


@FUZZ
@given(
    value=st.text(min_size=4, max_size=12).map(lambda s: "VAL-" + s),
    cookie=cookies,
)
def test_refusals_never_repeat_the_value(value: str, cookie: dict[str, Any]) -> None:
    result = parse_cookies(json.dumps([{**cookie, "value": value}], allow_nan=True))
    for error in result.errors:
        assert value not in str(error)


@FUZZ
@given(state=json_values, cookie_list=st.lists(cookies, max_size=4))
@example(
    state={"cookies": [{"name": "a", "value": "v", "domain": ".x.com", "expires": 1e300}]},
    cookie_list=[],
)
def test_any_stored_state_opens(state: Any, cookie_list: list[dict[str, Any]]) -> None:
    """What a browser context is opened with, whatever the database holds."""
    if isinstance(state, dict):
        state = {**state, "cookies": cookie_list}
    normalised = normalise_storage_state(state)
    for cookie in normalised["cookies"]:
        assert_chromium_takes(cookie)
    json.dumps(normalised, allow_nan=False)  # what Playwright sends must be strict JSON
