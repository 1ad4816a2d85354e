"""Every statement of store/statements.py prepares against the schema the migrations make
(a real SQLCipher file), and runs inside a transaction that is rolled back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from piper_desktop.store import statements
from piper_desktop.store.db import Database, Tx
from piper_desktop.store.statements import Statement

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
ALL = list(statements.all_statements())


class Rollback(Exception):
    pass


def test_the_module_s_statements_are_all_found() -> None:
    names = {s.name for s in ALL}
    assert {"JOB_STATE", "MOVE_TAKE", "DUE_JOBS", "LOAD_JOB", "STORE_RECEIPT"} <= names
    assert len(names) == len(ALL) > 30


@pytest.mark.parametrize("statement", ALL, ids=lambda s: s.name)
def test_statement_prepares_and_runs_on_the_migrated_schema(
    db: Database, statement: Statement
) -> None:
    compiled = statement.compiled(db.engine.dialect)
    # every parameter a plausible value of its kind: times as times, the rest as None
    given = {
        name: NOW
        if name in {"now", "since", "until", "lease_end", "next_at"}
        else 5
        if name == "limit"
        else None
        for name in compiled.required
    }
    with db.raw_read() as conn:
        # EXPLAIN makes SQLite prepare it: an unknown table or column fails here
        conn.execute("EXPLAIN " + compiled.sql, compiled.parameters(given)).fetchall()
    if getattr(statement.construct, "is_insert", False):
        return  # NULLs are no row to insert; the engine tests insert real ones
    with pytest.raises(Rollback), db.transaction() as tx:
        result = Tx.run(tx, statement, **given)
        assert result.rowcount in (-1, 0, 1)
        raise Rollback


def test_rows_come_back_by_name_with_the_columns_types(db: Database) -> None:
    with db.reading() as tx:
        rows = tx.run(statements.CAPTIONS, since=NOW).all()
        assert rows == []
    with db.transaction() as tx:
        assert tx.run(statements.HOLD, job=1, until=NOW, now=NOW).rowcount == 0
    with pytest.raises(KeyError, match="until"):
        statements.HOLD.compiled(db.engine.dialect).parameters({"job": 1, "now": NOW})
