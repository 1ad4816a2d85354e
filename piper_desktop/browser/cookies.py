"""Cookie import/export: JSON (browser extensions, Playwright) and Netscape cookies.txt.

Everything converts to Playwright's cookie shape, which is also what a storage state
holds: {name, value, domain, path, expires (-1 = session), httpOnly, secure, sameSite}.
Parsing never stops at a bad entry: it keeps the good ones and reports each bad one with
its line number and the reason (the values themselves are never repeated in a reason).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

_SAME_SITE = {
    "strict": "Strict",
    "lax": "Lax",
    "none": "None",
    "no_restriction": "None",
    "unspecified": "Lax",
}
_NAME_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(frozen=True)
class CookieError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


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
    """One cookie in any supported JSON spelling -> Playwright's shape (ValueError if bad)."""
    if not isinstance(raw, dict):
        raise ValueError("entry is not an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name or not _NAME_RE.match(name):
        raise ValueError("missing or invalid cookie name")
    value = raw.get("value", "")
    if not isinstance(value, str):
        raise ValueError(f"cookie {name!r}: value must be a string")
    domain = raw.get("domain") or raw.get("host")
    if not isinstance(domain, str) or not domain.strip(". "):
        raise ValueError(f"cookie {name!r}: missing domain")
    domain = domain.strip()
    if raw.get("hostOnly") is True:
        domain = domain.lstrip(".")
    elif raw.get("hostOnly") is False and not domain.startswith("."):
        domain = "." + domain
    path = raw.get("path") or "/"
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"cookie {name!r}: path must start with '/'")
    expires: float = -1
    if not raw.get("session"):
        for key in ("expires", "expirationDate", "expiry"):
            if raw.get(key) is not None:
                try:
                    expires = float(raw[key])
                except (TypeError, ValueError):
                    raise ValueError(f"cookie {name!r}: {key} is not a number") from None
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
            raise ValueError(f"cookie {name!r}: unknown sameSite {same_site_raw!r}")
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


# --- JSON ---------------------------------------------------------------------------------
def _parse_json(text: str) -> CookieImport:
    result = CookieImport("json")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        result.errors.append(CookieError(exc.lineno, f"not valid JSON: {exc.msg}"))
        return result
    if isinstance(data, dict):
        if not isinstance(data.get("cookies"), list):
            result.errors.append(CookieError(1, "a JSON object must hold a 'cookies' list"))
            return result
        items = data["cookies"]
        match = re.search(r'"cookies"\s*:\s*\[', text)
        start = match.end() - 1 if match else None
    elif isinstance(data, list):
        items = data
        start = text.index("[")
    else:
        result.errors.append(CookieError(1, "expected a list of cookie objects"))
        return result
    lines = _element_lines(text, start, len(items))
    for item, line in zip(items, lines, strict=True):
        try:
            result.cookies.append(normalise_cookie(item))
        except ValueError as exc:
            result.errors.append(CookieError(line, str(exc)))
    return result


def _element_lines(text: str, start: int | None, count: int) -> list[int]:
    """The line each element of the JSON array at `start` begins on."""
    if start is None:
        return [1] * count
    decoder = json.JSONDecoder()
    lines: list[int] = []
    pos = start + 1
    while len(lines) < count:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        lines.append(text.count("\n", 0, pos) + 1)
        _obj, pos = decoder.raw_decode(text, pos)
    return lines


# --- Netscape cookies.txt -----------------------------------------------------------------
def _parse_netscape(text: str) -> CookieImport:
    result = CookieImport("netscape")
    for number, line in enumerate(text.splitlines(), start=1):
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
            result.errors.append(CookieError(number, "expiry is not a number"))
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
def normalise_storage_state(state: dict[str, Any]) -> dict[str, Any]:
    """A storage state Playwright accepts: cookies normalised, origins kept as given."""
    cookies = [normalise_cookie(c) for c in state.get("cookies") or []]
    origins = []
    for origin in state.get("origins") or []:
        if isinstance(origin, dict) and isinstance(origin.get("origin"), str):
            origins.append(
                {
                    "origin": origin["origin"],
                    "localStorage": [
                        {"name": str(i["name"]), "value": str(i["value"])}
                        for i in origin.get("localStorage") or []
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
    for cookie in cookies_of(state):
        if cookie.get("name") != name or not cookie.get("value"):
            continue
        if not domain_matches(str(cookie.get("domain", "")), host):
            continue
        expires = cookie.get("expires", -1)
        if expires is not None and 0 < float(expires) <= now:
            continue
        return cookie
    return None
