"""Write transactions: one writer at a time per process, nothing half-written."""

from __future__ import annotations

import threading

import pytest

from piper_desktop.store.db import Database
from piper_desktop.store.models import Setting

INSERT = "INSERT INTO settings (key, value, is_secret, updated_at) VALUES (?, '1', 0, '')"


def _keys(db: Database) -> set[str]:
    with db.raw_read() as conn:
        return {row[0] for row in conn.execute("SELECT key FROM settings WHERE key LIKE 't.%'")}


def test_a_failed_plain_sql_write_leaves_nothing(db: Database) -> None:
    with pytest.raises(ZeroDivisionError), db.raw_write() as conn:
        conn.execute(INSERT, ("t.lost",))
        _ = 1 / 0
    with db.raw_write() as conn:
        conn.execute(INSERT, ("t.kept",))
    assert _keys(db) == {"t.kept"}


def test_a_write_inside_a_write_fails_at_once_and_the_outer_one_commits(db: Database) -> None:
    with db.write() as session:
        session.add(Setting(key="t.outer", value=1))
        with pytest.raises(RuntimeError, match="inside another"), db.raw_write():
            pass
    assert _keys(db) == {"t.outer"}


def test_writers_on_many_threads_all_commit(db: Database) -> None:
    start = threading.Barrier(4)

    def write(n: int) -> None:
        start.wait()
        for i in range(25):
            if i % 2:
                with db.write() as session:
                    session.add(Setting(key=f"t.{n}.{i}", value=i))
            else:
                with db.raw_write() as conn:
                    conn.execute(INSERT, (f"t.{n}.{i}",))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(_keys(db)) == 100
