"""`piper accounts import`: a profile manager's export with proxy addresses and cookies,
`--map`, the remembered mapping, `--template`, `--spread`, the columns in `--help`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import piper, ready

__all__ = ["ready"]

SESSION = [{"name": "sessionid", "value": "cookie-value-x1", "domain": ".tiktok.com", "path": "/"}]


def _accounts(data_dir: Path) -> dict[str, dict]:
    listed = piper(data_dir, "accounts", "list", "--json")
    return {a["username"]: a for a in json.loads(listed.stdout)}


def test_export_with_proxy_and_cookies_imports_and_bad_rows_are_one_line(
    ready: Path, tmp_path: Path
) -> None:
    (tmp_path / "cookies").mkdir()
    (tmp_path / "cookies" / "ann.json").write_text(json.dumps(SESSION))
    export = tmp_path / "adspower.csv"
    export.write_text(
        "Name,Group Name,Proxy,Cookie,TZ,Remark\n"
        "ann,jp,http://u1:proxy-pw-1@127.0.0.1:8081,cookies/ann.json,Asia/Tokyo,first\n"
        "ben,jp,127.0.0.1:8081:u1:proxy-pw-1,,,\n"
        "cat,us,127.0.0.1:99999,,,\n"
        "dan,us,,nothere.json,,\n"
    )
    done = piper(ready, "accounts", "import", str(export))
    assert done.returncode == 1  # some rows were bad
    assert "created 2" in done.stdout and "proxies created 1" in done.stdout
    assert "1 account had no time zone: UTC" in done.stdout
    errors = done.stderr.strip().splitlines()
    assert errors == [
        "line 4: proxy: the port must be from 1 to 65535",
        "line 5: cookies: not cookies JSON, and no cookies file of that name beside the file",
    ]
    assert "proxy-pw-1" not in done.stdout + done.stderr and "Traceback" not in done.stderr
    accounts = _accounts(ready)
    assert set(accounts) == {"ann", "ben"}
    # one proxy row for the two addresses, assigned to both
    assert accounts["ann"]["proxy_id"] == accounts["ben"]["proxy_id"] is not None
    assert accounts["ann"]["timezone"] == "Asia/Tokyo" and accounts["ben"]["timezone"] == "UTC"
    proxies = json.loads(piper(ready, "proxies", "list", "--json").stdout)
    assert [(p["host"], p["port"], p["username"]) for p in proxies] == [("127.0.0.1", 8081, "u1")]
    shown = json.loads(piper(ready, "accounts", "show", "ann", "--json").stdout)
    assert shown["has_session"] is True
    # the cookie is in the vault, not in the clear in any file of the data folder
    for path in ready.rglob("*"):
        if path.is_file():
            assert b"cookie-value-x1" not in path.read_bytes(), path


def test_unknown_column_is_refused_then_mapped_and_remembered(ready: Path, tmp_path: Path) -> None:
    export = tmp_path / "mine.csv"
    export.write_text("Handle Of Account,Zona,Colour\nann,Europe/Berlin,blue\n")
    refused = piper(ready, "accounts", "import", str(export))
    assert refused.returncode == 2
    assert "Handle Of Account" in refused.stderr and "--map" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    bad_field = piper(ready, "accounts", "import", str(export), "--map", "Zona=zone")
    assert bad_field.returncode != 0 and "map" in bad_field.stderr and "zone" in bad_field.stderr
    mapped = piper(
        ready,
        "accounts",
        "import",
        str(export),
        "--map",
        "Handle Of Account=username",
        "--map",
        "Zona=timezone",
        "--map",
        "Colour=ignore",
    )
    assert mapped.returncode == 0, mapped.stderr
    assert _accounts(ready)["ann"]["timezone"] == "Europe/Berlin"
    # the same columns in another order and case: the remembered mapping is used
    again = tmp_path / "again.csv"
    again.write_text("colour,zona,handle of account\nred,Asia/Tokyo,ben\n")
    reused = piper(ready, "accounts", "import", str(again))
    assert reused.returncode == 0, reused.stderr
    assert "mapping chosen before" in reused.stdout
    assert _accounts(ready)["ben"]["timezone"] == "Asia/Tokyo"


def test_template_lists_every_column_and_imports(ready: Path, tmp_path: Path) -> None:
    help_text = piper(ready, "accounts", "import", "--help").stdout
    target = tmp_path / "template.csv"
    written = piper(ready, "accounts", "import", "--template", str(target))
    assert written.returncode == 0, written.stderr
    assert target.stat().st_mode & 0o077 == 0  # owner-only
    header, example = target.read_text().splitlines()
    columns = [c.strip('"') for c in header.split(",")]
    for column in (
        "username",
        "platform",
        "timezone",
        "posting_window",
        "country",
        "group",
        "proxy",
        "cookies",
    ):
        assert column in columns and f"  {column} " in help_text
    assert "127.0.0.1" in example and "192.168" not in example
    stdout = piper(ready, "accounts", "import", "--template")
    assert stdout.stdout.splitlines()[0] == header
    imported = piper(ready, "accounts", "import", str(target))
    assert imported.returncode == 0, imported.stderr
    assert _accounts(ready)["piper.demo1"]["timezone"] == "Europe/Berlin"


def test_spread_round_robin_and_by_country(ready: Path, tmp_path: Path) -> None:
    for port in (9001, 9002):
        assert piper(ready, "proxies", "add", f"127.0.0.1:{port}").returncode == 0
    names = tmp_path / "names.csv"
    names.write_text("username,timezone\na1,UTC\na2,UTC\na3,UTC\n")
    done = piper(ready, "accounts", "import", str(names), "--spread", "round-robin")
    assert done.returncode == 0, done.stderr
    assert "3 accounts got a proxy (round-robin)" in done.stdout
    proxies = [_accounts(ready)[n]["proxy_id"] for n in ("a1", "a2", "a3")]
    assert proxies[0] != proxies[1] and proxies[0] == proxies[2]
    bad = piper(ready, "accounts", "import", str(names), "--spread", "random")
    assert bad.returncode == 2 and "round-robin" in bad.stderr
