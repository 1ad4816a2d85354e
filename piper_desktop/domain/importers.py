"""Bulk import and export of accounts and proxies (CSV, JSON, proxy one-line forms).

Import is all-or-report: good lines are imported, each bad line is reported with its line
number, field and reason, and re-importing the same file updates rather than duplicates
(accounts by platform + username, proxies by scheme + host + port + username).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..logs import register_secret
from ..store.db import Database
from ..store.models import Account, Base, BrowserProfile, Proxy, utcnow
from . import accounts as acc
from . import proxies as prx
from .errors import ValidationError
from .fields import Field, parse_record, shown
from .import_columns import (
    IGNORE,
    PROXY_PARTS,
    guess_field,
    guess_mapping,
    remember_mapping,
    resolve_mapping,
)
from .policy import posting_window_fields
from .proxy_spread import SpreadAccount, check_spread, spread_proxies
from .records import plain
from .slots import setting
from .textfiles import (
    FileFormatError,
    first_line,
    header_cells,
    json_items,
    looks_like_json,
    read_csv,
    read_text_file,
    safe_cell,
)

__all__ = ["FileFormatError", "ImportReport", "LineError", "import_accounts", "import_proxies"]


@dataclass
class LineError:
    line: int
    field: str
    reason: str
    item: int | None = None  # a JSON item's place, when its line holds other items too

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" (item {self.item})" if self.item else "")
        # a problem of the line as a whole is not a field's
        return (
            f"{where}: {self.reason}"
            if self.field == "line"
            else f"{where}: {self.field}: {self.reason}"
        )


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[LineError] = field(default_factory=list)
    # new accounts the file gave no time zone: they post on UTC (usernames)
    no_timezone: list[str] = field(default_factory=list)
    proxies_created: int = 0
    spread: int = 0  # accounts given a proxy by the spread option
    # said to the operator besides the counts ("3 accounts had no time zone: UTC")
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "errors": [e.__dict__ for e in self.errors],
            "no_timezone": self.no_timezone,
            "proxies_created": self.proxies_created,
            "spread": self.spread,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class RecordFile:
    """What a file of one kind of record holds: its fields, the column names also
    accepted, the one-line form (proxies), and the JSON keys that may hold the list."""

    noun: str
    fields: dict[str, Field]
    aliases: dict[str, str]
    parse_line: Callable[[str], dict[str, Any]] | None
    list_keys: tuple[str, ...]


def _proxy_address(field: str, value: Any) -> dict[str, Any] | None:
    """A proxy in one cell, in the proxy importer's one-line forms (its parser), checked
    by the proxy fields. The reason names the piece, never the cell: it holds a password."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dict):
        return _proxy_object(field, value)
    if not isinstance(value, str):
        raise ValidationError(field, f"must be text such as {prx.FORMS}")
    try:
        record = parse_record(prx.FIELDS, prx.parse_proxy_line(value))
    except ValidationError as exc:
        reason = exc.reason if exc.field == "line" else f"the {exc.field} {exc.reason}"
        raise ValidationError(field, reason) from None
    if record.get("password"):
        register_secret(record["password"])
    return record


# a proxy as a JSON object: GoLogin's profile `proxy` {mode, host, port, username,
# password}, AdsPower's `user_proxy_config` {proxy_type, proxy_host, ...}
_PROXY_OBJECT_KEYS = {
    "scheme": ("scheme", "mode", "type", "protocol", "proxy_type"),
    "host": ("host", "proxy_host", "ip"),
    "port": ("port", "proxy_port"),
    "username": ("username", "user", "login", "proxy_user"),
    "password": ("password", "pass", "proxy_password"),
}


def _proxy_object(field: str, value: dict[str, Any]) -> dict[str, Any] | None:
    record: dict[str, Any] = {}
    for target, keys in _PROXY_OBJECT_KEYS.items():
        found = next((value[k] for k in keys if value.get(k) not in (None, "")), None)
        if found is not None:
            record[target] = str(found).lower() if target == "scheme" else found
    if record.get("scheme") in ("none", "no_proxy", "direct") or not record.get("host"):
        return None  # a profile without a proxy
    try:
        parsed = parse_record(prx.FIELDS, record)
    except ValidationError as exc:
        raise ValidationError(field, f"the {exc.field} {exc.reason}") from None
    if parsed.get("password"):
        register_secret(parsed["password"])
    return parsed


def _cookies_cell(field: str, value: Any) -> str | None:
    """Cookies JSON, or the name of a cookies file; read when the row is completed
    (`complete_account_row`), where the imported file's folder is known."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (list, dict)):  # a JSON file's item may hold the cookies as such
        return json.dumps(value)
    if not isinstance(value, str):
        raise ValidationError(field, "must be cookies JSON or a cookies file's name")
    return value.strip()


# an account file may give the posting window in one column, "09:00-21:00" (or "off"),
# a proxy address (or its pieces) and the account's cookies
ACCOUNT_IMPORT_FIELDS: dict[str, Field] = {
    **acc.FIELDS,
    "posting_window": Field("posting_window", posting_window_fields),
    "proxy": Field("proxy", _proxy_address, secret=True),
    "cookies": Field("cookies", _cookies_cell, secret=True),
    **{
        f"proxy_{part}": Field(
            f"proxy_{part}", prx.FIELDS[part].parse, secret=prx.FIELDS[part].secret
        )
        for part in PROXY_PARTS
    },
}
WINDOW_KEY = "accounts.default_posting_window"
ACCOUNT_FILE = RecordFile(
    "accounts", ACCOUNT_IMPORT_FIELDS, {"tag": "tags"}, None, ("items", "accounts")
)
PROXY_FILE = RecordFile("proxies", prx.FIELDS, {}, prx.parse_proxy_line, ("items", "proxies"))


@dataclass
class Row:
    """One record read from a file, before its fields are parsed."""

    line: int
    record: dict[str, Any]
    item: int | None = None

    def where(self) -> str:
        return f"line {self.line}" + (f" (item {self.item})" if self.item else "")


def detect_format(text: str, kind: RecordFile | None = None) -> str:
    """json, csv or lines (one proxy per line). A file of a kind without a one-line form
    is CSV unless it is JSON; for proxies, CSV when the first line names columns."""
    if looks_like_json(text):
        return "json"
    if kind is not None and kind.parse_line is None:
        return "csv"
    line = first_line(text)
    if kind is not None:
        cells = header_cells(line)
        known = set(kind.fields) | set(kind.aliases)
        return "csv" if cells and all(c in known for c in cells if c) else "lines"
    return "csv" if any(d in line for d in (",", "\t", ";")) else "lines"


def file_headers(kind: RecordFile, text: str, fmt: str | None = None) -> list[str]:
    """The column names a CSV file's header gives, or the keys of a JSON file's items
    in the order first seen; [] for other files (one proxy per line)."""
    text = text.lstrip("\ufeff")
    fmt = fmt or detect_format(text, kind)
    if fmt == "csv":
        return [c for c in header_cells(first_line(text)) if c]
    if fmt == "json":
        keys: dict[str, None] = {}
        for item in json_items(text, kind.list_keys):
            if isinstance(item.value, dict):
                keys.update(dict.fromkeys(str(k) for k in item.value))
        return list(keys)
    return []


def check_mapping(kind: RecordFile, mapping: dict[str, str]) -> dict[str, str]:
    """A column mapping's targets are the file's fields or IGNORE (field `map`)."""
    for column, target in mapping.items():
        if target != IGNORE and target not in kind.fields:
            raise ValidationError(
                "map",
                f"{shown(column)} maps to unknown field {shown(target)}; the fields are: "
                + ", ".join(kind.fields)
                + f", or {IGNORE}",
            )
    return mapping


def _key_plan(
    keys: tuple[Any, ...],
    aliases: dict[str, str],
    ignore: set[str],
    guessed: Callable[[str], str | None] | None,
) -> list[tuple[Any, str]]:
    """(key, the field it is read as) for a JSON item's keys, ignored ones left out; a
    synonym never takes the place of a field the item gives by its own name."""
    plan: list[tuple[Any, str]] = []
    taken = {str(k) for k in keys}
    for k in keys:
        key = str(k)
        if key in ignore:
            continue
        name = aliases.get(key) or (guessed(key) if guessed else None) or key
        if name != key and name in taken:
            name = key
        taken.add(name)
        plan.append((k, name))
    return plan


def read_rows(
    kind: RecordFile,
    text: str,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
) -> tuple[str, list[Row], list[LineError]]:
    """(format, the records with their lines, the lines that could not be read).
    `mapping` ({column: field or IGNORE}) names the columns the file calls otherwise.
    A problem with the whole file (its header, its JSON) raises FileFormatError."""
    text = text.lstrip("\ufeff")
    fmt = fmt or detect_format(text, kind)
    # no mapping for an accounts file's JSON: each key is guessed (cached) as it comes
    guess = mapping is None and kind is ACCOUNT_FILE
    guessed = cache(partial(guess_field, fields=tuple(kind.fields)))
    plans: dict[tuple[Any, ...], list[tuple[Any, str]]] = {}  # items share their keys
    mapping = check_mapping(kind, mapping or {})
    ignore = {c.strip() for c, target in mapping.items() if target == IGNORE}
    aliases = {
        **kind.aliases,
        **{c.strip(): target for c, target in mapping.items() if target != IGNORE},
    }
    rows: list[Row] = []
    errors: list[LineError] = []
    if fmt == "json":
        for item in json_items(text, kind.list_keys):
            number = item.item if item.shares_line else None
            if isinstance(item.value, dict):
                keys = tuple(item.value)
                plan = plans.get(keys)
                if plan is None:
                    plan = plans[keys] = _key_plan(
                        keys, aliases, ignore, guessed if guess else None
                    )
                record = {name: item.value[key] for key, name in plan}
                rows.append(Row(item.line, record, number))
            else:
                errors.append(
                    LineError(item.line, "item", f"item {item.item} is not an object", number)
                )
    elif fmt == "csv":
        table = read_csv(text, kind.fields, aliases, ignore)
        rows = [Row(r.line, dict(r.values)) for r in table.rows]
        errors = [LineError(line, name, reason) for line, name, reason in table.problems]
    elif fmt == "lines":
        if kind.parse_line is None:
            raise FileFormatError(f"{kind.noun} come as CSV with a header row, or JSON")
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                rows.append(Row(number, kind.parse_line(line)))
            except ValidationError as exc:
                errors.append(LineError(number, exc.field, exc.reason))
    else:
        raise FileFormatError(f"unknown format {shown(fmt)}")
    return fmt, rows, errors


def parse_row(kind: RecordFile, row: Row) -> dict[str, Any]:
    """A row's fields parsed (ValidationError naming the field)."""
    record = {kind.aliases.get(k, k): v for k, v in row.record.items()}
    # blanks mean "not given", so that re-imports don't wipe stored values
    record = {k: v for k, v in record.items() if not (isinstance(v, str) and v == "")}
    return parse_record(kind.fields, record)


def _run_import(
    kind: RecordFile, text: str, fmt: str | None, mapping: dict[str, str] | None = None
) -> tuple[list[tuple[Row, dict[str, Any]]], list[LineError]]:
    _fmt, rows, errors = read_rows(kind, text, fmt, mapping)
    parsed: list[tuple[Row, dict[str, Any]]] = []
    for row in rows:
        try:
            parsed.append((row, parse_row(kind, row)))
        except ValidationError as exc:
            errors.append(LineError(row.line, exc.field, exc.reason, row.item))
    return parsed, errors


# reads cookies (JSON or cookies.txt) into Playwright cookies, raising ValueError with a
# reason that names the cookie, never its value; browser/cookies.py's parser, handed in
# by the CLI and the GUI (the domain does not import the browser layer)
CookieReader = Callable[[str], list[dict[str, Any]]]


@dataclass(frozen=True)
class AccountFileContext:
    """What completing an accounts row needs besides the row: the imported file's
    folder (cookies files are named relative to it) and the cookie reader."""

    folder: Path | None = None
    read_cookies: CookieReader | None = None


def _cookies(cell: str, context: AccountFileContext) -> list[dict[str, Any]]:
    if context.read_cookies is None:
        raise ValidationError("cookies", "cannot be read here (import through the app or CLI)")
    if cell.lstrip()[:1] in ("[", "{"):
        text = cell
    else:
        path = Path(cell).expanduser()
        if not path.is_absolute():
            path = (context.folder or Path.cwd()) / path
        if not path.is_file():
            # never echo the cell: it may be a pasted cookie header, a session itself
            raise ValidationError(
                "cookies", "not cookies JSON, and no cookies file of that name beside the file"
            )
        try:
            text = read_text_file(path)
        except (OSError, ValidationError) as exc:
            reason = exc.reason if isinstance(exc, ValidationError) else exc.strerror
            raise ValidationError("cookies", f"{shown(path.name)}: {reason}") from None
    try:
        cookies = context.read_cookies(text)
    except ValueError as exc:
        raise ValidationError("cookies", str(exc)) from None
    if not cookies:
        raise ValidationError("cookies", "holds no cookies")
    return cookies


def complete_account_row(values: dict[str, Any], context: AccountFileContext) -> dict[str, Any]:
    """A parsed accounts row made whole: the proxy pieces joined into one proxy, the
    cookies read into a browser session. ValidationError names the field."""
    parts = {
        p: values.pop(f"proxy_{p}") for p in PROXY_PARTS if values.get(f"proxy_{p}") is not None
    }
    if parts:
        if values.get("proxy"):
            raise ValidationError(
                "proxy_host", "give the proxy in one column or in pieces, not both"
            )
        if "host" not in parts or "port" not in parts:
            missing = "proxy_host" if "host" not in parts else "proxy_port"
            raise ValidationError(missing, "is missing: a proxy in pieces needs a host and a port")
        if parts.get("username") and not parts.get("password"):
            raise ValidationError("proxy_password", "is missing: a proxy user needs one")
        values["proxy"] = parts
    for p in PROXY_PARTS:
        values.pop(f"proxy_{p}", None)
    if values.get("proxy") and values.get("proxy_id") is not None:
        raise ValidationError("proxy", "give a proxy address or a proxy_id, not both")
    if values.get("cookies"):
        values["storage_state"] = {"cookies": _cookies(values["cookies"], context), "origins": []}
    values.pop("cookies", None)
    return values


def account_headers(text: str, fmt: str | None = None) -> list[str]:
    return file_headers(ACCOUNT_FILE, text, fmt)


def account_mapping(
    db: Database, text: str, fmt: str | None = None, overrides: dict[str, str] | None = None
) -> tuple[dict[str, str], bool]:
    """(the column mapping an accounts file gets, whether it is the remembered one):
    guessed from the headers, what the operator chose for the same header set, then
    `overrides` (`--map`)."""
    headers = account_headers(text, fmt)
    with db.session() as session:
        return resolve_mapping(session, headers, ACCOUNT_FILE.fields, overrides)


def import_accounts(
    db: Database,
    text: str,
    fmt: str | None = None,
    *,
    mapping: dict[str, str] | None = None,
    context: AccountFileContext | None = None,
    spread: str | None = None,
    remember: bool = False,
) -> ImportReport:
    """Import an accounts file. `mapping` names its columns ({column: field or
    IGNORE}; default: guessed from the headers); `remember` keeps it for the next
    file with the same headers. Proxy addresses become proxy rows (matched to existing
    ones by scheme + host + port + user) assigned to their accounts; cookies become the
    account's browser session. With `spread` (round_robin, country), accounts the file
    gives no proxy and that have none get one each from the live proxies."""
    if spread is not None:
        check_spread(spread)
    context = context or AccountFileContext()
    fmt = fmt or detect_format(text.lstrip("\ufeff"), ACCOUNT_FILE)
    # a JSON file's keys are guessed while its items are read (one parse, not two)
    headers = account_headers(text, fmt) if fmt != "json" or remember else []
    if mapping is None and fmt != "json":
        mapping = guess_mapping(headers, ACCOUNT_FILE.fields)
    parsed, errors = _run_import(ACCOUNT_FILE, text, fmt, mapping)
    # cookies files are read before the write transaction, not while holding it
    completed: list[tuple[Row, dict[str, Any]]] = []
    for row, values in parsed:
        try:
            completed.append((row, complete_account_row(values, context)))
        except ValidationError as exc:
            errors.append(LineError(row.line, exc.field, exc.reason, row.item))
    report = ImportReport(errors=errors)
    with db.write() as session:
        proxy_rows = {
            (scheme, host, port, username): (proxy_id, password)
            for proxy_id, scheme, host, port, username, password in session.execute(
                select(
                    Proxy.id, Proxy.scheme, Proxy.host, Proxy.port, Proxy.username, Proxy.password
                )
            )
        }
        proxy_ids = {proxy_id for proxy_id, _ in proxy_rows.values()}
        profile_ids = set(session.scalars(select(BrowserProfile.id)))
        existing = {
            (platform, username): account_id
            for account_id, platform, username in session.execute(
                select(Account.id, Account.platform, Account.username)
            )
        }
        # a new account posts in a daytime window of its own zone unless the file says
        default_window = posting_window_fields(WINDOW_KEY, setting(session, WINDOW_KEY))
        batch = _Batch(
            Account,
            existing,
            {
                "tags": [],
                "routes": [],
                "status": "active",
                "timezone": "UTC",
                "window_enabled": False,
                **default_window,
                "min_spacing_minutes": 60,
                "max_posts_per_day": 3,
            },
        )
        seen: dict[tuple[str, str], str] = {}
        accepted: list[tuple[tuple[str, str], dict[str, Any], dict[str, Any] | None]] = []
        for row, values in completed:
            number = row.line
            values.update(values.pop("posting_window", None) or {})
            values["username"] = acc.normalise_username(values["username"])
            values["platform"] = values.get("platform") or "tiktok"
            key = (values["platform"], values["username"])
            problem = _account_problem(values, key, proxy_ids, profile_ids, existing, seen)
            if problem:
                report.errors.append(LineError(number, *problem, row.item))
                continue
            seen[key] = row.where()
            accepted.append((key, values, values.pop("proxy", None)))
        report.proxies_created = _write_proxies(session, accepted, proxy_rows)
        for key, values, proxy in accepted:
            if proxy is not None:
                values["proxy_id"] = proxy_rows[_proxy_key(proxy)][0]
            if key not in existing and not values.get("timezone"):
                report.no_timezone.append(values["username"])
            batch.add(key, values)
        report.created, report.updated = batch.write(session)
        if spread is not None:
            _spread_new(session, report, {key for key, _, _ in accepted}, spread)
        if remember and headers and mapping is not None:
            remember_mapping(session, headers, mapping)
    if report.no_timezone:
        report.notes.append(
            f"{len(report.no_timezone):,} account{'s' if len(report.no_timezone) != 1 else ''}"
            " had no time zone: UTC"
        )
    report.errors.sort(key=lambda e: (e.line, e.item or 0))
    return report


def _account_problem(
    values: dict[str, Any],
    key: tuple[str, str],
    proxy_ids: set[int],
    profile_ids: set[int],
    existing: dict[tuple[str, str], int],
    seen: dict[tuple[str, str], str],
) -> tuple[str, str] | None:
    """What the vault refuses in a parsed row: (field, reason), or None."""
    if values.get("proxy_id") is not None and values["proxy_id"] not in proxy_ids:
        return ("proxy_id", f"no proxy with id {values['proxy_id']}")
    if values.get("profile_id") is not None and values["profile_id"] not in profile_ids:
        return ("profile_id", f"no browser profile with id {values['profile_id']}")
    if (
        values.get("window_enabled")
        and key not in existing
        and (values.get("window_start") is None or values.get("window_end") is None)
    ):
        return ("window_start", "a posting window needs a start and an end")
    if key in seen:
        return ("username", f"duplicate of {seen[key]} in this file")
    return None


def _proxy_key(proxy: dict[str, Any]) -> tuple[str, str, int, str]:
    return (
        proxy.get("scheme") or "http",
        proxy["host"],
        proxy["port"],
        proxy.get("username") or "",
    )


def _write_proxies(
    session: Session,
    accepted: Sequence[tuple[Any, dict[str, Any], dict[str, Any] | None]],
    known: dict[tuple[str, str, int, str], tuple[int, str | None]],
) -> int:
    """Insert the accepted rows' new proxies (one per scheme + host + port + user), set
    a known one's password when the file gives another; `known` gains the new ids."""
    new: dict[tuple[str, str, int, str], dict[str, Any]] = {}
    changed: list[dict[str, Any]] = []
    now = utcnow()
    for _key, _values, proxy in accepted:
        if proxy is None:
            continue
        key = _proxy_key(proxy)
        password = proxy.get("password")
        if key in known:
            proxy_id, stored = known[key]
            if password and password != stored:
                changed.append({"id": proxy_id, "password": password, "updated_at": now})
                known[key] = (proxy_id, password)
        elif key not in new:
            new[key] = {
                "kind": "datacenter",
                "status": "unchecked",
                "created_at": now,
                "updated_at": now,
                **{k: v for k, v in proxy.items() if v is not None},
                "scheme": key[0],
                "username": key[3],
            }
    if changed:
        session.execute(update(Proxy), changed)
    if new:
        session.execute(insert(Proxy), list(new.values()))
        for proxy_id, scheme, host, port, username in session.execute(
            select(Proxy.id, Proxy.scheme, Proxy.host, Proxy.port, Proxy.username)
        ):
            if (scheme, host, port, username) in new:
                known[(scheme, host, port, username)] = (proxy_id, None)
    return len(new)


def _spread_new(
    session: Session, report: ImportReport, keys: set[tuple[str, str]], how: str
) -> None:
    """Give the imported accounts that have no proxy one each of the live proxies."""
    wanting = [
        SpreadAccount(account_id, acc.account_country(country, timezone))
        for account_id, platform, username, proxy_id, country, timezone in session.execute(
            select(
                Account.id,
                Account.platform,
                Account.username,
                Account.proxy_id,
                Account.country,
                Account.timezone,
            )
        )
        if proxy_id is None and (platform, username) in keys
    ]
    if not wanting:
        return
    proxies = [acc.spread_proxy(p) for p in session.scalars(select(Proxy).order_by(Proxy.id))]
    if not any(not p.dead for p in proxies):
        report.notes.append(
            f"{len(wanting):,} accounts were left without a proxy: no live proxy to spread"
        )
        return
    result = spread_proxies(wanting, proxies, how)
    session.execute(
        update(Account),
        [{"id": a, "proxy_id": p} for a, p in result.assigned.items()],
    )
    report.spread = len(result.assigned)
    label = "by country" if how == "country" else "round-robin"
    plural = "s" if report.spread != 1 else ""
    report.notes.append(f"{report.spread:,} account{plural} got a proxy ({label})")
    if how == "country" and result.unmatched:
        report.notes.append(
            f"{len(result.unmatched):,} had no live proxy of their country: given another"
        )


def account_template() -> str:
    """A CSV with every accepted column and one example row (loopback proxy, no real
    secrets), quoted like Piper's exports."""
    from .import_columns import ACCOUNT_COLUMNS

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow([c.name for c in ACCOUNT_COLUMNS])
    writer.writerow([c.example for c in ACCOUNT_COLUMNS])
    return out.getvalue()


def import_proxies(db: Database, text: str, fmt: str | None = None) -> ImportReport:
    parsed, errors = _run_import(PROXY_FILE, text, fmt)
    report = ImportReport(errors=errors)
    with db.write() as session:
        existing = {
            (scheme, host, port, username): proxy_id
            for proxy_id, scheme, host, port, username in session.execute(
                select(Proxy.id, Proxy.scheme, Proxy.host, Proxy.port, Proxy.username)
            )
        }
        batch = _Batch(Proxy, existing, {"kind": "datacenter", "status": "unchecked"})
        seen: dict[tuple[str, str, int, str], str] = {}
        for row, values in parsed:
            number = row.line
            values["scheme"] = values.get("scheme") or "http"
            values["username"] = values.get("username") or ""
            key = (values["scheme"], values["host"], values["port"], values["username"])
            if key in seen:
                report.errors.append(
                    LineError(number, "host", f"duplicate of {seen[key]}", row.item)
                )
                continue
            seen[key] = row.where()
            batch.add(key, values)
        report.created, report.updated = batch.write(session)
    report.errors.sort(key=lambda e: (e.line, e.item or 0))
    return report


# a row's natural key (accounts: platform + username; proxies: scheme + host + port + user)
Key = TypeVar("Key", bound=Hashable)


class _Batch(Generic[Key]):
    """The rows of one import: new ones inserted in bulk, known ones (by natural key)
    updated in bulk by primary key."""

    def __init__(
        self, model: type[Base], existing: dict[Key, int], defaults: dict[str, Any]
    ) -> None:
        self.model = model
        self.existing = existing
        self.defaults = defaults
        self.now = utcnow()
        self.inserts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []

    def add(self, key: Key, values: dict[str, Any]) -> None:
        if values.get("password"):
            register_secret(values["password"])
        clean = {k: v for k, v in values.items() if v is not None}
        if key in self.existing:
            self.updates.append({"id": self.existing[key], "updated_at": self.now, **clean})
        else:
            self.inserts.append(
                {**self.defaults, "created_at": self.now, "updated_at": self.now, **clean}
            )

    def write(self, session: Session) -> tuple[int, int]:
        """(created, updated)."""
        if self.inserts:
            session.execute(insert(self.model), self.inserts)
        # one executemany per set of columns: rows differ in which cells they fill
        groups: dict[frozenset[str], list[dict[str, Any]]] = {}
        for row in self.updates:
            groups.setdefault(frozenset(row), []).append(row)
        for group in groups.values():
            session.execute(update(self.model), group)
        return len(self.inserts), len(self.updates)


def _cell(value: Any) -> Any:
    value = plain(value)
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if value is None:
        return ""
    return safe_cell(value)


def export_rows(rows: list[dict[str, Any]], fmt: str, columns: list[str]) -> str:
    if fmt == "json":
        return json.dumps([{c: plain(r.get(c)) for c in columns if c in r} for r in rows], indent=2)
    if fmt == "csv":
        out = io.StringIO()
        present = [c for c in columns if any(c in r for r in rows)] if rows else columns
        # every cell quoted (OWASP): a CR inside one is then data, not a line end
        writer = csv.DictWriter(
            out,
            fieldnames=present,
            extrasaction="ignore",
            lineterminator="\n",
            quoting=csv.QUOTE_ALL,
        )
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _cell(row.get(c)) for c in present})
        return out.getvalue()
    raise ValidationError("format", f"must be csv or json, got {fmt!r}")


def export_accounts(db: Database, fmt: str, *, include_secrets: bool = False) -> str:
    service = acc.AccountService(db)
    columns = [c for c in acc.FIELDS if include_secrets or c not in acc.SECRETS]
    rows = [service.to_dict(a, include_secrets=include_secrets) for a in service.list()]
    return export_rows(rows, fmt, columns)


def export_proxies(db: Database, fmt: str, *, include_secrets: bool = False) -> str:
    service = prx.ProxyService(db)
    columns = [c for c in prx.FIELDS if include_secrets or c not in prx.SECRETS]
    rows = [service.to_dict(p, include_secrets=include_secrets) for p in service.list()]
    return export_rows(rows, fmt, columns)
