"""Apply Alembic migrations on open, backing the file up before an upgrade."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import String
from sqlalchemy.types import TypeEngine

from ..logs import get_logger
from .copies import copy_name
from .db import Database
from .pg import PgDatabase
from .sealed import SealedText

log = get_logger("store")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# the jobs' full-text index (migration 0004) and the shadow tables SQLite keeps for it:
# created by raw SQL, not models, so comparing models with the schema skips them
SEARCH_INDEX_PREFIX = "jobs_fts"


def include_name(
    name: str | None, type_: NameFilterType, parent_names: NameFilterParentNames
) -> bool:
    """Alembic's `include_name` hook: leave the full-text index out of comparisons."""
    if type_ == "index" and name == "jobs_text_trgm":  # its PostgreSQL form
        return False
    return not (type_ == "table" and (name or "").startswith(SEARCH_INDEX_PREFIX))


def compare_type(
    context: MigrationContext,
    inspected_column: Any,
    metadata_column: Any,
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """Alembic's `compare_type` hook: a sealed column's stored type is the one its
    dialect gets (`load_dialect_impl`: VARCHAR in the local file, TEXT on a server),
    which Alembic does not ask for; every other column is Alembic's own comparison."""
    if not isinstance(metadata_type, SealedText):
        return None
    wanted = metadata_type.load_dialect_impl(context.dialect)
    same_kind = type(inspected_type).__name__.upper() == type(wanted).__name__.upper() or (
        isinstance(inspected_type, String) and isinstance(wanted, String)
    )
    same_length = getattr(inspected_type, "length", None) == getattr(wanted, "length", None)
    return not (same_kind and same_length)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database | PgDatabase) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database | PgDatabase, target: str = "head") -> bool:
    """Bring the schema to `target`. Returns True if anything was applied."""
    current = current_revision(db)
    wanted = head_revision() if target == "head" else target
    if current == wanted:
        return False
    if current is not None and isinstance(db, Database):
        # a team server's backups are its administrator's (pg_dump), not a file here
        backup = backup_file(db, reason=f"before-upgrade-{current}")
        log.info("database at %s, upgrading to %s (backup %s)", current, wanted, backup.name)
    config = alembic_config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, target)
    return True


def backup_file(db: Database, reason: str) -> Path:
    """A consistent, owner-only copy of the (encrypted) database beside it, under the
    same password (`piper passwd` re-keys it with the database)."""
    return db.copy_to(copy_name(db.path, reason))
