"""analytics: the accounts' posts as the platform reports them, and their readings

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-07

Issue 21. `analytics_posts` holds each post seen on the platform for an account (its
platform id unique per account, the Piper job it matched, how it matched: "id",
"guess" or "outside", and its latest counts); `post_readings` and `account_readings`
are the time series (post × time, account × time) the Performance panel draws.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def _count(name: str, **kw: Any) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger().with_variant(sa.Integer(), "sqlite"), **kw)


def upgrade() -> None:
    op.create_table(
        "analytics_posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("platform", sa.String(30), nullable=False),
        sa.Column("post_id", sa.String(100), nullable=False),
        sa.Column(
            "job_id", sa.Integer(), sa.ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("match", sa.String(10), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("share_url", sa.Text(), nullable=True),
        sa.Column("duration_sec", sa.Integer(), nullable=True),
        _count("views", nullable=False),
        _count("likes", nullable=False),
        _count("comments", nullable=False),
        _count("shares", nullable=False),
        sa.Column("first_seen_at", sa.String(32), nullable=False),
        sa.Column("last_read_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("account_id", "post_id", name="uq_analytics_post"),
    )
    op.create_index(
        "ix_analytics_posts_account_created", "analytics_posts", ["account_id", "created_at"]
    )
    op.create_index("ix_analytics_posts_created", "analytics_posts", ["created_at"])
    op.create_index("ix_analytics_posts_job", "analytics_posts", ["job_id"])
    op.create_table(
        "post_readings",
        sa.Column(
            "post_key",
            sa.Integer(),
            sa.ForeignKey("analytics_posts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("at", sa.String(32), primary_key=True),
        _count("views", nullable=False),
        _count("likes", nullable=False),
        _count("comments", nullable=False),
        _count("shares", nullable=False),
    )
    op.create_table(
        "account_readings",
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("at", sa.String(32), primary_key=True),
        _count("followers", nullable=False),
        _count("likes", nullable=False),
        _count("videos", nullable=False),
        _count("views", nullable=False),
    )


def downgrade() -> None:
    op.drop_table("account_readings")
    op.drop_table("post_readings")
    op.drop_index("ix_analytics_posts_job", "analytics_posts")
    op.drop_index("ix_analytics_posts_created", "analytics_posts")
    op.drop_index("ix_analytics_posts_account_created", "analytics_posts")
    op.drop_table("analytics_posts")
