"""The database file's name, in a module of its own: the GUI's first window (is there a
vault yet?) needs it before SQLAlchemy is imported."""

from __future__ import annotations

DB_FILENAME = "piper.db"
