"""A team's PostgreSQL database (team mode), with the same face as store/db.Database.

Same models, migrations and statements as the SQLCipher file; what differs is below
them: psycopg 3 under SQLAlchemy's pool, no file to key, and transactions that need no
`BEGIN IMMEDIATE` — PostgreSQL locks rows, and the life cycle's guarded writes
(`WHERE status = :source AND lease_owner IS NOT DISTINCT FROM :holder`) re-check their
condition on the locked row, so two desktops moving one job cannot both win.

Not yet wired to `piper init` / `piper team` (issue 19 in progress): the tests and
benches open it directly on a throwaway cluster (sandbox/postgres.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from .db import Tx
from .faults import StoreFault

POOL_SIZE = 8


class PgDatabase:
    """An open team database. `data_dir` is this desktop's own directory (logs, local
    copies of media, the browser sessions it holds)."""

    damaged: StoreFault | None = None  # a server has no pages of ours to find damaged

    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        self._data_dir = data_dir
        self.engine: Engine = create_engine(
            url,
            pool_size=POOL_SIZE,
            max_overflow=POOL_SIZE,
            # a desktop's connections outlive a server restart or a sleeping laptop
            pool_pre_ping=True,
            # a failed statement's message must not carry its values (account passwords)
            hide_parameters=True,
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    def fault(self, exc: BaseException) -> StoreFault | None:
        return None

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def raw_write(self) -> Iterator[Any]:
        pooled = self.engine.raw_connection()
        try:
            conn = pooled.driver_connection
            assert conn is not None
            try:
                yield conn  # psycopg opens the transaction at the first statement
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        finally:
            pooled.close()

    @contextmanager
    def raw_read(self) -> Iterator[Any]:
        pooled = self.engine.raw_connection()
        try:
            conn = pooled.driver_connection
            assert conn is not None
            try:
                yield conn
            finally:
                conn.rollback()  # reads leave nothing open on the server
        finally:
            pooled.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.raw_write() as conn:
            yield Tx(conn, self.engine.dialect)

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        with self.raw_read() as conn:
            yield Tx(conn, self.engine.dialect)

    def close(self) -> None:
        self.engine.dispose()
