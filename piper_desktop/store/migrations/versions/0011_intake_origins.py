"""intake origins: which chat (or other outside source) a job came from

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-07

The Telegram bot (issue 20) replies in the chat that sent a video when its job is
published or needs attention, also after a restart, so job → chat is kept here. A row
without a job marks an intake under way; its `job_floor` lets a restart after a crash
adopt the jobs already made rather than queue the video twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_origins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column(
            "job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("job_floor", sa.Integer(), nullable=True),
        sa.Column("told", sa.String(20), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_intake_origins_ref", "intake_origins", ["source", "ref"])
    op.create_index("ix_intake_origins_job", "intake_origins", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_intake_origins_job", "intake_origins")
    op.drop_index("ix_intake_origins_ref", "intake_origins")
    op.drop_table("intake_origins")
