"""Cookie import/export: JSON (browser extensions, Playwright) and Netscape cookies.txt.

Everything converts to Playwright's cookie shape, which is also what a storage state
holds: {name, value, domain, path, expires (-1 = session), httpOnly, secure, sameSite}.
Parsing never stops at a bad entry: it keeps the good ones and reports each bad one with
its line number and the reason (the values themselves are never repeated in a reason).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from ..domain.fields import shown
from ..domain.textfiles import FileFormatError, json_items
from ..logs import get_logger

log = get_logger("browser")

_SAME_SITE = {
    "strict": "Strict",
    "lax": "Lax",
    "none": "None",
    "no_restriction": "None",
    "unspecified": "Lax",
}
_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# What Chromium refuses to store (net/cookies/canonical_cookie.cc, parsed_cookie.cc):
# control characters and ';' in a value or path, name + value over 4096 bytes, a path
# over 1024, a domain that is not a host name. Playwright refuses an expiry that is not a
# finite number; past year 9999 Chromium's time overflows.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_DOMAIN_RE = re.compile(rf"^\.?{_LABEL}(?:\.{_LABEL})*\.?$")
MAX_NAME_VALUE_BYTES = 4096
MAX_PATH = 1024
MAX_EXPIRES = 253402300799.0  # 9999-12-31T23:59:59Z


@dataclass(frozen=True)
class CookieError:
    line: int
    reason: str
    item: int | None = None  # a JSON item's place, when its line holds other items too

    def __str__(self) -> str:
        return (
            f"line {self.line}" + (f" (item {self.item})" if self.item else "") + f": {self.reason}"
        )


@dataclass
class CookieImport:
    format: str  # "json" | "netscape"
    cookies: list[dict[str, Any]] = field(default_factory=list)
    errors: list[CookieError] = field(default_factory=list)


class CookieFormatError(ValueError):
    """The whole input is unreadable (not JSON and not cookies.txt)."""


def detect_format(text: str) -> str:
    stripped = text.lstrip("\ufeff \t\r\n")
    return "json" if stripped[:1] in ("[", "{") else "netscape"


def parse_cookies(text: str) -> CookieImport:
    text = text.lstrip("\ufeff")
    if detect_format(text) == "json":
        return _parse_json(text)
    return _parse_netscape(text)


# --- normalising one cookie -------------------------------------------------------------
def normalise_cookie(raw: Any) -> dict[str, Any]:
    """One cookie in any supported JSON spelling -> Playwright's shape, or ValueError
    naming the cookie and what Chromium would refuse (never its value)."""
    if not isinstance(raw, dict):
        raise ValueError("entry is not an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError("a cookie without a name")
    if not _NAME_RE.match(name):
        raise ValueError(f"cookie {shown(name)}: the name has characters cookies cannot have")
    label = f"cookie {name!r}"
    value = raw.get("value", "")
    if not isinstance(value, str):
        raise ValueError(f"{label}: value must be a string")
    if _CONTROL_RE.search(value):
        raise ValueError(f"{label}: the value has a control character (NUL, newline, tab...)")
    if ";" in value:
        raise ValueError(f"{label}: the value has a ';'")
    if len(name.encode()) + len(value.encode("utf-8", "replace")) > MAX_NAME_VALUE_BYTES:
        raise ValueError(f"{label}: name and value are longer than {MAX_NAME_VALUE_BYTES} bytes")
    domain = _domain(label, raw.get("domain") or raw.get("host"))
    if raw.get("hostOnly") is True:
        domain = domain.lstrip(".")
    elif raw.get("hostOnly") is False and not domain.startswith("."):
        domain = "." + domain
    path = raw.get("path") or "/"
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"{label}: path must start with '/'")
    if _CONTROL_RE.search(path) or ";" in path or len(path) > MAX_PATH:
        raise ValueError(f"{label}: the path has a control character, a ';' or is too long")
    expires = -1.0
    if not raw.get("session"):
        for key in ("expires", "expirationDate", "expiry"):
            if raw.get(key) is not None:
                expires = _expiry(label, key, raw[key])
                break
    if expires <= 0:
        expires = -1
    secure = bool(raw.get("secure", False))
    same_site_raw = raw.get("sameSite")
    same_site: str | None
    if same_site_raw is None or same_site_raw == "":
        same_site = "Lax"
    else:
        same_site = _SAME_SITE.get(str(same_site_raw).strip().lower())
        if same_site is None:
            raise ValueError(f"{label}: unknown sameSite {shown(same_site_raw)}")
    if same_site == "None" and not secure:
        same_site = "Lax"  # browsers reject SameSite=None without Secure
    return {
        "name": name,
        "value": value,
        "domain": domain,
        "path": path,
        "expires": expires,
        "httpOnly": bool(raw.get("httpOnly", False)),
        "secure": secure,
        "sameSite": same_site,
    }


def _domain(label: str, raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip(". "):
        raise ValueError(f"{label}: missing domain")
    domain = raw.strip()
    bare = domain.lstrip(".")
    if bare.startswith("[") and bare.endswith("]"):
        try:
            ipaddress.IPv6Address(bare[1:-1])
        except ValueError:
            raise ValueError(f"{label}: the domain is not a host name") from None
        return domain
    if not bare.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{label}: the domain is not a host name") from None
    if len(domain) > 255 or not _DOMAIN_RE.match(domain):
        raise ValueError(f"{label}: the domain is not a host name")
    return domain


def _expiry(label: str, key: str, raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError(f"{label}: {key} is not a number")
    try:
        expires = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{label}: {key} is not a number") from None
    if not math.isfinite(expires):
        raise ValueError(f"{label}: {key} is not a finite number")
    if expires > MAX_EXPIRES:
        raise ValueError(f"{label}: {key} is out of range (after the year 9999)")
    return expires


# --- JSON ---------------------------------------------------------------------------------
def _parse_json(text: str) -> CookieImport:
    result = CookieImport("json")
    try:
        items = json_items(text, ("cookies",), single_object=False)
    except FileFormatError as exc:
        result.errors.append(CookieError(exc.line or 1, exc.detail))
        return result
    for item in items:
        try:
            result.cookies.append(normalise_cookie(item.value))
        except ValueError as exc:
            result.errors.append(
                CookieError(item.line, str(exc), item.item if item.shares_line else None)
            )
    return result


# --- Netscape cookies.txt -----------------------------------------------------------------
def _parse_netscape(text: str) -> CookieImport:
    result = CookieImport("netscape")
    # lines end at "\n" (a CR before it is dropped); a CR or other control character
    # anywhere else is the cookie's, and refused with it
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        http_only = False
        if line.startswith("#HttpOnly_"):
            http_only = True
            line = line[len("#HttpOnly_") :]
        elif not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) == 1:
            fields = line.split()  # some tools write spaces instead of tabs
        elif len(fields) == 6:
            fields.append("")  # an empty value loses its trailing tab in some exporters
        if len(fields) != 7:
            result.errors.append(
                CookieError(number, f"expected 7 tab-separated fields, found {len(fields)}")
            )
            continue
        domain, subdomains, path, secure, expiry, name, value = fields
        subdomains_u, secure_u = subdomains.strip().upper(), secure.strip().upper()
        if subdomains_u not in ("TRUE", "FALSE") or secure_u not in ("TRUE", "FALSE"):
            result.errors.append(CookieError(number, "flags must be TRUE or FALSE"))
            continue
        try:
            expires = float(expiry.strip() or 0)
        except ValueError:
            result.errors.append(
                CookieError(number, f"cookie {shown(name)}: expiry is not a number")
            )
            continue
        domain = domain.strip()
        domain = ("." + domain.lstrip(".")) if subdomains_u == "TRUE" else domain.lstrip(".")
        try:
            cookie = normalise_cookie(
                {
                    "name": name.strip(),
                    "value": value,
                    "domain": domain,
                    "path": path.strip() or "/",
                    "expires": expires,
                    "httpOnly": http_only,
                    "secure": secure_u == "TRUE",
                }
            )
        except ValueError as exc:
            result.errors.append(CookieError(number, str(exc)))
            continue
        result.cookies.append(cookie)
    return result


def to_netscape(cookies: list[dict[str, Any]]) -> str:
    out = ["# Netscape HTTP Cookie File", "# Exported by Piper Desktop", ""]
    for cookie in cookies:
        domain = cookie["domain"]
        prefix = "#HttpOnly_" if cookie.get("httpOnly") else ""
        expires = cookie.get("expires", -1)
        out.append(
            "\t".join(
                [
                    prefix + domain,
                    "TRUE" if domain.startswith(".") else "FALSE",
                    cookie.get("path") or "/",
                    "TRUE" if cookie.get("secure") else "FALSE",
                    str(int(expires)) if expires and expires > 0 else "0",
                    cookie["name"],
                    cookie.get("value", ""),
                ]
            )
        )
    return "\n".join(out) + "\n"


def to_json(cookies: list[dict[str, Any]]) -> str:
    return json.dumps(cookies, indent=2)


# --- storage state ---------------------------------------------------------------------
def valid_cookies(state: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """A stored state's cookies that Chromium takes, and why each other one is not."""
    cookies: list[dict[str, Any]] = []
    problems: list[str] = []
    raw = state.get("cookies") if isinstance(state, dict) else None
    for entry in raw if isinstance(raw, list) else []:
        try:
            cookies.append(normalise_cookie(entry))
        except ValueError as exc:
            problems.append(str(exc))
    return cookies, problems


def normalise_storage_state(state: Any) -> dict[str, Any]:
    """A storage state Playwright accepts: cookies normalised, each one Chromium would
    refuse left out (and logged by name, so one bad stored cookie does not stop the
    whole session), origins kept as given."""
    cookies, problems = valid_cookies(state)
    for problem in problems:
        log.warning("stored session: left out %s", problem)
    origins = []
    raw_origins = state.get("origins") if isinstance(state, dict) else None
    for origin in raw_origins if isinstance(raw_origins, list) else []:
        if isinstance(origin, dict) and isinstance(origin.get("origin"), str):
            storage = origin.get("localStorage")
            origins.append(
                {
                    "origin": origin["origin"],
                    "localStorage": [
                        {"name": str(i["name"]), "value": str(i["value"])}
                        for i in (storage if isinstance(storage, list) else [])
                        if isinstance(i, dict) and "name" in i and "value" in i
                    ],
                }
            )
    return {"cookies": cookies, "origins": origins}


def storage_state_with_cookies(
    cookies: list[dict[str, Any]], state: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`state` with `cookies` added; a cookie with the same name/domain/path replaces."""
    base = normalise_storage_state(state or {})
    merged: dict[tuple[str, str, str], dict[str, Any]] = {
        (c["name"], c["domain"], c["path"]): c for c in base["cookies"]
    }
    for cookie in cookies:
        cookie = normalise_cookie(cookie)
        merged[(cookie["name"], cookie["domain"], cookie["path"])] = cookie
    return {"cookies": list(merged.values()), "origins": base["origins"]}


def cookies_of(state: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((state or {}).get("cookies") or [])


def domain_matches(cookie_domain: str, host: str) -> bool:
    """Would a cookie for `cookie_domain` be sent to `host`?"""
    cookie_domain = cookie_domain.lower()
    host = host.lower()
    if cookie_domain.startswith("."):
        bare = cookie_domain[1:]
        return host == bare or host.endswith(cookie_domain)
    return host == cookie_domain


def find_cookie(
    state: dict[str, Any] | None, name: str, host: str, now: float | None = None
) -> dict[str, Any] | None:
    """The live (non-empty, unexpired) cookie `name` that `host` would receive."""
    now = time.time() if now is None else now
    for cookie in valid_cookies(state)[0]:
        if cookie.get("name") != name or not cookie.get("value"):
            continue
        if not domain_matches(str(cookie.get("domain", "")), host):
            continue
        if 0 < cookie["expires"] <= now:
            continue
        return cookie
    return None


def read_cookie_list(text: str) -> list[dict[str, Any]]:
    """Every cookie of a JSON or cookies.txt text, or ValueError naming the first bad
    one (by line and name, never its value): an accounts import takes a row's cookies
    whole or not at all (`domain.importers.CookieReader`)."""
    parsed = parse_cookies(text)
    if parsed.errors:
        raise ValueError(str(parsed.errors[0]))
    return parsed.cookies
