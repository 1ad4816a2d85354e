from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from piper_desktop.domain.services import Services
from piper_desktop.domain.tables import TableQuery, TableService
from piper_desktop.store import migrate
from piper_desktop.store.db import Database
from piper_desktop.store.vault import unlock_vault
from tests.conftest import MASTER_PASSWORD, make_video


def test_database_from_first_schema_opens_and_upgrades(data_dir: Path) -> None:
    path = data_dir / "piper.db"
    old = Database(path, MASTER_PASSWORD, create=True)
    migrate.upgrade(old, "0001")
    assert migrate.current_revision(old) == "0001"
    with old.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (platform, username, status, tags, timezone,"
                " window_enabled, min_spacing_minutes, max_posts_per_day, created_at, updated_at)"
                " VALUES ('tiktok', 'legacy', 'active', '[]', 'UTC', 0, 60, 3,"
                " '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z')"
            )
        )
        columns = {row[1] for row in conn.execute(text("PRAGMA table_info(accounts)"))}
    assert "routes" not in columns
    old.close()

    db = unlock_vault(data_dir, MASTER_PASSWORD)
    assert migrate.current_revision(db) == migrate.head_revision()
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT username, routes FROM accounts")).one()
        tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
    assert row == ("legacy", "[]")
    assert "artifacts" in tables
    # the file was backed up before the upgrade
    assert list(data_dir.glob("piper.*.before-upgrade-0001.bak"))
    db.close()


def test_models_match_migrations(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from piper_desktop.store.models import Base

    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_name": migrate.include_name, "compare_type": migrate.compare_type}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_job_search_index_is_filled_from_existing_jobs(services: Services, tmp_path: Path) -> None:
    from alembic import command

    account = services.accounts.add({"username": "older"})
    media, _ = services.media.add(make_video(tmp_path, "a.mp4"))
    job = services.jobs.add(
        account_id=account.id, media_id=media.id, route="upload_post", caption="before 0004"
    )
    db = services.db
    config = migrate.alembic_config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    with db.engine.connect() as conn:
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
    assert not {n for n in names if n.startswith("jobs_fts")}

    assert migrate.upgrade(db)
    tables = TableService(db)
    assert [r["id"] for r in tables.rows("jobs", TableQuery(search="RE 00"))] == [job.id]
