"""Bulk import and export of accounts and proxies (CSV, JSON, proxy one-line forms).

Import is all-or-report: good lines are imported, each bad line is reported with its line
number, field and reason, and re-importing the same file updates rather than duplicates
(accounts by platform + username, proxies by scheme + host + port + username).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Hashable, Iterator
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
from .fields import Field, parse_record
from .records import plain


@dataclass
class LineError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.reason}"


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


class FileFormatError(ValidationError):
    pass


def detect_format(text: str) -> str:
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("[", "{")):
        return "json"
    first = stripped.splitlines()[0] if stripped else ""
    if "," in first or "\t" in first:
        return "csv"
    return "lines"


def read_rows(text: str, fmt: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) pairs. CSV line numbers count the header as line 1."""
    fmt = fmt or detect_format(text)
    text = text.lstrip("\ufeff")
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileFormatError("file", f"invalid JSON at line {exc.lineno}: {exc.msg}") from None
        if isinstance(data, dict):
            data = data.get("items", data.get("accounts", data.get("proxies", [data])))
        if not isinstance(data, list):
            raise FileFormatError("file", "JSON must be a list of objects")
        for index, item in enumerate(data, start=1):
            if not isinstance(item, dict):
                raise FileFormatError("file", f"JSON item {index} is not an object")
            yield index, item
        return
    if fmt == "csv":
        sample = text[:4096]
        dialect: type[csv.Dialect] = csv.excel_tab if "\t" in sample.splitlines()[0] else csv.excel
        reader = csv.DictReader(io.StringIO(text), dialect=dialect)
        for row in reader:
            if None in row:
                yield reader.line_num, {"__extra__": row[None]}
                continue
            if not any((v or "").strip() for v in row.values()):
                continue
            yield reader.line_num, {k.strip(): v for k, v in row.items() if k is not None}
        return
    raise FileFormatError("file", f"unknown format {fmt!r}")


def _header_errors(rows: list[tuple[int, dict[str, Any]]], allowed: set[str]) -> list[LineError]:
    errors = []
    for line, record in rows:
        if "__extra__" in record:
            errors.append(LineError(line, "line", "more values than columns"))
    return errors


def _run_import(
    text: str,
    fmt: str | None,
    fields: dict[str, Field],
    aliases: dict[str, str],
    parse_line: Callable[[str], dict[str, Any]] | None,
) -> tuple[list[tuple[int, dict[str, Any]]], list[LineError]]:
    fmt = fmt or detect_format(text)
    errors: list[LineError] = []
    parsed: list[tuple[int, dict[str, Any]]] = []
    if fmt == "lines":
        if parse_line is None:
            raise FileFormatError("file", "expected CSV with a header row, or JSON")
        raw_rows: list[tuple[int, dict[str, Any]]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            try:
                raw_rows.append((number, parse_line(line)))
            except ValidationError as exc:
                errors.append(LineError(number, exc.field, exc.reason))
    else:
        raw_rows = list(read_rows(text, fmt))
        if fmt == "csv" and raw_rows is not None:
            header = next(csv.reader(io.StringIO(text.lstrip("\ufeff").splitlines()[0] + "\n")))
            unknown = [
                h.strip() for h in header if h.strip() not in fields and h.strip() not in aliases
            ]
            if unknown:
                raise FileFormatError(unknown[0], "unknown column (line 1)")
        errors.extend(_header_errors(raw_rows, set(fields)))
        raw_rows = [(n, r) for n, r in raw_rows if "__extra__" not in r]
    for number, record in raw_rows:
        record = {aliases.get(k, k): v for k, v in record.items()}
        # CSV blanks mean "not given", so that re-imports don't wipe stored values
        record = {k: v for k, v in record.items() if not (isinstance(v, str) and v == "")}
        try:
            parsed.append((number, parse_record(fields, record)))
        except ValidationError as exc:
            errors.append(LineError(number, exc.field, exc.reason))
    return parsed, errors


def import_accounts(db: Database, text: str, fmt: str | None = None) -> ImportReport:
    fields = dict(acc.FIELDS)
    parsed, errors = _run_import(text, fmt, fields, {"tag": "tags"}, None)
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
        batch = _Batch(
            Account,
            existing,
            {
                "tags": [],
                "routes": [],
                "status": "active",
                "timezone": "UTC",
                "window_enabled": False,
                "min_spacing_minutes": 60,
                "max_posts_per_day": 3,
            },
        )
        seen: dict[tuple[str, str], int] = {}
        for number, values in parsed:
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
                problem = ("username", f"duplicate of line {seen[key]} in this file")
            if problem:
                report.errors.append(LineError(number, *problem))
                continue
            seen[key] = number
            batch.add(key, values)
        report.created, report.updated = batch.write(session)
    report.errors.sort(key=lambda e: e.line)
    return report


def import_proxies(db: Database, text: str, fmt: str | None = None) -> ImportReport:
    parsed, errors = _run_import(text, fmt, dict(prx.FIELDS), {}, prx.parse_proxy_line)
    report = ImportReport(errors=errors)
    with db.write() as session:
        existing = {
            (scheme, host, port, username): proxy_id
            for proxy_id, scheme, host, port, username in session.execute(
                select(Proxy.id, Proxy.scheme, Proxy.host, Proxy.port, Proxy.username)
            )
        }
        batch = _Batch(Proxy, existing, {"kind": "datacenter", "status": "unchecked"})
        seen: dict[tuple[str, str, int, str], int] = {}
        for number, values in parsed:
            values["scheme"] = values.get("scheme") or "http"
            values["username"] = values.get("username") or ""
            key = (values["scheme"], values["host"], values["port"], values["username"])
            if key in seen:
                report.errors.append(LineError(number, "host", f"duplicate of line {seen[key]}"))
                continue
            seen[key] = number
            batch.add(key, values)
        report.created, report.updated = batch.write(session)
    report.errors.sort(key=lambda e: e.line)
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
        return ";".join(str(v) for v in value)
    if value is None:
        return ""
    return value


def export_rows(rows: list[dict[str, Any]], fmt: str, columns: list[str]) -> str:
    if fmt == "json":
        return json.dumps([{c: plain(r.get(c)) for c in columns if c in r} for r in rows], indent=2)
    if fmt == "csv":
        out = io.StringIO()
        present = [c for c in columns if any(c in r for r in rows)] if rows else columns
        writer = csv.DictWriter(out, fieldnames=present, extrasaction="ignore", lineterminator="\n")
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
