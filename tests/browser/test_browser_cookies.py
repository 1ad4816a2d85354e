"""Cookie import/export formats (no browser needed)."""

from __future__ import annotations

import json

from piper_desktop.browser.cookies import (
    detect_format,
    find_cookie,
    normalise_storage_state,
    parse_cookies,
    storage_state_with_cookies,
    to_json,
    to_netscape,
)

EXTENSION_JSON = """[
  {"domain": ".tiktok.com", "expirationDate": 1893456000.5, "hostOnly": false,
   "httpOnly": true, "name": "sessionid", "path": "/", "sameSite": "no_restriction",
   "secure": true, "session": false, "storeId": "0", "value": "abc123"},
  {"domain": "www.tiktok.com", "hostOnly": true, "httpOnly": false, "name": "tt_csrf_token",
   "path": "/", "sameSite": "lax", "secure": false, "session": true, "value": "tok"},
  {"domain": ".tiktok.com", "name": "", "value": "x"},
  {"name": "msToken", "value": "zzz"},
  {"domain": ".tiktok.com", "name": "odd", "value": "v", "sameSite": "sideways"}
]"""

NETSCAPE = """# Netscape HTTP Cookie File
# comment line

.tiktok.com\tTRUE\t/\tTRUE\t1893456000\tsessionid\tabc123
#HttpOnly_.tiktok.com\tTRUE\t/\tTRUE\t0\tsid_tt\tsid-value
www.tiktok.com\tFALSE\t/\tFALSE\t1893456000\tempty\t
bad line with too few fields
.tiktok.com\tMAYBE\t/\tTRUE\t0\tflag\tv
.tiktok.com\tTRUE\t/\tTRUE\tsoon\texpiry\tv
"""


def test_extension_json_maps_variants_and_reports_bad_entries() -> None:
    result = parse_cookies(EXTENSION_JSON)
    assert result.format == "json"
    session, csrf = result.cookies
    assert session == {
        "name": "sessionid",
        "value": "abc123",
        "domain": ".tiktok.com",
        "path": "/",
        "expires": 1893456000.5,
        "httpOnly": True,
        "secure": True,
        "sameSite": "None",
    }
    assert csrf["domain"] == "www.tiktok.com" and csrf["expires"] == -1
    assert csrf["sameSite"] == "Lax"
    assert [(e.line, e.reason) for e in result.errors] == [
        (7, "a cookie without a name"),
        (8, "cookie 'msToken': missing domain"),
        (9, "cookie 'odd': unknown sameSite 'sideways'"),
    ]
    assert all("abc123" not in str(e) for e in result.errors)


def test_playwright_storage_state_json_and_broken_json() -> None:
    state = {
        "cookies": [
            {
                "name": "a",
                "value": "1",
                "domain": "127.0.0.1",
                "path": "/",
                "expires": -1,
                "httpOnly": False,
                "secure": False,
                "sameSite": "None",
            }
        ],
        "origins": [],
    }
    result = parse_cookies(json.dumps(state, indent=1))
    assert result.errors == [] and result.cookies[0]["sameSite"] == "Lax"  # None needs Secure
    broken = parse_cookies('[\n {"name": "a",\n "value": }\n]')
    assert broken.cookies == [] and broken.errors[0].line == 3
    assert broken.errors[0].reason.startswith("not valid JSON")


def test_netscape_with_httponly_prefix_and_bad_lines() -> None:
    assert detect_format(NETSCAPE) == "netscape"
    result = parse_cookies(NETSCAPE)
    names = [c["name"] for c in result.cookies]
    assert names == ["sessionid", "sid_tt", "empty"]
    sid_tt = result.cookies[1]
    assert sid_tt["httpOnly"] is True and sid_tt["expires"] == -1
    assert result.cookies[2]["domain"] == "www.tiktok.com" and result.cookies[2]["value"] == ""
    assert [(e.line, e.reason) for e in result.errors] == [
        (7, "expected 7 tab-separated fields, found 6"),
        (8, "flags must be TRUE or FALSE"),
        (9, "cookie 'expiry': expiry is not a number"),
    ]


def test_round_trips_and_storage_state() -> None:
    cookies = parse_cookies(NETSCAPE).cookies
    assert parse_cookies(to_netscape(cookies)).cookies == cookies
    assert parse_cookies(to_json(cookies)).cookies == cookies
    base = normalise_storage_state(
        {
            "cookies": [cookies[0] | {"value": "old"}],
            "origins": [
                {"origin": "https://www.tiktok.com", "localStorage": [{"name": "k", "value": "v"}]}
            ],
        }
    )
    merged = storage_state_with_cookies(cookies, base)
    assert len(merged["cookies"]) == 3 and merged["origins"] == base["origins"]
    assert find_cookie(merged, "sessionid", "www.tiktok.com")["value"] == "abc123"
    assert find_cookie(merged, "empty", "www.tiktok.com") is None  # empty value
    assert find_cookie(merged, "sessionid", "tiktok.com.evil") is None
    expired = storage_state_with_cookies([cookies[0] | {"expires": 1000}])
    assert find_cookie(expired, "sessionid", "www.tiktok.com") is None
