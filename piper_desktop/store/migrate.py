"""Apply Alembic migrations on open, backing the file up before an upgrade."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ..logs import get_logger
from .db import Database

log = get_logger("store")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# the jobs' full-text index (migration 0004) and the shadow tables SQLite keeps for it:
# created by raw SQL, not models, so comparing models with the schema skips them
SEARCH_INDEX_PREFIX = "jobs_fts"


def include_name(
    name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames
) -> bool:
    """Alembic's `include_name` hook: leave the full-text index out of comparisons."""
    return not (type_ == "table" and (name or "").startswith(SEARCH_INDEX_PREFIX))


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, target: str = "head") -> bool:
    """Bring the schema to `target`. Returns True if anything was applied."""
    current = current_revision(db)
    wanted = head_revision() if target == "head" else target
    if current == wanted:
        return False
    if current is not None:
        backup = backup_file(db, reason=f"before-upgrade-{current}")
        log.info("database at %s, upgrading to %s (backup %s)", current, wanted, backup.name)
    config = alembic_config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, target)
    return True


def backup_file(db: Database, reason: str) -> Path:
    """A consistent copy of the (encrypted) database file beside it."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = db.path.with_name(f"{db.path.stem}.{stamp}.{reason}.bak")
    shutil.copy2(db.path, target)
    return target
