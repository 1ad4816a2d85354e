"""`piper team` as an operator uses it: two data dirs (two desktops) on one real
PostgreSQL (the run's throwaway cluster). One creates the team, the other joins it; then
both work on the same accounts. Every failure is one line naming what is wrong, and
neither the database password nor the team passphrase shows in any output."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from piper_desktop.sandbox.postgres import ThrowawayPostgres
from tests.conftest import MASTER_PASSWORD, piper_cmd, piper_env

PASSPHRASE = "our shared team passphrase"
_names = itertools.count(1)


def piper(
    data_dir: Path, *args: str, passphrase: str | None = PASSPHRASE, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = piper_env(data_dir)
    if passphrase is not None:
        env["PIPER_TEAM_PASSPHRASE"] = passphrase
    return subprocess.run(
        [*piper_cmd(), *args], input=stdin, capture_output=True, text=True, env=env, timeout=120
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def team_url(postgres: ThrowawayPostgres) -> str:
    """An empty database on the cluster, as an administrator would hand it over."""
    name = f"team_{next(_names)}"
    admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return postgres.url(name).replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture
def desks(tmp_path: Path) -> tuple[Path, Path]:
    made = []
    for name in ("desk_a", "desk_b"):
        directory = tmp_path / name
        directory.mkdir()
        ok(piper(directory, "init"))
        made.append(directory)
    return made[0], made[1]


def _no_secret(result: subprocess.CompletedProcess[str], postgres: ThrowawayPostgres) -> None:
    for stream in (result.stdout, result.stderr):
        assert postgres.password not in stream
        assert PASSPHRASE not in stream
        assert MASTER_PASSWORD not in stream


@pytest.mark.local_store
def test_two_desktops_share_one_team(
    desks: tuple[Path, Path], team_url: str, postgres: ThrowawayPostgres
) -> None:
    a, b = desks
    created = piper(a, "team", "create", team_url, "--name", "desk A", "--operator", "ana")
    assert "created the team on postgresql+psycopg://piper@127.0.0.1:" in ok(created)
    _no_secret(created, postgres)
    ok(piper(a, "accounts", "add", "shared_alice"))

    wrong = piper(b, "team", "join", team_url, passphrase="not our passphrase")
    assert one_line(wrong) == "piper: wrong team passphrase"
    _no_secret(wrong, postgres)
    joined = piper(b, "team", "join", team_url, "--name", "desk B", "--json")
    assert json.loads(ok(joined))["joined"] is True

    listed = json.loads(ok(piper(b, "accounts", "list", "--json")))
    assert [row["username"] for row in listed] == ["shared_alice"]
    ok(piper(b, "accounts", "add", "shared_bob", "--account-password-stdin", stdin="acct-pw-99\n"))
    seen_from_a = json.loads(ok(piper(a, "accounts", "list", "--json")))
    assert sorted(row["username"] for row in seen_from_a) == ["shared_alice", "shared_bob"]

    status = json.loads(ok(piper(a, "team", "status", "--json")))
    desktops = {d["name"]: d for d in status["desktops"]}
    assert set(desktops) == {"desk A", "desk B"}
    assert desktops["desk A"]["this_desktop"] and desktops["desk A"]["operator"] == "ana"
    assert "password" not in json.dumps(status) and postgres.password not in json.dumps(status)

    again = piper(b, "team", "create", team_url)
    assert "already holds a Piper team: use `piper team join`" in one_line(again)
    # without the passphrase a joined data dir opens nothing
    locked = piper(a, "accounts", "list", passphrase=None)
    assert "no team passphrase" in one_line(locked)

    ok(piper(b, "team", "leave"))
    assert json.loads(ok(piper(b, "accounts", "list", "--json"))) == []  # its own vault


@pytest.mark.local_store
def test_bad_team_urls_are_one_line_without_the_password(
    desks: tuple[Path, Path], postgres: ThrowawayPostgres
) -> None:
    a, _ = desks
    assert "team URL: not a URL" in one_line(piper(a, "team", "join", "not a url"))
    assert "a PostgreSQL URL is needed" in one_line(
        piper(a, "team", "join", "mysql://u@127.0.0.1/x")
    )
    refused = piper(a, "team", "join", "postgresql://piper:hunter2-db-pw@127.0.0.1:1/team")
    line = one_line(refused)
    assert line.startswith("piper: cannot reach postgresql://piper@127.0.0.1:1/team: ")
    assert "hunter2-db-pw" not in refused.stderr + refused.stdout
    wrong_pw = piper(
        a, "team", "join", f"postgresql://piper:nope@127.0.0.1:{postgres.port}/postgres"
    )
    assert "password authentication failed" in one_line(wrong_pw)
