"""team store: the wrapped team key, and columns that fit a PostgreSQL server

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Team mode keeps the store on a shared PostgreSQL; `team_desktops` lists the desktops that
joined it and their engines' last heartbeat, and each job event records the desktop and
operator that made it (stamped by the server). Its secrets are sealed on the desktop
(store/sealed.py) under a data key that `team_keys` holds wrapped by the team
passphrase's key; a sealed value is longer than the plain one, so the proxies' password
becomes TEXT (PostgreSQL enforces VARCHAR lengths, SQLite does not). Byte counts become
BIGINT: PostgreSQL's INTEGER stops at 2 GiB and TikTok takes 4 GB videos. On the local
file the table stays empty and the column changes are only declarations.

On PostgreSQL, statement-level triggers NOTIFY channel `piper_changes` with the table
and the writer's application_name when what a desktop shows or schedules changes
(store/pg_listen.py wakes the engines and GUIs of the others). A lease renewal touches
no column they watch, so it wakes nobody.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("wrapped", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "team_desktops",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("host", sa.String(120), nullable=False),
        sa.Column("operator", sa.String(120), nullable=False),
        sa.Column("joined_at", sa.String(32), nullable=False),
        sa.Column("last_seen_at", sa.String(32), nullable=False),
        sa.Column("engine_state", sa.String(20), nullable=True),
        sa.Column("engine_owner", sa.String(80), nullable=True),
    )
    # who made each event (a team's desktops): ADD COLUMN in place, no table copy
    op.add_column("job_events", sa.Column("desktop", sa.String(32), nullable=True))
    op.add_column("job_events", sa.Column("operator", sa.String(120), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        # SQLite: no length enforced, INTEGER is 64-bit; and a batch "move and copy" of
        # proxies or media_items would fire their foreign keys' ON DELETE on the way
        return
    op.alter_column("proxies", "password", type_=sa.Text(), existing_type=sa.String(255))
    op.alter_column("media_items", "size", type_=sa.BigInteger(), existing_type=sa.Integer())
    for name in _BYTE_COLUMNS:
        op.alter_column("job_uploads", name, type_=sa.BigInteger(), existing_type=sa.Integer())
    op.execute(
        "CREATE FUNCTION piper_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN PERFORM pg_notify('piper_changes',"
        " TG_TABLE_NAME || ' ' || current_setting('application_name'));"
        " RETURN NULL; END $$"
    )
    # the server stamps who wrote an event from the connection's own settings
    # (store/pg.py sets piper.desktop and piper.operator on every connection)
    for column in ("desktop", "operator"):
        op.execute(
            f"ALTER TABLE job_events ALTER COLUMN {column}"
            f" SET DEFAULT current_setting('piper.{column}', true)"
        )
    for table, what in _WATCHED.items():
        op.execute(
            f"CREATE TRIGGER piper_changes AFTER INSERT OR DELETE OR UPDATE{what} ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION piper_notify_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _WATCHED:
            op.execute(f"DROP TRIGGER piper_changes ON {table}")
        op.execute("DROP FUNCTION piper_notify_change()")
        for name in _BYTE_COLUMNS:
            op.alter_column("job_uploads", name, type_=sa.Integer(), existing_type=sa.BigInteger())
        op.alter_column("media_items", "size", type_=sa.Integer(), existing_type=sa.BigInteger())
        op.alter_column("proxies", "password", type_=sa.String(255), existing_type=sa.Text())
    op.execute("ALTER TABLE job_events DROP COLUMN operator")
    op.execute("ALTER TABLE job_events DROP COLUMN desktop")
    op.drop_table("team_desktops")
    op.drop_table("team_keys")


_BYTE_COLUMNS = ("total_bytes", "chunk_size", "bytes_acked")
# the tables whose changes other desktops hear of; jobs only when a column the engines
# or the screens act on changes (not a lease renewal)
_JOB_COLUMNS = (
    "status, next_attempt_at, scheduled_at, route, caption, campaign_id, account_id,"
    " lease_owner, receipt, post_url"
)
_WATCHED = {
    "jobs": f" OF {_JOB_COLUMNS}",
    "accounts": "",
    "campaigns": "",
    "proxies": "",
    "media_items": "",
    "browser_profiles": "",
    "settings": "",
}
