"""trigram full-text index over the jobs' searchable text

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

The jobs table's search is a substring search; with LIKE '%text%' it reads every job.
An FTS5 trigram index answers substrings of three or more characters from the index.
It is an external-content table (the text stays in `jobs` only; the index holds
trigrams) kept in step by triggers, and lives in the same encrypted file.

A later migration that recreates `jobs` (batch "move and copy") drops these triggers
with the old table: it must create them again.

On PostgreSQL (team mode) the same search is ILIKE over the three columns, answered by a
pg_trgm GIN index on their concatenation (store/search.py repeats the expression).
"""

from __future__ import annotations

from alembic import op

from piper_desktop.store.search import JOB_TEXT_SQL

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = "caption, receipt, last_error"
_OLD = "old.caption, old.receipt, old.last_error"
_NEW = "new.caption, new.receipt, new.last_error"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database's owner may add it
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX jobs_text_trgm ON jobs USING gin ({JOB_TEXT_SQL} gin_trgm_ops)")
        return
    op.execute(
        f"CREATE VIRTUAL TABLE jobs_fts USING fts5({_COLUMNS},"
        " content='jobs', content_rowid='id', tokenize='trigram')"
    )
    op.execute(
        "CREATE TRIGGER jobs_fts_insert AFTER INSERT ON jobs BEGIN"
        f" INSERT INTO jobs_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END"
    )
    op.execute(
        "CREATE TRIGGER jobs_fts_delete AFTER DELETE ON jobs BEGIN"
        f" INSERT INTO jobs_fts(jobs_fts, rowid, {_COLUMNS}) VALUES ('delete', old.id, {_OLD});"
        " END"
    )
    # only when the indexed text changes: status updates (the common write) skip it
    op.execute(
        f"CREATE TRIGGER jobs_fts_update AFTER UPDATE OF {_COLUMNS} ON jobs"
        " WHEN old.caption IS NOT new.caption OR old.receipt IS NOT new.receipt"
        " OR old.last_error IS NOT new.last_error BEGIN"
        f" INSERT INTO jobs_fts(jobs_fts, rowid, {_COLUMNS}) VALUES ('delete', old.id, {_OLD});"
        f" INSERT INTO jobs_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END"
    )
    # index the jobs already there
    op.execute("INSERT INTO jobs_fts(jobs_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX jobs_text_trgm")
        return
    op.execute("DROP TRIGGER jobs_fts_update")
    op.execute("DROP TRIGGER jobs_fts_delete")
    op.execute("DROP TRIGGER jobs_fts_insert")
    op.execute("DROP TABLE jobs_fts")
