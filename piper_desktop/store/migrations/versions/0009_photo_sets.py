"""photo sets: a media item is a video or an ordered set of images

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Photo posts (TikTok carousels, Upload-Post's upload_photos) take 1 to 35 images in an
order with a cover. A media item now says which it is (`kind`, "video" for every row
that exists) and, for a photo set, keeps its images in order (path, sha256, size,
format, width, height) and the cover's index. Its own `path`/`sha256`/`size` stay
meaningful: the first image's path, a hash over the images' hashes, their total size.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import piper_desktop.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no table copy): jobs reference media_items by foreign key
    op.add_column(
        "media_items", sa.Column("kind", sa.String(20), nullable=False, server_default="video")
    )
    op.add_column(
        "media_items",
        sa.Column("images", piper_desktop.store.types.JSONText(), nullable=True),
    )
    op.add_column(
        "media_items",
        sa.Column("cover_index", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    for column in ("cover_index", "images", "kind"):
        op.drop_column("media_items", column)
