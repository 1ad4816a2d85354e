"""Accounts and proxies files of any shape: never a traceback, every problem named by
its line and field, and nothing already stored lost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select

from piper_desktop.domain import importers, textfiles
from piper_desktop.domain.errors import ValidationError
from piper_desktop.store.db import Database
from piper_desktop.store.models import Account, Proxy
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import (
    ACCOUNT_COLUMNS,
    PROXY_COLUMNS,
    csv_documents,
    json_documents,
    proxy_lines,
)

Importer = Callable[[Database, str], importers.ImportReport]


def _rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.session() as session:
        return {
            "accounts": list(
                session.execute(
                    select(Account.id, Account.platform, Account.username, Account.password)
                )
            ),
            "proxies": list(
                session.execute(
                    select(Proxy.id, Proxy.host, Proxy.port, Proxy.username, Proxy.password)
                )
            ),
        }


def check_import(db: Database, run: Importer, text: str) -> importers.ImportReport | None:
    """The import either names each bad line, or refuses the whole file changing
    nothing; rows already stored are never removed, the keepers never changed."""
    before = _rows(db)
    try:
        report = run(db, text)
    except importers.FileFormatError as exc:
        assert exc.field == "file" and exc.reason
        assert _rows(db) == before
        return None
    lines = text.count("\n") + text.count("\r") + 1
    for error in report.errors:
        assert 1 <= error.line <= lines, (error, text)
        assert error.field and error.reason
        assert "\n" not in str(error)
    after = _rows(db)
    for table in ("accounts", "proxies"):
        assert {r[0] for r in before[table]} <= {r[0] for r in after[table]}
    keeper = [r for r in after["accounts"] if r[2] == "keeper_kept"]
    assert keeper and keeper[0][3] == "pw-keeper-1"
    kept_proxy = [r for r in after["proxies"] if r[1] == "keeper.proxy.test"]
    assert kept_proxy and kept_proxy[0][4] == "pw-proxy-1"
    return report


@FUZZ
@given(text=csv_documents(ACCOUNT_COLUMNS))
@example(text="username,notes\nann," + "x" * 140_000 + "\n")
@example(text='username,notes\nann,"open quote\nbob,x\n')
@example(text="username,display_name\nann,a\x00b\nbob,\ud800\n")
@example(text="username\tpasswd\nann\tx\n")
def test_accounts_csv(fuzz_db: Database, text: str) -> None:
    check_import(fuzz_db, importers.import_accounts, text)


@FUZZ
@given(text=json_documents(ACCOUNT_COLUMNS, importers.ACCOUNT_FILE.list_keys))
@example(text="[" * 5000 + "]" * 5000)
@example(text='{"accounts": {"accounts": []}}')
@example(text='[{"username": "ann", "max_posts_per_day": 1e400}]')
def test_accounts_json(fuzz_db: Database, text: str) -> None:
    check_import(fuzz_db, importers.import_accounts, text)


@FUZZ
@given(lines=st.lists(proxy_lines(), max_size=8))
@example(lines=[("http://u:SECRET-a@127.0.0.1:notaport", "SECRET-a")])
@example(lines=[("socks5://[::1:80", "SECRET-b"), ("[::1]:8080", "SECRET-c")])
def test_proxy_lines(fuzz_db: Database, lines: list[tuple[str, str]]) -> None:
    text = "\n".join(line for line, _ in lines)
    report = check_import(fuzz_db, importers.import_proxies, text)
    if report is None:
        return
    for error in report.errors:
        for _line, password in lines:
            # a password longer than the marker alone never shows in a message
            if len(password) > len("SECRET-") + 2:
                assert password not in str(error), (error, password)


@FUZZ
@given(text=st.one_of(csv_documents(PROXY_COLUMNS), json_documents(PROXY_COLUMNS, ("proxies",))))
def test_proxy_files(fuzz_db: Database, text: str) -> None:
    check_import(fuzz_db, importers.import_proxies, text)


@FUZZ
@given(data=st.binary(max_size=200))
@example(data=b"username\nJos\xe9\n")
@example(data=b"\xff\xfeu\x00")
@example(data=b"\xfe\xff\x00")
def test_any_bytes(fuzz_db: Database, data: bytes) -> None:
    try:
        text = textfiles.decode_text(data)
    except importers.FileFormatError as exc:
        assert (exc.field == "file" and "line" in exc.reason) or "UTF-16" in exc.reason
        return
    check_import(fuzz_db, importers.import_accounts, text)
    check_import(fuzz_db, importers.import_proxies, text)


@FUZZ
@given(text=st.text(max_size=300))
def test_csv_reader_and_json_loader(text: str) -> None:
    for read in (
        lambda: textfiles.read_csv(text, ACCOUNT_COLUMNS, {}),
        lambda: textfiles.json_items(text, ("items",)),
    ):
        try:
            read()
        except ValidationError as exc:
            assert isinstance(exc, importers.FileFormatError)
