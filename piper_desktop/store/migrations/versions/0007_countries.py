"""countries: a proxy's exit country (from its check) and an account's country

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

Proxies are spread one per account by country (issue 17): a proxy's country comes
from the IP-info service its check asks through it, an account's from its import file
(else its time zone's country, computed, not stored).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN in place (no table copy: see downgrade)
    op.add_column("proxies", sa.Column("country", sa.String(2), nullable=True))
    op.add_column("accounts", sa.Column("country", sa.String(2), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+, PostgreSQL): a batch copy of
    # `accounts` would drop the table, and with foreign keys on, its jobs with it
    op.execute("ALTER TABLE accounts DROP COLUMN country")
    op.execute("ALTER TABLE proxies DROP COLUMN country")
