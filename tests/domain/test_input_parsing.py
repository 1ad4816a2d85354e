"""The parsers of operators' input, one rule at a time (issue 16, items 6, 9, 10, 11, 14)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from piper_desktop.browser.cookies import normalise_cookie, normalise_storage_state, parse_cookies
from piper_desktop.domain import importers, textfiles
from piper_desktop.domain import proxies as prx
from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.reporting import write_export
from piper_desktop.domain.services import Services
from piper_desktop.store.db import Database


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_cells_are_neutralised_in_every_csv_export(start: str) -> None:
    value = start + "cmd|' /C calc'!A0"
    exported = importers.export_rows([{"notes": value, "port": -1}], "csv", ["notes", "port"])
    cells = next(csv.DictReader(io.StringIO(exported, newline="")))
    assert cells == {"notes": "'" + value, "port": "-1"}  # numbers are left alone
    jobs = io.StringIO()
    write_export([{"caption": value}], "csv", jobs)
    assert "'" + value in jobs.getvalue()
    # and Piper's reader takes the quote off again
    table = textfiles.read_csv(exported, ["notes", "port"], {})
    assert table.rows[0].values["notes"] == value


def test_text_fields_refuse_nul_and_control_characters(services: Services) -> None:
    with pytest.raises(
        ValidationError, match=r"display_name: contains a control character \(NUL\)"
    ):
        services.accounts.add({"username": "ann", "display_name": "Ann\x00"})
    with pytest.raises(ValidationError, match="group: contains a control character"):
        services.accounts.add({"username": "ann", "group": "a\nb"})
    with pytest.raises(ValidationError, match="password: must not contain control characters"):
        services.accounts.add({"username": "ann", "password": "pw\x00x"})
    with pytest.raises(ValidationError, match="lone surrogate"):
        services.accounts.add({"username": "ann", "display_name": "\ud800"})
    with pytest.raises(ValidationError, match="name: contains a control character"):
        services.proxies.add({"host": "127.0.0.1", "port": 80, "name": "x\x00"})
    # line breaks are text in notes
    assert services.accounts.add({"username": "ann", "notes": "one\ntwo"}).notes == "one\ntwo"


def test_proxy_forms_and_ipv6() -> None:
    assert prx.parse_proxy_line("[::1]:8080") == {"host": "::1", "port": 8080}
    assert prx.parse_proxy_line("socks5://u%40x:p%3Aw@[2001:db8::1]:1080/") == {
        "scheme": "socks5",
        "host": "2001:db8::1",
        "port": 1080,
        "username": "u@x",
        "password": "p:w",
    }
    assert prx.parse_proxy_line("u:p@ss@127.0.0.1:80")["password"] == "p@ss"
    assert prx.parse_proxy_line("user:pw:127.0.0.1:80") == {
        "host": "127.0.0.1",
        "port": 80,
        "username": "user",
        "password": "pw",
    }

    class V6:
        scheme, host, port, username, password = "http", "::1", 8080, "u", "p w"

    assert prx.proxy_url(V6()) == "http://u:p%20w@[::1]:8080"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("http://u:Sekrit-1@127.0.0.1:notaport", "port"),
        ("http://u:Sekrit-1@127.0.0.1:99999", "port"),
        ("socks5://u:Sekrit-1@[::1:80", "host"),
        ("u:Sekrit-1@127.0.0.1", "line"),
        ("127.0.0.1:80:u", "password"),
        ("[nothex]:80:u:Sekrit-1", "host"),
    ],
)
def test_proxy_errors_name_the_piece_not_the_password(line: str, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        prx.parse_proxy_line(line)
    assert info.value.field == field
    assert "Sekrit-1" not in str(info.value)


def test_one_bad_proxy_line_does_not_abort_the_file(db: Database) -> None:
    report = importers.import_proxies(
        db, "http://u:p@127.0.0.1:notaport\n127.0.0.2:80\nsocks5://[::1:80\n[::1]:81\n"
    )
    assert (report.created, [e.line for e in report.errors]) == (2, [1, 3])


def test_csv_dialects_and_cr(db: Database) -> None:
    assert importers.import_accounts(db, "username\tgroup\nann\tg\n").created == 1
    assert importers.import_accounts(db, "username;group\nbob;g\n").created == 1
    assert importers.import_accounts(db, "username\ncid\n").created == 1
    assert importers.import_accounts(db, "username,group\r\ndee,g\r\n").created == 1
    # a CR inside quotes is the field's; outside, the line is refused, not split
    report = importers.import_accounts(db, 'username,notes\neve,"a\rb"\nfay,a\rghost\n')
    assert report.created == 1 and [e.line for e in report.errors] == [3]
    assert "ghost" not in {a.username for a in Services(db).accounts.list()}
    # a proxies file with a header row is CSV even with one column
    assert importers.detect_format("host\n127.0.0.1\n", importers.PROXY_FILE) == "csv"
    assert importers.detect_format("[::1]:8080\n", importers.PROXY_FILE) == "lines"


def test_unknown_and_repeated_columns(db: Database) -> None:
    with pytest.raises(textfiles.UnknownColumn) as info:
        importers.import_accounts(db, "username,passwd\nann,x\n")
    assert "unknown column 'passwd'" in str(info.value)
    with pytest.raises(importers.FileFormatError, match="appears twice"):
        importers.import_accounts(db, "username,group,group\nann,a,b\n")


def test_undecodable_and_utf16_files() -> None:
    with pytest.raises(importers.FileFormatError, match=r"line 3: not UTF-8 text \(byte 0xe9"):
        textfiles.decode_text(b"a\nb\nJos\xe9\n")
    assert textfiles.decode_text("username\tgroup\n".encode("utf-16")) == "username\tgroup\n"
    assert textfiles.decode_text(b"\xef\xbb\xbfx") == "x"


def test_json_lines_depth_and_nested_keys() -> None:
    with pytest.raises(importers.FileFormatError, match="line 3: JSON nested deeper than 64"):
        textfiles.load_json("[\n\n" + "[" * 70 + "]" * 70 + "]")
    items = textfiles.json_items(
        '{"meta": {"items": [1, 2]},\n "items": [\n {"a": 1},\n {"b": 2}]}', ("items",)
    )
    assert [(i.line, i.item, i.value) for i in items] == [(3, 1, {"a": 1}), (4, 2, {"b": 2})]
    with pytest.raises(importers.FileFormatError, match="line 2: not valid JSON"):
        textfiles.load_json('[\n{"a": }]')
    with pytest.raises(importers.FileFormatError, match="a number is too long"):
        textfiles.load_json("[" + "1" * 5000 + "]")


def test_cookie_rules_match_chromium() -> None:
    good = {"name": "sid", "value": "v", "domain": ".tiktok.com"}
    assert normalise_cookie(good)["expires"] == -1
    for bad, reason in [
        ({**good, "expires": float("nan")}, "not a finite number"),
        ({**good, "expires": 1e300}, "out of range"),
        ({**good, "expires": True}, "not a number"),
        ({**good, "value": "a\x00"}, "control character"),
        ({**good, "value": "a\r\nb"}, "control character"),
        ({**good, "value": "a;b"}, "';'"),
        ({**good, "value": "x" * 5000}, "4096 bytes"),
        ({**good, "domain": "bad domain"}, "not a host name"),
        ({**good, "domain": "a..b"}, "not a host name"),
        ({**good, "path": "/a;b"}, "path"),
    ]:
        with pytest.raises(ValueError, match=reason):
            normalise_cookie(bad)
    assert (
        normalise_cookie({**good, "domain": "bücher.example"})["domain"] == "xn--bcher-kva.example"
    )
    state = normalise_storage_state(
        {"cookies": [good, {**good, "name": "x", "expires": "soon"}, 7]}
    )
    assert [c["name"] for c in state["cookies"]] == ["sid"]
    assert normalise_storage_state("not a state") == {"cookies": [], "origins": []}


def test_minified_cookie_json_names_items() -> None:
    result = parse_cookies(
        json.dumps([{"name": "a", "value": "1", "domain": ".x.com"}, {"name": "b"}])
    )
    assert [str(e) for e in result.errors] == ["line 1 (item 2): cookie 'b': missing domain"]
