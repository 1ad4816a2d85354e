"""Team membership against a real PostgreSQL: a create cut short (the schema made, the
key not) can be made again, and a wrong passphrase at join changes nothing on the
server."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from piper_desktop.domain import team
from piper_desktop.sandbox.postgres import ThrowawayPostgres
from piper_desktop.store import migrate
from piper_desktop.store.db import Database
from piper_desktop.store.pg import PgDatabase
from tests.conftest import TEST_SCRYPT_N

_names = itertools.count(1)


def _empty(postgres: ThrowawayPostgres) -> str:
    name = f"member_{next(_names)}"
    admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return postgres.url(name)


def test_a_create_cut_short_can_be_made_again(
    db: Database, postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    url = _empty(postgres)
    half = PgDatabase(url, tmp_path)
    migrate.upgrade(half)  # the schema, then the create stopped before the key
    half.close()
    made = team.create_team(url, "pass phrase", db, scrypt_n=TEST_SCRYPT_N)
    try:
        assert made.has_team_key()
    finally:
        made.close()
    with pytest.raises(team.TeamError, match="already holds a Piper team"):
        team.create_team(url, "pass phrase", db, scrypt_n=TEST_SCRYPT_N)


def test_a_wrong_passphrase_at_join_leaves_no_trace(
    db: Database, postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    url = _empty(postgres)
    team.create_team(url, "pass phrase", db, scrypt_n=TEST_SCRYPT_N).close()
    assert team.forget(db)
    with pytest.raises(team.TeamError, match="wrong team passphrase"):
        team.join_team(url, "not it", db)
    assert team.membership(db) is None  # nothing remembered here either
