"""`piper init --store URL`: the first desktop makes the empty database the team's, the
next joins it; a bad URL makes nothing, an unreachable server or a wrong passphrase
leaves a local vault that works alone, each said in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from piper_desktop.sandbox.postgres import ThrowawayPostgres
from tests.cli.test_team_cli import PASSPHRASE, ok, one_line, piper, team_url  # noqa: F401
from tests.cli.test_team_keychain_cli import keyed, team_entries


def _dir(tmp_path: Path, name: str) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    return directory


@pytest.mark.local_store
def test_init_creates_then_joins_the_team(
    team_url: str,  # noqa: F811
    postgres: ThrowawayPostgres,
    tmp_path: Path,
) -> None:
    a, b, c = (_dir(tmp_path, n) for n in ("a", "b", "c"))
    made = piper(a, "init", "--store", team_url)
    assert "created the team on postgresql+psycopg://piper@127.0.0.1:" in ok(made)
    assert postgres.password not in made.stdout + made.stderr
    ok(piper(a, "accounts", "add", "from_a"))

    keys = tmp_path / "keys.json"
    joined = keyed(
        b, keys, "init", "--store", team_url, "--remember-passphrase", passphrase=PASSPHRASE
    )
    assert "joined the team on" in ok(joined)
    assert team_entries(keys) == [PASSPHRASE]
    assert "from_a" in ok(keyed(b, keys, "accounts", "list"))  # the keychain's passphrase
    listed = json.loads(ok(piper(b, "accounts", "list", "--json")))
    assert [row["username"] for row in listed] == ["from_a"]
    status = json.loads(ok(piper(b, "team", "status", "--json")))
    assert len(status["desktops"]) == 2
    assert sum(d["this_desktop"] for d in status["desktops"]) == 1

    wrong = piper(c, "init", "--store", team_url, passphrase="not our passphrase")
    line = one_line(wrong)
    assert line.startswith("piper: wrong team passphrase (the local vault is made")
    assert json.loads(ok(piper(c, "accounts", "list", "--json"))) == []  # alone, usable
    ok(piper(c, "team", "join", team_url))
    assert "from_a" in ok(piper(c, "accounts", "list"))


@pytest.mark.local_store
def test_init_with_a_bad_store_says_what(tmp_path: Path) -> None:
    typo = _dir(tmp_path, "typo")
    line = one_line(piper(typo, "init", "--store", "mysql://u@127.0.0.1/x"))
    assert "a PostgreSQL URL is needed" in line
    assert not (typo / "piper.db").exists()  # a typo makes nothing

    away = _dir(tmp_path, "away")
    refused = piper(away, "init", "--store", "postgresql://piper:hunter2-db@127.0.0.1:1/team")
    line = one_line(refused)
    assert line.startswith("piper: cannot reach postgresql://piper@127.0.0.1:1/team: ")
    assert "the local vault is made and works alone" in line
    assert "hunter2-db" not in refused.stdout + refused.stderr
    ok(piper(away, "accounts", "add", "alone"))
    assert "alone" in ok(piper(away, "accounts", "list"))
