"""Alembic environment: Piper always runs migrations on an already-keyed connection."""

from __future__ import annotations

from alembic import context

from piper_desktop.store.migrate import compare_type, include_name
from piper_desktop.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Piper's migrations run through piper_desktop.store.migrate")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copy
    compare_type=compare_type,
    include_name=include_name,  # autogenerate must not drop the full-text index
)
with context.begin_transaction():
    context.run_migrations()
