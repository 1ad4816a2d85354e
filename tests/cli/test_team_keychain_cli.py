"""`piper` with the team passphrase in the keychain (a tests-only backend keeping its
entries in a tmp file): remembered at create, used by every command, moved along when
the passphrase changes, forgotten on request, on leave, and when it stopped working."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from piper_desktop.sandbox.postgres import ThrowawayPostgres
from tests.cli.test_team_cli import PASSPHRASE, desks, ok, one_line, team_url  # noqa: F401
from tests.conftest import piper_cmd, piper_env


def keyed(
    data_dir: Path, keys: Path, *args: str, passphrase: str | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = piper_env(
        data_dir,
        PYTHON_KEYRING_BACKEND="tests.keyrings.FileKeyring",
        TEST_KEYRING_FILE=str(keys),
    )
    if passphrase is not None:
        env["PIPER_TEAM_PASSPHRASE"] = passphrase
    return subprocess.run(
        [*piper_cmd(), *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def team_entries(keys: Path) -> list[str]:
    if not keys.exists():
        return []
    return [v for k, v in json.loads(keys.read_text()).items() if "\nteam:" in k]


@pytest.mark.local_store
def test_a_remembered_passphrase_opens_the_team(
    desks: tuple[Path, Path],  # noqa: F811
    team_url: str,  # noqa: F811
    postgres: ThrowawayPostgres,
    tmp_path: Path,
) -> None:
    a, b = desks
    keys = tmp_path / "keys.json"
    made = keyed(
        a, keys, "team", "create", team_url, "--remember-passphrase", passphrase=PASSPHRASE
    )
    assert "remembered in this desktop's keychain" in ok(made)
    assert PASSPHRASE not in made.stdout + made.stderr
    assert team_entries(keys) == [PASSPHRASE]
    # no passphrase given: the keychain's opens the team
    ok(keyed(a, keys, "accounts", "add", "kept_alice"))
    assert "kept_alice" in ok(keyed(a, keys, "accounts", "list"))

    changed = keyed(
        a, keys, "team", "passphrase", "--new-passphrase-stdin", stdin="the new passphrase\n"
    )
    assert "changed" in ok(changed)
    assert team_entries(keys) == ["the new passphrase"]
    ok(keyed(a, keys, "accounts", "list"))

    ok(keyed(a, keys, "team", "passphrase", "--forget"))
    assert team_entries(keys) == []
    assert "no team passphrase" in one_line(keyed(a, keys, "accounts", "list"))
    ok(keyed(a, keys, "team", "passphrase", "--remember", passphrase="the new passphrase"))
    assert team_entries(keys) == ["the new passphrase"]

    # another desktop changes it: the one remembered here stops working, once
    ok(keyed(b, tmp_path / "b.json", "team", "join", team_url, passphrase="the new passphrase"))
    ok(
        keyed(
            b,
            tmp_path / "b.json",
            "team",
            "passphrase",
            "--new-passphrase-stdin",
            passphrase="the new passphrase",
            stdin="third passphrase\n",
        )
    )
    stale = keyed(a, keys, "accounts", "list")
    line = one_line(stale)
    assert "remembered in the keychain no longer opens the team" in line
    assert "the new passphrase" not in stale.stdout + stale.stderr
    assert team_entries(keys) == []
    # not tried again silently: the next command asks for the passphrase
    assert "no team passphrase" in one_line(keyed(a, keys, "accounts", "list"))
    assert "kept_alice" in ok(keyed(a, keys, "accounts", "list", passphrase="third passphrase"))

    ok(keyed(a, keys, "team", "passphrase", "--remember", passphrase="third passphrase"))
    assert team_entries(keys) == ["third passphrase"]
    ok(keyed(a, keys, "team", "leave"))
    assert team_entries(keys) == []
