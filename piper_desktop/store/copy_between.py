"""Copy every row of one Piper store into another: this data dir's SQLCipher vault into a
new team's PostgreSQL (`piper team create --from-local`) and back (`piper team
export-local`). Not store/copies.py, which copies the vault *file* (backups, restores).

Every table of the models' metadata is copied in foreign-key order with its ids, through
the column types: a sealed column is opened by the source's engine (plain in the local
file, the team's data key on the server) and sealed again by the target's, so secrets
are re-encrypted on the way and never reach the server in the clear. On PostgreSQL the
id sequences are then moved past the copied ids.

What belongs to one store only is left where it is (see LOCAL_TABLES, LOCAL_SETTINGS);
job leases are copied as they are: on the other store a lease owner's host names none of
its desktops, so its engines wait out the lease and then reconcile the job like any dead
owner's (domain/leases.py), never re-posting it blindly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Integer, Table, delete, func, insert, select, text
from sqlalchemy.orm import Session

from .models import Base, Setting

# the team's key and its desktops are the server's own: a local vault has none, and a
# new team makes its own (domain/team.py); a browser session lease belongs to a process
# of the store it was taken on (domain/session_leases.py)
LOCAL_TABLES = frozenset({"team_keys", "team_desktops", "session_leases"})
# settings about this data dir, not its data: its membership of a team (where the team
# is, this desktop's id) and whether its master password is in its OS keychain
LOCAL_SETTINGS = frozenset({"team.membership", "security.keychain"})
BATCH = 500


class Store(Protocol):
    """What both store/db.Database and store/pg.PgDatabase offer here."""

    def session(self) -> Any: ...

    def write(self) -> Any: ...


class CopyRefused(Exception):
    pass


@dataclass
class Copied:
    rows: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        shown = [f"{n} {table.replace('_', ' ')}" for table, n in self.rows.items() if n]
        return ", ".join(shown) or "no rows"


def copied_tables() -> list[Table]:
    """The tables a copy carries, parents before children."""
    return [t for t in Base.metadata.sorted_tables if t.name not in LOCAL_TABLES]


def _where(table: Table) -> Any:
    if table.name == Setting.__tablename__:
        return table.c.key.not_in(LOCAL_SETTINGS)
    return None


def _select(table: Table) -> Any:
    query = select(table).order_by(*table.primary_key.columns)
    condition = _where(table)
    return query if condition is None else query.where(condition)


def held_rows(store: Store) -> Copied:
    """How many rows of each copied table the store holds (its local-only rows aside)."""
    held = Copied()
    with store.session() as session:
        for table in copied_tables():
            query = select(func.count()).select_from(table)
            condition = _where(table)
            if condition is not None:
                query = query.where(condition)
            held.rows[table.name] = int(session.scalar(query) or 0)
    return held


def _rows(session: Session, table: Table) -> Iterator[list[dict[str, Any]]]:
    result = session.execute(_select(table).execution_options(yield_per=BATCH))
    for part in result.partitions(BATCH):
        yield [dict(row._mapping) for row in part]


def copy_rows(source: Store, target: Store, *, replace: bool = False) -> Copied:
    """Copy every row of `source` into `target`, in one transaction of the target.

    Refused when the target already holds rows, unless `replace`: then its rows (its
    local-only ones aside) are deleted first, in the same transaction."""
    held = held_rows(target)
    if any(held.rows.values()) and not replace:
        raise CopyRefused(f"the target already holds data ({held.summary()})")
    copied = Copied()
    with source.session() as reading, target.write() as writing:
        if reading.get_bind().dialect.name == "postgresql":
            # one snapshot of a live team for every table (other desktops keep writing):
            # no job events of jobs read before them, no rows missing their parents
            reading.connection(
                execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            )
        if replace:
            for table in reversed(copied_tables()):
                condition = _where(table)
                statement = delete(table)
                writing.execute(statement if condition is None else statement.where(condition))
        for table in copied_tables():
            count = 0
            for batch in _rows(reading, table):
                writing.execute(insert(table), batch)
                count += len(batch)
            copied.rows[table.name] = count
        if writing.get_bind().dialect.name == "postgresql":
            _move_sequences(writing, copied_tables())
    return copied


def _move_sequences(session: Session, tables: Iterable[Table]) -> None:
    """Ids were given: each table's sequence goes past the largest, so the next insert
    gets a fresh one (SQLite needs nothing, its next rowid is max + 1)."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = keys[0].name
        # names from the models, not from input; setval with is_called false: the next
        # value is max + 1, or 1 on an empty table
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'),"
                f" COALESCE((SELECT MAX({column}) FROM {table.name}), 0) + 1, false)"
                f" WHERE pg_get_serial_sequence('{table.name}', '{column}') IS NOT NULL"
            )
        )
