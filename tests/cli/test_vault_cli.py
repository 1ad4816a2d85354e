"""Issue 16, the vault's part, through the real `piper` program: copies re-keyed by
`passwd`, damage named with its own exit code, one-line errors without SQL or secrets,
owner-only files, and NUL bytes refused in passwords."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from piper_desktop.store import migrate
from piper_desktop.store.db import Database, raw_connect
from piper_desktop.store.faults import WrongPassword
from tests.conftest import MASTER_PASSWORD, piper_cmd, piper_env

NEW_PASSWORD = "a whole new master password"
ACCOUNT_SECRET = "acct-secret-Pa55word-zz9"


def piper(
    data_dir: Path,
    *args: str,
    stdin: str = "",
    password: str | None = MASTER_PASSWORD,
    timeout: float = 120,
    **env_extra: str,
) -> subprocess.CompletedProcess[str]:
    env = piper_env(data_dir, **env_extra)
    if password is None:
        env.pop("PIPER_PASSWORD")
    else:
        env["PIPER_PASSWORD"] = password
    return subprocess.run(
        [*piper_cmd(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        # an operator's usual umask: Piper itself must make its files owner-only
        preexec_fn=lambda: os.umask(0o022),
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "[SQL" not in result.stderr
    return lines[0]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def opens_with(path: Path, password: str) -> bool:
    try:
        raw_connect(path, password).close()
    except WrongPassword:
        return False
    return True


@pytest.fixture
def ready(data_dir: Path) -> Path:
    result = piper(
        data_dir, "init", "--password-stdin", stdin=MASTER_PASSWORD + "\n", password=None
    )
    assert result.returncode == 0, result.stderr
    return data_dir


def add_accounts(data_dir: Path, count: int) -> None:
    """Accounts with passwords, enough of them to fill many pages of the file."""
    db = Database(data_dir / "piper.db", MASTER_PASSWORD)
    try:
        from piper_desktop.domain.services import Services

        accounts = Services(db).accounts
        for i in range(count):
            accounts.add({"username": f"user{i:04}", "password": f"{ACCOUNT_SECRET}-{i}"})
    finally:
        db.close()


def damage_pages(path: Path, first: int, last: int) -> None:
    with path.open("r+b") as handle:
        for page in range(first, last):
            handle.seek(page * 4096 + 64)
            handle.write(b"\xa5" * 512)


# --- item 1: passwd leaves nothing the old password opens ------------------------------------


def test_passwd_rekeys_every_copy_it_knows_of(data_dir: Path, tmp_path: Path) -> None:
    # a database from the first schema: opening it upgrades, backing it up first
    old = Database(data_dir / "piper.db", MASTER_PASSWORD, create=True)
    migrate.upgrade(old, "0001")
    old.close()
    assert piper(data_dir, "accounts", "add", "keeper").returncode == 0
    upgrade_copies = list(data_dir.glob("piper.*.before-upgrade-*.bak"))
    assert upgrade_copies
    backup = tmp_path / "mine.piperbackup"
    made = piper(data_dir, "vault", "backup", str(backup))
    assert made.returncode == 0, made.stderr
    # what a re-key interrupted by a crash leaves behind
    stale = data_dir / "piper.20250101T000000Z.before-rekey.bak"
    stale.write_bytes((data_dir / "piper.db").read_bytes())

    result = piper(data_dir, "passwd", PIPER_NEW_PASSWORD=NEW_PASSWORD)
    assert result.returncode == 0, result.stderr
    assert "master password changed" in result.stdout
    for copy in [*upgrade_copies, backup]:
        assert not opens_with(copy, MASTER_PASSWORD), copy
        assert opens_with(copy, NEW_PASSWORD), copy
    assert not stale.exists()
    leftovers = [p for p in data_dir.iterdir() if p.is_file() and opens_with(p, MASTER_PASSWORD)]
    assert leftovers == []
    listed = piper(data_dir, "accounts", "list", "--json", password=NEW_PASSWORD)
    assert [a["username"] for a in json.loads(listed.stdout)] == ["keeper"]


@pytest.fixture
def piper_run(ready: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [*piper_cmd(), "run", "--json"],
        env=piper_env(ready),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:  # the engine holds the database once it says it started
        if '"engine started"' in line:
            break
    yield proc
    proc.terminate()
    proc.communicate(timeout=60)


def test_passwd_while_piper_run_holds_the_database_says_so(
    ready: Path, piper_run: subprocess.Popen[str]
) -> None:
    result = piper(ready, "passwd", PIPER_NEW_PASSWORD=NEW_PASSWORD)
    assert result.returncode == 6
    assert "in use: close Piper and stop 'piper run' first" in one_line(result)
    assert not list(ready.glob("*.bak"))  # no copy under the old password left behind
    assert opens_with(ready / "piper.db", MASTER_PASSWORD)
    assert not opens_with(ready / "piper.db", NEW_PASSWORD)


# --- item 2: the new password never comes from PIPER_PASSWORD ---------------------------------


def test_passwd_does_not_take_the_new_password_from_piper_password(ready: Path) -> None:
    result = piper(ready, "passwd")
    assert result.returncode == 2
    assert "PIPER_NEW_PASSWORD" in one_line(result)
    same = piper(ready, "passwd", PIPER_NEW_PASSWORD=MASTER_PASSWORD)
    assert same.returncode == 2
    assert "same as the current one" in one_line(same)
    assert "master password changed" not in result.stdout + same.stdout
    assert opens_with(ready / "piper.db", MASTER_PASSWORD)


# --- item 3: a database error shows neither SQL nor the secrets in it -------------------------


def test_damage_during_an_import_shows_no_sql_and_no_password(ready: Path, tmp_path: Path) -> None:
    add_accounts(ready, 300)
    path = ready / "piper.db"
    pages = path.stat().st_size // 4096
    damage_pages(path, pages // 3, 2 * pages // 3)
    before = sha(path)
    csv = tmp_path / "accounts.csv"
    csv.write_text(
        "username,password\n" + "".join(f"new{i},{ACCOUNT_SECRET}-new{i}\n" for i in range(50))
    )
    result = piper(ready, "accounts", "import", str(csv))
    assert result.returncode == 3
    line = one_line(result)
    assert line.startswith("piper: database file damaged:")
    assert ACCOUNT_SECRET not in result.stderr + result.stdout
    assert "INSERT" not in result.stderr and "SELECT" not in result.stderr
    assert sha(path) == before  # nothing was written to the damaged file


def test_anything_unexpected_is_one_line_and_the_details_go_to_the_log(ready: Path) -> None:
    add = piper(
        ready, "accounts", "add", "zed", "--account-password-stdin", stdin=ACCOUNT_SECRET + "\n"
    )
    assert add.returncode == 0, add.stderr
    # a value no version of Piper wrote (another program, a bad edit): reading it fails
    conn = raw_connect(ready / "piper.db", MASTER_PASSWORD)
    conn.execute("UPDATE accounts SET tags = '{not json'")
    conn.commit()
    conn.close()
    result = piper(ready, "accounts", "list")
    assert result.returncode == 70
    line = one_line(result)
    assert line.startswith("piper: internal error (JSONDecodeError:")
    assert line.endswith("details in the log file")
    log = (ready / "logs" / "piper.log").read_text()
    assert "Traceback" in log and ACCOUNT_SECRET not in log


# --- item 4: damage is named, with its own exit code, and nothing is overwritten --------------


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2 + 1000)


def _first_page(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff" * 64)


def _middle(path: Path) -> None:
    pages = path.stat().st_size // 4096
    damage_pages(path, pages // 3, 2 * pages // 3)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _plain_sqlite(path: Path) -> None:
    import sqlite3

    path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("harm", "code", "words"),
    [
        (_truncate, 3, "database file damaged"),
        (_first_page, 3, "database file damaged"),
        (_middle, 3, "database file damaged"),
        (_empty, 3, "database file damaged"),
        (_plain_sqlite, 4, "not a Piper database"),
    ],
    ids=["truncated", "first-page", "middle", "zero-bytes", "plain-sqlite"],
)
def test_a_harmed_file_is_named_and_left_as_it_is(
    ready: Path, harm: object, code: int, words: str
) -> None:
    add_accounts(ready, 300)
    path = ready / "piper.db"
    assert callable(harm)
    harm(path)
    before = sha(path)
    for command in (["accounts", "list"], ["accounts", "add", "late"]):
        result = piper(ready, *command)
        assert result.returncode == code, result.stderr
        assert one_line(result).startswith(f"piper: {words}")
    assert sha(path) == before
    if harm is _empty:  # a zero-byte file never becomes a new, empty vault
        assert piper(ready, "init", "--password-stdin", stdin="another password\n").returncode == 1
        assert path.stat().st_size == 0
    # with a wrong password too, one line (which one depends on what is left to check)
    wrong = piper(ready, "accounts", "list", password="not the password at all")
    assert wrong.returncode in (2, 3, 4)
    one_line(wrong)


def test_wrong_password_is_still_a_wrong_password(ready: Path) -> None:
    add_accounts(ready, 50)
    result = piper(ready, "accounts", "list", password="not the password at all")
    assert result.returncode == 2
    assert one_line(result) == "piper: wrong master password"


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
    )
    return done.returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real, small file system (a tmpfs): mounting needs root, as in CI."""
    where = tmp_path / "disk"
    if os.geteuid() != 0 or not _mount_tmpfs(where, "3m"):
        pytest.skip("a small tmpfs needs root (CI runs as root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_a_full_disk_is_named_not_a_wrong_password(small_disk: Path, tmp_path: Path) -> None:
    data = small_disk / "data"
    data.mkdir()
    assert (
        piper(
            data, "init", "--password-stdin", stdin=MASTER_PASSWORD + "\n", password=None
        ).returncode
        == 0
    )
    add_accounts(data, 20)
    csv = tmp_path / "many.csv"
    csv.write_text(
        "username,password,notes\n"
        + "".join(f"bulk{i},{ACCOUNT_SECRET}-{i},{'n' * 900}\n" for i in range(6000))
    )
    result = piper(data, "accounts", "import", str(csv))
    assert result.returncode == 5, result.stderr
    assert one_line(result).startswith("piper: disk full:")
    assert ACCOUNT_SECRET not in result.stderr
    # the disk full to the last byte: opening says so too, not "wrong master password"
    filler = small_disk / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
    for leftover in data.glob("piper.db-*"):
        leftover.unlink()
    opened = piper(data, "accounts", "list")
    assert opened.returncode == 5, opened.stderr
    assert one_line(opened).startswith("piper: disk full:")
    filler.unlink()
    listed = piper(data, "accounts", "list", "--json")
    assert len(json.loads(listed.stdout)) == 20  # nothing that was stored is lost


# --- vault check, backup, restore -------------------------------------------------------------


def test_vault_check_backup_and_restore(ready: Path, tmp_path: Path) -> None:
    add_accounts(ready, 30)
    check = piper(ready, "vault", "check")
    assert check.returncode == 0 and "ok" in check.stdout
    backup = tmp_path / "before.bak"
    assert piper(ready, "vault", "backup", str(backup)).returncode == 0
    again = piper(ready, "vault", "backup", str(backup))
    assert again.returncode == 1 and "exists" in one_line(again)
    assert piper(ready, "accounts", "add", "after-backup").returncode == 0

    _middle(ready / "piper.db")
    damaged = piper(ready, "vault", "check")
    assert damaged.returncode == 3
    assert "HMAC verification failed for page" in damaged.stdout
    assert one_line(damaged).startswith("piper: database file damaged:")

    # a damaged backup is refused, and the current file stays where it is
    broken = tmp_path / "broken.bak"
    broken.write_bytes(backup.read_bytes())
    _first_page(broken)
    current = sha(ready / "piper.db")
    refused = piper(ready, "vault", "restore", str(broken))
    assert refused.returncode == 3 and str(broken) in one_line(refused)
    assert sha(ready / "piper.db") == current

    restored = piper(ready, "vault", "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    kept = list(ready.glob("piper.*.before-restore.bak"))
    assert len(kept) == 1 and sha(kept[0]) == current
    names = [a["username"] for a in json.loads(piper(ready, "accounts", "list", "--json").stdout)]
    assert len(names) == 30 and "after-backup" not in names
    assert piper(ready, "vault", "check").returncode == 0


def test_restore_refuses_while_piper_run_holds_the_database(
    ready: Path, piper_run: subprocess.Popen[str], tmp_path: Path
) -> None:
    backup = tmp_path / "b.bak"
    assert piper(ready, "vault", "backup", str(backup)).returncode == 0
    before = sha(ready / "piper.db")
    result = piper(ready, "vault", "restore", str(backup))
    assert result.returncode == 6 and "in use" in one_line(result)
    assert sha(ready / "piper.db") == before


# --- item 5: owner-only files -----------------------------------------------------------------


def _modes(root: Path) -> dict[str, str]:
    found = {root.name: oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


def test_everything_piper_writes_is_owner_only(ready: Path, tmp_path: Path) -> None:
    add = piper(ready, "accounts", "add", "alice", "--account-password-stdin", stdin="pw-alice-1\n")
    assert add.returncode == 0, add.stderr
    exports = tmp_path / "exports"
    exports.mkdir()
    secrets_csv = exports / "accounts.csv"
    secrets_csv.write_text("old\n")
    secrets_csv.chmod(0o644)  # an export over an older, world-readable file
    done = piper(ready, "accounts", "export", str(secrets_csv), "--include-secrets")
    assert done.returncode == 0, done.stderr
    assert piper(ready, "jobs", "export", "--output", str(exports / "jobs.csv")).returncode == 0
    cookies = tmp_path / "cookies.json"
    cookies.write_text(
        json.dumps([{"name": "sessionid", "value": "abc123", "domain": ".tiktok.com", "path": "/"}])
    )
    assert piper(ready, "browser", "cookies", "import", "alice", str(cookies)).returncode == 0
    cookie_out = exports / "cookies-out.json"
    cookie_out.write_text("")
    cookie_out.chmod(0o644)
    exported = piper(ready, "browser", "cookies", "export", "alice", str(cookie_out))
    assert exported.returncode == 0, exported.stderr
    assert piper(ready, "vault", "backup", str(exports / "vault.bak")).returncode == 0

    data_modes = _modes(ready)
    assert data_modes.pop(ready.name) == "0o700"
    assert {"piper.db", "logs", "logs/piper.log"} <= set(data_modes)
    for name, mode in data_modes.items():
        expected = "0o700" if (ready / name).is_dir() else "0o600"
        assert mode == expected, name
    for path in exports.iterdir():
        assert oct(stat.S_IMODE(path.stat().st_mode)) == "0o600", path.name


def test_an_open_data_dir_is_closed_at_start(ready: Path) -> None:
    ready.chmod(0o755)
    for path in [ready / "piper.db", ready / "logs", *(ready / "logs").iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert piper(ready, "accounts", "list").returncode == 0
    modes = _modes(ready)
    assert modes[ready.name] == "0o700" and modes["logs"] == "0o700"
    assert modes["piper.db"] == "0o600" and modes["logs/piper.log"] == "0o600"


# --- item 14: NUL bytes in passwords ----------------------------------------------------------


def test_nul_bytes_are_refused_in_the_master_password(data_dir: Path) -> None:
    result = piper(
        data_dir, "init", "--password-stdin", stdin="long enough\x00password\n", password=None
    )
    assert result.returncode == 1
    assert "must not contain control characters" in one_line(result)
    assert not (data_dir / "piper.db").exists()


def test_nul_bytes_are_refused_in_account_passwords(ready: Path) -> None:
    result = piper(
        ready, "accounts", "add", "bob", "--account-password-stdin", stdin="pass\x00word-bob\n"
    )
    assert result.returncode == 1
    assert "password: must not contain control characters" in one_line(result)
    listed = piper(ready, "accounts", "list", "--json")
    assert json.loads(listed.stdout) == []
