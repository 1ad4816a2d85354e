"""the finished-job indexes hold only the jobs they serve

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

"Published today" reads (status, published_at) for published jobs only, "failed today"
(status, updated_at) for failed jobs only. As full indexes every job's every status
change rewrote an entry in both (a queued -> claimed -> submitting -> ... job moves
through six statuses); as partial indexes only the transition into `published` or
`failed` touches them: less work on the engine's hot path, same plans for the
dashboard. The jobs list's "changed since" filter keeps its index for failed jobs; with
another status it narrows by (status, next_attempt_at) and filters the time.

Plain create/drop index (no batch "move and copy"): recreating `jobs` would drop the
search triggers of 0004.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_jobs_status_published", table_name="jobs")
    op.drop_index("ix_jobs_status_updated", table_name="jobs")
    op.create_index(
        "ix_jobs_published",
        "jobs",
        ["status", "published_at"],
        sqlite_where=sa.text("status = 'published'"),
        postgresql_where=sa.text("status = 'published'"),
    )
    op.create_index(
        "ix_jobs_failed",
        "jobs",
        ["status", "updated_at"],
        sqlite_where=sa.text("status = 'failed'"),
        postgresql_where=sa.text("status = 'failed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_failed", table_name="jobs")
    op.drop_index("ix_jobs_published", table_name="jobs")
    op.create_index("ix_jobs_status_updated", "jobs", ["status", "updated_at"])
    op.create_index("ix_jobs_status_published", "jobs", ["status", "published_at"])
