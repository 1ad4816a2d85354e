"""resumable uploads: the plan and progress of a receipt's upload

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

TikTok's FILE_UPLOAD opens an upload (a URL valid for an hour, the chunk plan) with
the receipt; a crash used to take the URL with it, leaving the publish short of bytes
forever. The plan is now kept with the receipt and every acknowledged chunk recorded, so
a restart continues the upload. The URL is a credential: it lives only in this
(encrypted) table and is cleared when the upload completes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_uploads",
        sa.Column(
            "job_id",
            sa.Integer(),
            sa.ForeignKey("jobs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("receipt", sa.String(200), nullable=False),
        sa.Column("holder", sa.String(80), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("total_bytes", sa.Integer(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("chunks_acked", sa.Integer(), nullable=False),
        sa.Column("bytes_acked", sa.Integer(), nullable=False),
        sa.Column("resumes", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_uploads")
