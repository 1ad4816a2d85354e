from __future__ import annotations

import json

import pytest

from piper_desktop.domain import importers
from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.services import Services
from piper_desktop.store.db import Database

ACCOUNTS_CSV = """platform,username,email,password,group,tags,timezone,max_posts_per_day
tiktok,alice,alice@example.com,pw-alice-1,agency,a;b,Europe/Berlin,4
tiktok,bob,not-an-email,pw-bob,agency,,UTC,2
tiktok,carol,carol@example.com,,clients,c,Mars/Olympus,2
instagram,alice,alice@example.com,,agency,,UTC,abc
tiktok,dave,dave@example.com,,,,America/New_York,
"""


def test_accounts_csv_imports_good_lines_and_reports_bad_ones(db: Database) -> None:
    report = importers.import_accounts(db, ACCOUNTS_CSV)
    assert report.created == 2
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "email"),
        (4, "timezone"),
        (5, "max_posts_per_day"),
    ]
    assert "Mars/Olympus" in report.errors[1].reason
    services = Services(db)
    alice = services.accounts.find("tiktok:alice")
    assert alice.tags == ["a", "b"] and alice.timezone == "Europe/Berlin"
    assert alice.password == "pw-alice-1"
    assert services.accounts.find("dave").timezone == "America/New_York"


def test_reimport_updates_instead_of_duplicating(db: Database) -> None:
    importers.import_accounts(db, ACCOUNTS_CSV)
    changed = ACCOUNTS_CSV.replace("agency,a;b,Europe/Berlin,4", "agency,a;b;c,Europe/Berlin,6")
    report = importers.import_accounts(db, changed)
    assert (report.created, report.updated) == (0, 2)
    services = Services(db)
    assert services.accounts.count() == 2
    alice = services.accounts.find("tiktok:alice")
    assert alice.max_posts_per_day == 6 and alice.tags == ["a", "b", "c"]
    # a blank cell in a re-import keeps the stored value
    assert alice.password == "pw-alice-1"


def test_unknown_column_is_named(db: Database) -> None:
    with pytest.raises(importers.FileFormatError) as info:
        importers.import_accounts(db, "username,favourite_colour\nalice,blue\n")
    assert info.value.column == "favourite_colour"  # type: ignore[attr-defined]
    assert "line 1: unknown column 'favourite_colour'" in str(info.value)
    assert Services(db).accounts.count() == 0


def test_accounts_json_with_bad_items(db: Database) -> None:
    data = [
        {
            "username": "eve",
            "tags": ["x", "y"],
            "window_enabled": True,
            "window_start": "09:00",
            "window_end": "21:00",
        },
        {"username": "frank", "window_enabled": True},
        {"username": "gina", "routes": ["tiktok_api", "carrier_pigeon"]},
        {"username": "hank", "proxy_id": 999},
        {"username": "eve", "display_name": "dup"},
    ]
    report = importers.import_accounts(db, json.dumps(data))
    assert report.created == 1
    # all on one line: the line and the item's place (not the item number as the line)
    assert [(e.line, e.item, e.field) for e in report.errors[:2]] == [
        (1, 2, "window_start"),
        (1, 3, "routes"),
    ]
    assert str(report.errors[1]).startswith("line 1 (item 3): routes:")
    # the database checks come after the field checks, then the errors are sorted
    assert {(e.item, e.field) for e in report.errors} == {
        (2, "window_start"),
        (3, "routes"),
        (4, "proxy_id"),
        (5, "username"),
    }


def test_json_errors_name_the_line_the_item_starts_on(db: Database) -> None:
    text = json.dumps(
        [{"username": "eve"}, {"username": "frank", "email": "x"}, {"username": "gina"}], indent=2
    )
    report = importers.import_accounts(db, text)
    assert report.created == 2
    # item 2 begins on line 5 of the file, not "line 2"
    assert [(e.line, e.item, e.field) for e in report.errors] == [(5, None, "email")]
    assert str(report.errors[0]).startswith("line 5: email:")


def test_invalid_json_names_the_line(db: Database) -> None:
    with pytest.raises(ValidationError, match="line 2"):
        importers.import_accounts(db, '[\n{"username": }\n]')


def test_proxy_line_forms(db: Database) -> None:
    text = "\n".join(
        [
            "127.0.0.1:8080",
            "127.0.0.2:8081:user1:pa:ss",
            "socks5://user2:secret2@127.0.0.3:1080",
            "user3:secret3@127.0.0.4:3128",
            "# a comment",
            "nonsense",
            "127.0.0.5:99999",
        ]
    )
    report = importers.import_proxies(db, text)
    assert report.created == 4
    assert [(e.line, e.field) for e in report.errors] == [(6, "line"), (7, "port")]
    proxies = {p.host: p for p in Services(db).proxies.list()}
    assert proxies["127.0.0.2"].password == "pa:ss"
    assert proxies["127.0.0.3"].scheme == "socks5" and proxies["127.0.0.3"].username == "user2"
    assert proxies["127.0.0.4"].password == "secret3"
    again = importers.import_proxies(db, text)
    assert (again.created, again.updated) == (0, 4)


def test_proxy_csv_and_json(db: Database) -> None:
    csv_text = "scheme,host,port,username,password,kind\nhttp,127.0.0.9,3128,u,p,residential\nftp,127.0.0.8,21,,,\n"
    report = importers.import_proxies(db, csv_text)
    assert report.created == 1 and report.errors[0].field == "scheme"
    report = importers.import_proxies(
        db, json.dumps([{"host": "127.0.0.7", "port": 80, "kind": "mobile"}])
    )
    assert report.created == 1


def test_export_leaves_secrets_out_unless_asked(db: Database) -> None:
    importers.import_accounts(db, ACCOUNTS_CSV)
    plain = importers.export_accounts(db, "csv")
    assert "pw-alice-1" not in plain and "password" not in plain.splitlines()[0]
    with_secrets = importers.export_accounts(db, "json", include_secrets=True)
    assert "pw-alice-1" in with_secrets
    # an export re-imports cleanly onto the same rows
    report = importers.import_accounts(db, plain)
    assert (report.created, report.errors) == (0, [])
    report = importers.import_accounts(db, with_secrets)
    assert (report.created, report.errors) == (0, [])


WINDOWS_CSV = """username,timezone,posting_window
tokyo,Asia/Tokyo,09:00-21:00
plain,America/New_York,
owl,UTC,22:00-02:00
anytime,UTC,off
broken,UTC,25:00-10:00
same,UTC,10:00-10:00
"""


def test_the_posting_window_column_and_the_default_window(db: Database) -> None:
    from datetime import time

    report = importers.import_accounts(db, WINDOWS_CSV)
    assert report.created == 4
    assert [(e.line, e.field) for e in report.errors] == [
        (6, "posting_window"),
        (7, "posting_window"),
    ]
    assert "HH:MM-HH:MM" in report.errors[0].reason
    services = Services(db)

    def window(name: str) -> tuple[bool, time | None, time | None]:
        account = services.accounts.find(name)
        return account.window_enabled, account.window_start, account.window_end

    assert window("tokyo") == (True, time(9), time(21))
    # no window in the file: the setting's daytime window, in the account's own zone
    assert window("plain") == (True, time(9), time(22))
    assert window("owl") == (True, time(22), time(2))
    assert window("anytime")[0] is False


def test_the_default_window_is_a_setting(db: Database) -> None:
    from datetime import time

    Services(db).settings.set("accounts.default_posting_window", "10:30-18:00")
    importers.import_accounts(db, "username\nnew\n")
    account = Services(db).accounts.find("new")
    assert (account.window_enabled, account.window_start, account.window_end) == (
        True,
        time(10, 30),
        time(18),
    )
