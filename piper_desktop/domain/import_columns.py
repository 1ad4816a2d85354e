"""The columns an accounts file may have, the names other tools give them, and the
mapping of a file's columns to Piper's fields (guessed, remembered per header set).

The synonyms come from what profile managers name these fields in their exports and
APIs: AdsPower's profile fields (`name`, `username`, `password`, `cookie`, `remark`,
`group_name`, `country`, `user_proxy_config` with `proxy_type`, `proxy_host`,
`proxy_port`, `proxy_user`, `proxy_password`), GoLogin's and Multilogin's profile
`name` / `notes` / `proxy` / `timezone`, Dolphin Anty's `name`, `proxy`, `cookies`,
`tags`, `notes`; and the common spreadsheet words (login, account, tz, e-mail).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ..store.models import Setting
from .errors import ValidationError

IGNORE = "ignore"
MAPPINGS_KEY = "accounts.import_mappings"
MAX_REMEMBERED = 50  # header sets kept; the oldest goes first


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str
    example: str


# every column an accounts file may have, in the template's order
ACCOUNT_COLUMNS: tuple[Column, ...] = (
    Column("username", "the account's handle, with or without @ (required)", "piper.demo1"),
    Column("platform", "tiktok (default), instagram, youtube, facebook, x, ...", "tiktok"),
    Column("display_name", "the name shown on the profile", "Piper Demo"),
    Column("email", "the account's e-mail", "demo1@example.com"),
    Column("password", "the account's password (kept encrypted)", ""),
    Column("group", "a group to sort accounts by", "client-a"),
    Column("tags", "tags, separated by ;", "demo;new"),
    Column("timezone", "IANA time zone, e.g. Asia/Tokyo (default UTC)", "Europe/Berlin"),
    Column("posting_window", 'local hours to post in, "09:00-21:00" or "off"', "09:00-21:00"),
    Column("country", "two-letter country code, for proxies by country", "DE"),
    Column(
        "proxy",
        "scheme://user:pass@host:port or host:port:user:pass (a proxy row is made)",
        "http://demo:example@127.0.0.1:8080",
    ),
    Column(
        "cookies",
        "cookies JSON, or a cookies file (JSON or cookies.txt) named relative to this file",
        "",
    ),
    Column("proxy_id", "an existing proxy's id, instead of proxy", ""),
    Column("profile_id", "an existing browser profile's id", ""),
    Column("status", "active, needs_login, needs_attention, cooldown, disabled", "active"),
    Column("routes", "publishing routes in order, separated by ;", ""),
    Column("min_spacing_minutes", "minutes between two posts", "60"),
    Column("max_posts_per_day", "the account's own daily cap", "3"),
    Column("window_enabled", "true/false (posting_window sets it)", ""),
    Column("window_start", "HH:MM (posting_window sets it)", ""),
    Column("window_end", "HH:MM (posting_window sets it)", ""),
    Column("notes", "free text", ""),
    Column("proxy_scheme", "or the proxy in pieces: http, https, socks5", ""),
    Column("proxy_host", "the proxy's host", ""),
    Column("proxy_port", "the proxy's port", ""),
    Column("proxy_username", "the proxy's user", ""),
    Column("proxy_password", "the proxy's password", ""),
)
ACCOUNT_COLUMN_NAMES = tuple(c.name for c in ACCOUNT_COLUMNS)

# normalised header (lower case, runs of other characters as "_") → field
ACCOUNT_SYNONYMS: dict[str, str] = {
    # username
    "user": "username",
    "user_name": "username",
    "login": "username",
    "account": "username",
    "account_name": "username",
    "handle": "username",
    "tiktok_username": "username",
    "name": "username",
    "profile_name": "username",
    # display name
    "nickname": "display_name",
    "display": "display_name",
    "full_name": "display_name",
    # e-mail
    "e_mail": "email",
    "mail": "email",
    "email_address": "email",
    # password
    "pass": "password",
    "pwd": "password",
    "account_password": "password",
    # group
    "group_name": "group",
    "folder": "group",
    "category": "group",
    # tags
    "tag": "tags",
    "labels": "tags",
    # time zone
    "tz": "timezone",
    "time_zone": "timezone",
    # posting window
    "window": "posting_window",
    "hours": "posting_window",
    "posting_hours": "posting_window",
    # country
    "country_code": "country",
    "countrycode": "country",
    "geo": "country",
    "region": "country",
    # proxy
    "proxy_url": "proxy",
    "proxy_address": "proxy",
    "proxy_string": "proxy",
    "proxies": "proxy",
    "user_proxy_config": "proxy",
    # cookies
    "cookie": "cookies",
    "cookies_json": "cookies",
    "cookie_file": "cookies",
    "cookies_file": "cookies",
    "session": "cookies",
    # notes
    "remark": "notes",
    "remarks": "notes",
    "note": "notes",
    "description": "notes",
    "comment": "notes",
}

# split proxy columns (AdsPower's user_proxy_config, Dolphin's proxy fields) → the
# piece of a proxy each holds; joined into one proxy per row
PROXY_PART_SYNONYMS: dict[str, str] = {
    "proxy_type": "scheme",
    "proxy_scheme": "scheme",
    "proxy_protocol": "scheme",
    "proxy_host": "host",
    "proxy_ip": "host",
    "proxy_port": "port",
    "proxy_user": "username",
    "proxy_username": "username",
    "proxy_login": "username",
    "proxy_password": "password",
    "proxy_pass": "password",
}
PROXY_PARTS = ("scheme", "host", "port", "username", "password")


def normalise_header(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def guess_field(name: str, fields: Iterable[str]) -> str | None:
    """The field a column's header most likely names, or None."""
    known = set(fields)
    key = normalise_header(name)
    if key in known:
        return key
    if key in ACCOUNT_SYNONYMS and ACCOUNT_SYNONYMS[key] in known:
        return ACCOUNT_SYNONYMS[key]
    part = PROXY_PART_SYNONYMS.get(key)
    if part is not None and f"proxy_{part}" in known:
        return f"proxy_{part}"
    return None


def guess_mapping(headers: Sequence[str], fields: Iterable[str]) -> dict[str, str]:
    """{header: field} for the headers a field can be guessed for: each field taken
    once, by the column that names it exactly, else the first synonym. Headers left
    out are unknown (the CLI refuses them unless mapped; the dialog shows "ignore")."""
    known = list(fields)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    # exact names first, so that "name" (a synonym) does not take username from "username"
    for exact in (True, False):
        for header in headers:
            if header in mapping:
                continue
            field = guess_field(header, known)
            if field is None or field in taken:
                continue
            if exact != (normalise_header(header) == field):
                continue
            mapping[header] = field
            taken.add(field)
    return {h: mapping[h] for h in headers if h in mapping}


def header_key(headers: Sequence[str]) -> str:
    """The remembered mapping's key: the set of headers, whatever their order or case."""
    return "|".join(sorted({normalise_header(h) for h in headers if h.strip()}))


def parse_mappings(field: str, value: Any) -> dict[str, dict[str, str]] | None:
    """The setting's value: {header key: {header: field}} (no secrets: names only)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError(field, "must be a JSON object") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str)
        and isinstance(v, dict)
        and all(isinstance(a, str) and isinstance(b, str) for a, b in v.items())
        for k, v in value.items()
    ):
        raise ValidationError(field, "must map header sets to {column: field} objects")
    return value


def remembered_mapping(session: Session, headers: Sequence[str]) -> dict[str, str] | None:
    row = session.get(Setting, MAPPINGS_KEY)
    stored = row.value if row is not None and isinstance(row.value, dict) else {}
    mapping = stored.get(header_key(headers))
    if not isinstance(mapping, dict):
        return None
    # the stored mapping is by header as written then; match this file's spelling
    by_norm = {normalise_header(k): v for k, v in mapping.items()}
    return {h: by_norm[normalise_header(h)] for h in headers if normalise_header(h) in by_norm}


def remember_mapping(session: Session, headers: Sequence[str], mapping: dict[str, str]) -> None:
    row = session.get(Setting, MAPPINGS_KEY)
    stored = dict(row.value) if row is not None and isinstance(row.value, dict) else {}
    key = header_key(headers)
    stored.pop(key, None)  # re-inserted last: the newest
    stored[key] = {h: mapping.get(h, IGNORE) for h in headers}
    while len(stored) > MAX_REMEMBERED:
        stored.pop(next(iter(stored)))
    if row is None:
        session.add(Setting(key=MAPPINGS_KEY, value=stored, is_secret=False))
    else:
        row.value = stored


def resolve_mapping(
    session: Session,
    headers: Sequence[str],
    fields: Iterable[str],
    overrides: dict[str, str] | None = None,
) -> tuple[dict[str, str], bool]:
    """(the mapping for these headers, whether a remembered one was used): the guess,
    then what the operator chose last time for this header set, then `overrides`."""
    mapping = guess_mapping(headers, fields)
    remembered = remembered_mapping(session, headers)
    if remembered:
        mapping.update(remembered)
    for column, field in (overrides or {}).items():
        mapping[column] = field
    return mapping, bool(remembered)
