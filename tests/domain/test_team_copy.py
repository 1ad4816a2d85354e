"""A local vault copied into a new team's PostgreSQL and back (store/copy_between.py
through domain/team.py): every table's rows come back as they were, ids included; the
server holds no planted secret in the clear; new rows on the server get fresh ids; a
database or vault that holds data is not written over unasked."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from piper_desktop.domain import team
from piper_desktop.domain.services import Services
from piper_desktop.sandbox.postgres import ThrowawayPostgres
from piper_desktop.store.copy_between import LOCAL_SETTINGS, copied_tables
from piper_desktop.store.db import Database
from piper_desktop.store.models import Artifact, BrowserProfile, Campaign, JobEvent
from piper_desktop.store.pg import PgDatabase
from piper_desktop.store.vault import create_vault
from tests.conftest import MASTER_PASSWORD, TEST_SCRYPT_N, make_video
from tests.store.test_team_secrets import PLANTED, _dump, _plant

PASS = "copy passphrase"
_names = itertools.count(1)


def _empty(postgres: ThrowawayPostgres) -> str:
    name = f"copy_{next(_names)}"
    admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return postgres.url(name)


def plant_everything(services: Services, tmp_path: Path) -> None:
    """A row in every copied table, with every kind of secret (tests/store's planting)."""
    account_id = _plant(services, tmp_path)
    services.settings.set("ui.theme", "dark")
    services.settings.set("security.keychain", True)  # this desktop's own
    with services.db.write() as session:
        session.add(BrowserProfile(name="desk profile", user_agent="Mozilla/5.0 test"))
        session.add(Campaign(name="launch", route="upload_post", hashtags=["fyp"]))
    job_id = services.jobs.list()[0].id
    with services.db.write() as session:
        session.add(Artifact(job_id=job_id, name="shot.png", content=b"\x89PNG planted"))
        session.add(
            JobEvent(job_id=job_id, at=datetime.now(UTC), kind="note", message="hand planted")
        )
    assert services.accounts.get(account_id).password == PLANTED["account"]


def rows_of(store: Database | PgDatabase) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    with store.session() as session:
        for table in copied_tables():
            query = select(table).order_by(*table.primary_key.columns)
            rows = [dict(r._mapping) for r in session.execute(query)]
            if table.name == "settings":  # this desktop's own stay where they are
                rows = [r for r in rows if r["key"] not in LOCAL_SETTINGS]
            found[table.name] = rows
    return found


def test_local_to_team_and_back_keeps_every_row(
    db: Database, postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    services = Services(db)
    plant_everything(services, tmp_path)
    before = rows_of(db)
    assert all(before.values()), [name for name, rows in before.items() if not rows]

    url = _empty(postgres)
    shared, copied = team.create_team_from_local(url, PASS, db, scrypt_n=TEST_SCRYPT_N)
    try:
        assert copied.rows["accounts"] == 1 and copied.rows["jobs"] == 1
        assert rows_of(shared) == before
        dump = _dump(postgres, url)
        for name, secret in PLANTED.items():
            assert secret not in dump, name
        assert "sealed1:" in dump and "planted" in dump
        assert team.membership(db) is not None  # joined
        assert rows_of(db) == before  # the local vault untouched

        # back into a new vault: the same rows, secrets opened again
        back_dir = tmp_path / "back"
        team.export_to_new_vault(shared, back_dir, MASTER_PASSWORD)
        back = Database(back_dir / "piper.db", MASTER_PASSWORD)
        try:
            assert rows_of(back) == before
        finally:
            back.close()

        # the server's sequences moved past the copied ids
        team_services = Services(shared)  # type: ignore[arg-type]
        new_account = team_services.accounts.add({"username": "after_copy"})
        media, _ = team_services.media.add(make_video(tmp_path, "after.mp4"))
        new_job = team_services.jobs.add(
            account_id=new_account.id, media_id=media.id, route="tiktok_api", caption="new"
        )
        assert new_account.id > max(r["id"] for r in before["accounts"])
        assert new_job.id > max(r["id"] for r in before["jobs"])

        # and over this data dir's vault: refused, then replaced with a copy kept
        member = team.membership(db)
        assert member is not None
        with pytest.raises(team.TeamError, match=r"own vault holds data \(.*1 accounts.*--replace"):
            team.export_local(shared, db, member)
        exported = team.export_local(shared, db, member, replace=True)
    finally:
        shared.close()
    assert exported.kept_copy is not None and exported.kept_copy.exists()
    assert exported.replaced is not None and exported.replaced.rows["accounts"] == 1
    assert team.membership(db) is None  # left the team
    assert services.accounts.get(new_account.id).username == "after_copy"
    assert services.accounts.find("planted").password == PLANTED["account"]
    assert services.jobs.get(new_job.id).caption == "new"
    assert services.settings.get("security.keychain") is True  # this desktop's own kept


def test_a_team_database_that_holds_data_is_refused(
    db: Database, pg_db: PgDatabase, tmp_path: Path
) -> None:
    Services(pg_db).accounts.add({"username": "already_there"})  # type: ignore[arg-type]
    with pg_db.write() as session:  # a create cut short: the schema and data, no key
        session.execute(text("DELETE FROM team_keys"))
    Services(db).accounts.add({"username": "local_one"})
    with pytest.raises(team.TeamError, match=r"already holds data \(1 accounts\)"):
        team.create_team_from_local(pg_db.url, PASS, db, scrypt_n=TEST_SCRYPT_N)
    assert team.membership(db) is None
    assert not pg_db.has_team_key()


def test_export_to_a_fresh_vault_needs_no_replace(pg_db: PgDatabase, tmp_path: Path) -> None:
    Services(pg_db).accounts.add({"username": "on_team", "password": "t-pass-1"})  # type: ignore[arg-type]
    fresh = tmp_path / "fresh"
    local = create_vault(fresh, MASTER_PASSWORD)
    member = team.Membership(pg_db.url, "d9", "desk", "op")
    try:
        exported = team.export_local(pg_db, local, member)
        assert exported.replaced is None and exported.kept_copy is None
        assert Services(local).accounts.list()[0].password == "t-pass-1"
    finally:
        local.close()
