"""job indexes for the dashboard and the jobs table on large vaults

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "published/failed today", "changed since", and the calendar's time ranges
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_status_published", ["status", "published_at"])
        batch_op.create_index("ix_jobs_status_updated", ["status", "updated_at"])
        batch_op.create_index("ix_jobs_scheduled", ["scheduled_at"])


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_scheduled")
        batch_op.drop_index("ix_jobs_status_updated")
        batch_op.drop_index("ix_jobs_status_published")
