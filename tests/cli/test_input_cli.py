"""Broken and hostile input through the real `piper` program (issue 16): one line naming
the line or field, never a traceback, never a secret, nothing stored lost."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from piper_desktop.domain.services import Services
from tests.conftest import MASTER_PASSWORD, piper_cmd, piper_env


def piper(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*piper_cmd(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=piper_env(data_dir),
        timeout=120,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_csv_exports_neutralise_formulas(
    services: Services, data_dir: Path, tmp_path: Path
) -> None:
    """Item 6: a cell that a spreadsheet would run (= + - @; tab and CR are covered in
    tests/domain/test_input_parsing.py, text fields lose them to strip()) is exported as
    text."""
    formulas = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)"]
    for n, formula in enumerate(formulas):
        services.accounts.add(
            {"username": f"u{n}", "display_name": formula[:1] + "name", "notes": formula}
        )
    services.proxies.add({"host": "127.0.0.1", "port": 8080, "name": '=HYPERLINK("x")'})
    out = tmp_path / "accounts.csv"
    assert piper(data_dir, "accounts", "export", str(out)).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [r["notes"] for r in rows] == ["'" + f for f in formulas]
    assert rows[0]["display_name"] == "'=name"
    proxies = piper(data_dir, "proxies", "export")
    assert "'=HYPERLINK" in proxies.stdout
    # Piper's own export imports back unchanged
    again = piper(data_dir, "accounts", "import", str(out), "--json")
    assert json.loads(again.stdout)["errors"] == [], again.stdout
    assert [a.notes for a in services.accounts.list()] == formulas


BAD_COOKIES = """[
 {"name": "nan_expiry", "value": "v", "domain": ".tiktok.com", "expires": NaN},
 {"name": "huge_expiry", "value": "v", "domain": ".tiktok.com", "expires": 1e300},
 {"name": "inf_expiry", "value": "v", "domain": ".tiktok.com", "expirationDate": Infinity},
 {"name": "nul_value", "value": "a\\u0000b", "domain": ".tiktok.com"},
 {"name": "newline_value", "value": "a\\nb", "domain": ".tiktok.com"},
 {"name": "semicolon_value", "value": "a;b", "domain": ".tiktok.com"},
 {"name": "bell_value", "value": "a\\u0007b", "domain": ".tiktok.com"},
 {"name": "bad_domain", "value": "v", "domain": "tik tok.com"},
 {"name": "na;me", "value": "v", "domain": ".tiktok.com"},
 {"name": "sessionid", "value": "good-one", "domain": ".tiktok.com"}
]"""


def test_cookie_import_refuses_what_chromium_refuses(
    services: Services, data_dir: Path, tmp_path: Path
) -> None:
    """Item 7: each cookie Chromium would refuse is named on its own line; the good one is
    stored, the bad ones are not."""
    account = services.accounts.add({"username": "webby"})
    source = tmp_path / "cookies.json"
    source.write_text(BAD_COOKIES)
    result = piper(data_dir, "browser", "cookies", "import", "webby", str(source))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "imported 1 cookie(s)" in result.stdout
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 9
    for line, name in zip(
        range(2, 11),
        [
            "nan_expiry",
            "huge_expiry",
            "inf_expiry",
            "nul_value",
            "newline_value",
            "semicolon_value",
            "bell_value",
            "bad_domain",
            "na;me",
        ],
        strict=True,
    ):
        assert any(e.startswith(f"line {line}: ") and name in e for e in errors), (name, errors)
    assert "good-one" not in result.stderr
    stored = services.accounts.storage_state(account.id)
    assert stored is not None
    assert [c["name"] for c in stored["cookies"]] == ["sessionid"]


def _accounts_snapshot(services: Services) -> list[tuple[str, str | None, str | None]]:
    return [(a.username, a.email, a.password) for a in services.accounts.list()]


def test_bad_files_name_the_line_and_keep_what_is_stored(
    services: Services, data_dir: Path, tmp_path: Path
) -> None:
    """Item 9: no traceback for bad bytes, huge fields, deep JSON, broken proxy lines or a
    nested "cookies" key; a whole-file problem changes nothing, a bad line skips only
    itself."""
    services.accounts.add({"username": "keeper", "email": "k@example.com", "password": "pw-keep"})
    before = _accounts_snapshot(services)

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("username,display_name\nkeeper,Jos\xe9\n".encode("latin-1"))
    error = one_line_error(piper(data_dir, "accounts", "import", str(latin1)))
    assert "line 2" in error and "UTF-8" in error
    assert _accounts_snapshot(services) == before

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 50_000 + "]" * 50_000)
    error = one_line_error(piper(data_dir, "accounts", "import", str(deep)))
    assert "line 1" in error and "nested" in error

    huge = tmp_path / "huge.csv"
    huge.write_text("username,notes\nann,short\nbob," + "x" * 140_000 + "\ncal,fine\n")
    result = piper(data_dir, "accounts", "import", str(huge))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("line 3: a field is longer than 131,072")
    assert {"ann", "cal"} <= {a.username for a in services.accounts.list()}

    services.proxies.add({"host": "127.0.0.9", "port": 3128, "username": "u", "password": "p-keep"})
    proxies = tmp_path / "proxies.txt"
    proxies.write_text(
        "http://u:p@127.0.0.1:notaport\n"
        "http://u:p@127.0.0.1:99999\n"
        "socks5://[::1:80\n"
        "127.0.0.2:8080\n"
        "[::1]:8081\n"
    )
    bad_utf8 = tmp_path / "proxies-latin1.txt"
    bad_utf8.write_bytes(b"127.0.0.3:80:user:p\xe4ss\n")
    result = piper(data_dir, "proxies", "import", str(proxies))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert [e.split(":")[0] for e in result.stderr.strip().splitlines()] == [
        "line 1",
        "line 2",
        "line 3",
    ]
    assert sorted(p.host for p in services.proxies.list()) == ["127.0.0.2", "127.0.0.9", "::1"]
    error = one_line_error(piper(data_dir, "proxies", "import", str(bad_utf8)))
    assert "line 1" in error and "UTF-8" in error
    assert services.proxies.find("127.0.0.9:3128").password == "p-keep"

    services.accounts.add({"username": "webby"})
    nested = tmp_path / "nested.json"
    nested.write_text(
        '{"meta": {"cookies": [1, 2, 3]},\n "cookies": [\n'
        '  {"name": "sessionid", "value": "v", "domain": ".tiktok.com"}]}'
    )
    result = piper(data_dir, "browser", "cookies", "import", "webby", str(nested))
    assert result.returncode == 0, result.stderr
    assert "imported 1 cookie(s)" in result.stdout
    bad_cookie_bytes = tmp_path / "cookies.txt"
    bad_cookie_bytes.write_bytes(
        b"# Netscape HTTP Cookie File\n.tiktok.com\tTRUE\t/\tTRUE\t0\tn\t\xff\n"
    )
    error = one_line_error(
        piper(data_dir, "browser", "cookies", "import", "webby", str(bad_cookie_bytes))
    )
    assert "line 2" in error and "UTF-8" in error


def test_messages_say_what_is_wrong(services: Services, data_dir: Path, tmp_path: Path) -> None:
    """Item 10: the unknown column by its name, JSON by its real line, tab-separated and
    single-column files, [::1]:8080, and a stray CR not taken for a new account."""
    passwd = tmp_path / "passwd.csv"
    passwd.write_text("username,passwd\nann,secret-ish\n")
    error = one_line_error(piper(data_dir, "accounts", "import", str(passwd)))
    assert "unknown column 'passwd'" in error and "***" not in error
    assert "secret-ish" not in error

    items = tmp_path / "items.json"
    items.write_text(
        json.dumps([{"username": "ann"}, {"username": "bob", "email": "nope"}], indent=2)
    )
    result = piper(data_dir, "accounts", "import", str(items))
    assert result.stderr.strip().startswith("line 5: email:"), result.stderr

    tabs = tmp_path / "tabs.tsv"
    tabs.write_text("username\tgroup\ncid\tcrew\ndee\tcrew\n")
    single = tmp_path / "single.csv"
    single.write_text("username\neve\nfay\n")
    for source in (tabs, single):
        result = piper(data_dir, "accounts", "import", str(source))
        assert result.returncode == 0, result.stderr
    assert services.accounts.find("cid").group == "crew"
    assert {"eve", "fay"} <= {a.username for a in services.accounts.list()}

    added = piper(data_dir, "proxies", "add", "[::1]:8080", "--json")
    assert added.returncode == 0, added.stderr
    assert (json.loads(added.stdout)["host"], json.loads(added.stdout)["port"]) == ("::1", 8080)

    count = services.accounts.count()
    stray = tmp_path / "stray.csv"
    stray.write_bytes(b"username,notes\ngus,first\rsecond\nhal,ok\n")
    result = piper(data_dir, "accounts", "import", str(stray))
    assert result.stderr.strip().startswith("line 2:"), result.stderr
    names = {a.username for a in services.accounts.list()}
    assert "second" not in names and "hal" in names
    assert services.accounts.count() == count + 1


def test_proxy_errors_never_echo_the_password(
    data_dir: Path, services: Services, tmp_path: Path
) -> None:
    """Item 11."""
    secret = "Hunter2-Sekrit"
    lines = [
        f"user:{secret}@127.0.0.1",  # no port
        f"127.0.0.1:notaport:user:{secret}",
        f"http://user:{secret}@127.0.0.1:99999",
        f"socks5://user:{secret}@[::1:80",
        f"user:{secret}:127.0.0.1",
    ]
    source = tmp_path / "proxies.txt"
    source.write_text("\n".join(lines) + "\n")
    result = piper(data_dir, "proxies", "import", str(source))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == len(lines)
    assert secret not in result.stdout + result.stderr
    added = piper(data_dir, "proxies", "add", f"http://user:{secret}@127.0.0.1:xx")
    assert secret not in added.stdout + added.stderr
    assert one_line_error(added).startswith("piper: port:")


def test_nul_refused_in_text_fields(services: Services, data_dir: Path, tmp_path: Path) -> None:
    """Item 14: a NUL (or another control character) in a name is refused, naming the
    field, and the other lines import."""
    source = tmp_path / "accounts.json"
    source.write_text(
        json.dumps(
            [
                {"username": "ann", "display_name": "Ann\u0000"},
                {"username": "bob", "group": "crew\u0000x"},
                {"username": "cid", "display_name": "Cid"},
            ],
            indent=1,
        )
    )
    result = piper(data_dir, "accounts", "import", str(source))
    errors = result.stderr.strip().splitlines()
    assert errors[0].startswith("line 2: display_name: contains a control character (NUL)")
    assert errors[1].startswith("line 6: group: contains a control character (NUL)")
    assert [a.username for a in services.accounts.list()] == ["cid"]


def test_secret_settings_stay_off_the_command_line(services: Services, data_dir: Path) -> None:
    """Item 16: a secret's VALUE on the command line is refused (unless --force) and
    never repeated; --stdin and the prompt take it instead."""
    secret = "sk-or-0123456789abcdef"
    refused = piper(data_dir, "settings", "set", "openrouter.api_key", secret)
    assert refused.returncode == 2
    assert "--stdin" in one_line_error(refused) and secret not in refused.stderr + refused.stdout
    assert services.settings.source("openrouter.api_key") == "default"

    piped = piper(data_dir, "settings", "set", "openrouter.api_key", "--stdin", stdin=secret + "\n")
    assert piped.returncode == 0 and secret not in piped.stdout + piped.stderr
    assert services.settings.get("openrouter.api_key") == secret

    forced = piper(data_dir, "settings", "set", "openrouter.api_key", "sk-forced-999999", "--force")
    assert forced.returncode == 0 and "sk-forced-999999" not in forced.stdout
    assert services.settings.get("openrouter.api_key") == "sk-forced-999999"

    # a plain setting is still set from the command line
    assert piper(data_dir, "settings", "set", "engine.max_workers", "3").returncode == 0

    warned = piper(data_dir, "proxies", "add", "127.0.0.1:3128:user:ProxyPass-77")
    assert warned.returncode == 0, warned.stderr
    assert "shell history" in warned.stderr and "--proxy-password-stdin" in warned.stderr
    assert "ProxyPass-77" not in warned.stdout + warned.stderr
    assert services.proxies.find("127.0.0.1:3128").password == "ProxyPass-77"


def _run_in_terminal(data_dir: Path, args: list[str], prompt: bytes, typed: str) -> tuple[int, str]:
    """Run piper on a pseudo-terminal, type `typed` once `prompt` shows, return (code,
    output)."""
    env = piper_env(data_dir)
    pid, fd = pty.fork()
    if pid == 0:  # the child: piper, with the terminal as its stdin
        os.execve(sys.executable, [*piper_cmd(), *args], env)
    output = b""
    sent = False
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if not sent and prompt in output:
            os.write(fd, typed.encode() + b"\n")
            sent = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


@pytest.mark.skipif(not hasattr(pty, "fork"), reason="needs a pseudo-terminal")
def test_secret_setting_is_asked_for_at_the_terminal(services: Services, data_dir: Path) -> None:
    """Item 16: `settings set KEY` without VALUE, and `proxies add host:port:user`, ask
    for the secret at the terminal without echoing it."""
    assert MASTER_PASSWORD  # the vault's password comes from PIPER_PASSWORD
    code, output = _run_in_terminal(
        data_dir,
        ["settings", "set", "telegram.bot_token"],
        b"telegram.bot_token: ",
        "123456:typed-token-abc",
    )
    assert code == 0, output
    assert "typed-token-abc" not in output
    assert services.settings.get("telegram.bot_token") == "123456:typed-token-abc"
    code, output = _run_in_terminal(
        data_dir,
        ["proxies", "add", "127.0.0.1:3129:puser"],
        b"password of proxy user puser",
        "Typed-Proxy-Pass",
    )
    assert code == 0, output
    assert "Typed-Proxy-Pass" not in output
    assert services.proxies.find("127.0.0.1:3129").password == "Typed-Proxy-Pass"
