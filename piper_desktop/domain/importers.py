"""Bulk import and export of accounts and proxies (CSV, JSON, proxy one-line forms).

Import is all-or-report: good lines are imported, each bad line is reported with its line
number, field and reason, and re-importing the same file updates rather than duplicates
(accounts by platform + username, proxies by scheme + host + port + username).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
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
from .policy import posting_window_fields
from .records import plain
from .slots import setting
from .textfiles import (
    FileFormatError,
    first_line,
    header_cells,
    json_items,
    looks_like_json,
    read_csv,
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

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "errors": [e.__dict__ for e in self.errors],
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


# an account file may give the posting window in one column, "09:00-21:00" (or "off")
ACCOUNT_IMPORT_FIELDS = {
    **acc.FIELDS,
    "posting_window": Field("posting_window", posting_window_fields),
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


def read_rows(
    kind: RecordFile, text: str, fmt: str | None = None
) -> tuple[str, list[Row], list[LineError]]:
    """(format, the records with their lines, the lines that could not be read).
    A problem with the whole file (its header, its JSON) raises FileFormatError."""
    text = text.lstrip("\ufeff")
    fmt = fmt or detect_format(text, kind)
    rows: list[Row] = []
    errors: list[LineError] = []
    if fmt == "json":
        for item in json_items(text, kind.list_keys):
            number = item.item if item.shares_line else None
            if isinstance(item.value, dict):
                rows.append(Row(item.line, item.value, number))
            else:
                errors.append(
                    LineError(item.line, "item", f"item {item.item} is not an object", number)
                )
    elif fmt == "csv":
        table = read_csv(text, kind.fields, kind.aliases)
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
    kind: RecordFile, text: str, fmt: str | None
) -> tuple[list[tuple[Row, dict[str, Any]]], list[LineError]]:
    _fmt, rows, errors = read_rows(kind, text, fmt)
    parsed: list[tuple[Row, dict[str, Any]]] = []
    for row in rows:
        try:
            parsed.append((row, parse_row(kind, row)))
        except ValidationError as exc:
            errors.append(LineError(row.line, exc.field, exc.reason, row.item))
    return parsed, errors


def import_accounts(db: Database, text: str, fmt: str | None = None) -> ImportReport:
    parsed, errors = _run_import(ACCOUNT_FILE, text, fmt)
    report = ImportReport(errors=errors)
    with db.write() as session:
        proxy_ids = set(session.scalars(select(Proxy.id)))
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
        for row, values in parsed:
            number = row.line
            values.update(values.pop("posting_window", None) or {})
            values["username"] = acc.normalise_username(values["username"])
            values["platform"] = values.get("platform") or "tiktok"
            key = (values["platform"], values["username"])
            problem = None
            if values.get("proxy_id") is not None and values["proxy_id"] not in proxy_ids:
                problem = ("proxy_id", f"no proxy with id {values['proxy_id']}")
            elif values.get("profile_id") is not None and values["profile_id"] not in profile_ids:
                problem = ("profile_id", f"no browser profile with id {values['profile_id']}")
            elif (
                values.get("window_enabled")
                and key not in existing
                and (values.get("window_start") is None or values.get("window_end") is None)
            ):
                problem = ("window_start", "a posting window needs a start and an end")
            elif key in seen:
                problem = ("username", f"duplicate of {seen[key]} in this file")
            if problem:
                report.errors.append(LineError(number, *problem, row.item))
                continue
            seen[key] = row.where()
            batch.add(key, values)
        report.created, report.updated = batch.write(session)
    report.errors.sort(key=lambda e: (e.line, e.item or 0))
    return report


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
