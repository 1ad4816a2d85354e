"""session_leases: one machine at a time holds an account's browser session

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

Team mode (issue 19): desktops share accounts, but a browser session's storage state
cannot be shared; a small table of its own (not columns on accounts) so that taking
and renewing a lease does not notify every desktop that an account changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # times as the models store them: sortable ISO text (store/types.UTCDateTime)
    op.create_table(
        "session_leases",
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("holder", sa.String(80), nullable=False),
        sa.Column("desktop", sa.String(120), nullable=False),
        sa.Column("operator", sa.String(120), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("taken_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("session_leases")
