"""Accounts files like a profile manager's: column mapping, proxy addresses as proxy
rows, cookies into the session, bad rows one line each, spread, template (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from piper_desktop.browser.cookies import read_cookie_list
from piper_desktop.domain import importers
from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.geo import country_of_zone
from piper_desktop.domain.import_columns import IGNORE
from piper_desktop.domain.proxy_spread import SpreadAccount, SpreadProxy, spread_proxies
from piper_desktop.domain.services import Services

COOKIE = {"name": "sessionid", "value": "val-1", "domain": ".tiktok.com", "path": "/"}


def _context(folder: Path) -> importers.AccountFileContext:
    return importers.AccountFileContext(folder, read_cookie_list)


def test_mapping_renames_and_ignores_columns(services: Services) -> None:
    text = "Login,Zone,Junk\nann,Asia/Tokyo,x\n"
    with pytest.raises(ValidationError, match="unknown column 'Zone'"):
        importers.import_accounts(services.db, text)
    report = importers.import_accounts(
        services.db, text, mapping={"Login": "username", "Zone": "timezone", "Junk": IGNORE}
    )
    assert (report.created, report.errors) == (1, [])
    assert services.accounts.find("ann").timezone == "Asia/Tokyo"
    with pytest.raises(ValidationError, match="map"):
        importers.import_accounts(services.db, text, mapping={"Zone": "zone"})


def test_json_items_are_mapped_too(services: Services) -> None:
    text = json.dumps([{"name": "ann", "tz": "Europe/Berlin", "remark": "hi"}])
    report = importers.import_accounts(services.db, text)
    assert report.created == 1
    ann = services.accounts.find("ann")
    assert (ann.timezone, ann.notes) == ("Europe/Berlin", "hi")


def test_proxy_addresses_become_deduplicated_proxy_rows(services: Services) -> None:
    existing = services.proxies.add({"host": "127.0.0.1", "port": 8100, "username": "u"})
    text = (
        "username,proxy,proxy_host,proxy_port\n"
        "ann,http://u:pw1@127.0.0.1:8100,,\n"  # the existing one (its password set)
        "ben,127.0.0.1:8101:v:pw2,,\n"
        "cat,socks5://v:pw3@127.0.0.1:8102,,\n"
        "dan,127.0.0.1:8101:v:pw2,,\n"  # same as ben's: one row
        "eve,,127.0.0.1,8103\n"  # in pieces
        "fay,127.0.0.1:8104:v,,\n"  # a user without a password
        "gus,http://u:pw@127.0.0.1:8100,127.0.0.1,8105\n"  # both forms
    )
    report = importers.import_accounts(services.db, text)
    assert [(e.line, e.field) for e in report.errors] == [(7, "proxy"), (8, "proxy_host")]
    assert "password" in report.errors[0].reason and "pw" not in str(report.errors[0])
    assert report.proxies_created == 3
    by_user = {a.username: a.proxy_id for a in services.accounts.list()}
    assert by_user["ann"] == existing.id and by_user["ben"] == by_user["dan"]
    assert services.proxies.get(existing.id).password == "pw1"
    cat = services.proxies.get(by_user["cat"])
    assert (cat.scheme, cat.port, cat.username, cat.password) == ("socks5", 8102, "v", "pw3")
    assert services.proxies.get(by_user["eve"]).port == 8103
    # re-import: nothing duplicated
    again = importers.import_accounts(services.db, text)
    assert again.proxies_created == 0 and len(services.proxies.list()) == 4


def test_json_export_with_proxy_objects(services: Services) -> None:
    gologin = [
        {
            "name": "ann",
            "proxy": {
                "mode": "socks5",
                "host": "127.0.0.1",
                "port": 8301,
                "username": "u",
                "password": "pw",
            },
        },
        {"name": "ben", "proxy": {"mode": "none", "host": "", "port": 0}},
        {"name": "dan", "proxy": {"mode": "http", "host": "127.0.0.1", "port": "x"}},
    ]
    report = importers.import_accounts(services.db, json.dumps(gologin, indent=1))
    assert [e.field for e in report.errors] == ["proxy"] and "port" in report.errors[0].reason
    ann = services.accounts.find("ann")
    proxy = services.proxies.get(ann.proxy_id)
    assert (proxy.scheme, proxy.port, proxy.username) == ("socks5", 8301, "u")
    assert services.accounts.find("ben").proxy_id is None
    adspower = [
        {
            "username": "cat",
            "user_proxy_config": {
                "proxy_soft": "other",
                "proxy_type": "http",
                "proxy_host": "127.0.0.1",
                "proxy_port": "8302",
            },
        }
    ]
    assert importers.import_accounts(services.db, json.dumps(adspower)).ok
    assert services.proxies.get(services.accounts.find("cat").proxy_id).port == 8302


def test_cookies_column_json_or_file_into_the_session(services: Services, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ben.txt").write_text(
        "# Netscape HTTP Cookie File\n.tiktok.com\tTRUE\t/\tTRUE\t0\tsessionid\tval-2\n"
    )
    (tmp_path / "bad.json").write_text(
        json.dumps([{"name": "x", "value": "v;1", "domain": ".t.com"}])
    )
    inline = json.dumps([COOKIE]).replace('"', '""')
    text = f'username,cookies\nann,"{inline}"\nben,sub/ben.txt\ncat,bad.json\ndan,none.json\n'
    report = importers.import_accounts(services.db, text, context=_context(tmp_path))
    assert [(e.line, e.field) for e in report.errors] == [(4, "cookies"), (5, "cookies")]
    assert "v;1" not in str(report.errors[0])
    ann = services.accounts.find("ann")
    assert services.accounts.storage_state(ann.id)["cookies"][0]["value"] == "val-1"
    ben = services.accounts.find("ben")
    assert services.accounts.storage_state(ben.id)["cookies"][0]["value"] == "val-2"
    # without a cookie reader (no browser layer) the row is refused, not stored bare
    plain = importers.import_accounts(services.db, "username,cookies\nzed,sub/ben.txt\n")
    assert [e.field for e in plain.errors] == ["cookies"]


def test_no_time_zone_is_utc_and_said(services: Services) -> None:
    report = importers.import_accounts(services.db, "username,timezone\na,\nb,\nc,\nd,Asia/Tokyo\n")
    assert report.no_timezone == ["a", "b", "c"]
    assert "3 accounts had no time zone: UTC" in report.notes
    assert services.accounts.find("a").timezone == "UTC"


def test_spread_on_import_by_country_skips_dead(services: Services) -> None:
    jp = services.proxies.add({"host": "127.0.0.1", "port": 8201})
    dead = services.proxies.add({"host": "127.0.0.1", "port": 8202})
    services.proxies.record_check(
        jp.id, ok=True, latency_ms=1, exit_ip="127.0.0.1", error=None, country="JP"
    )
    services.proxies.record_check(dead.id, ok=False, latency_ms=None, exit_ip=None, error="no")
    text = (
        "username,timezone,country,proxy_id\n"
        "t1,Asia/Tokyo,,\nd1,UTC,JP,\nn1,America/New_York,,\n"
        f"k,UTC,,{dead.id}\n"
    )
    report = importers.import_accounts(services.db, text, spread="country")
    got = {a.username: a.proxy_id for a in services.accounts.list()}
    assert got == {"t1": jp.id, "d1": jp.id, "n1": jp.id, "k": dead.id}  # k had its own
    assert report.spread == 3 and any("no live proxy of their country" in n for n in report.notes)


def test_spread_rule() -> None:
    accounts = [SpreadAccount(i, c) for i, c in enumerate(["JP", "US", "JP", None, "DE"], 1)]
    proxies = [
        SpreadProxy(10, "JP"),
        SpreadProxy(11, "US"),
        SpreadProxy(12, "JP"),
        SpreadProxy(13, "US", dead=True),
    ]
    by_country = spread_proxies(accounts, proxies, "country")
    assert by_country.assigned == {1: 10, 2: 11, 3: 12, 4: 10, 5: 11}
    assert by_country.unmatched == [4, 5]
    assert set(spread_proxies(accounts, proxies, "round_robin").assigned.values()) == {10, 11, 12}
    assert spread_proxies(accounts, proxies[3:], "same").assigned[1] == 13
    with pytest.raises(ValidationError, match="failed its last check"):
        spread_proxies(accounts, proxies[3:], "round_robin")
    assert country_of_zone("Asia/Tokyo") == "JP" and country_of_zone("UTC") is None


def test_template_has_every_column_and_loopback_only(services: Services) -> None:
    template = importers.account_template()
    header, example = template.splitlines()
    for name in importers.ACCOUNT_FILE.fields:
        assert f'"{name}"' in header
    assert "127.0.0.1" in example
    report = importers.import_accounts(services.db, template)
    assert (report.created, report.errors) == (1, [])
