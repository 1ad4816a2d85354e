"""A team's PostgreSQL database (team mode), with the same face as store/db.Database.

Same models, migrations and statements as the SQLCipher file; what differs is below
them: psycopg 3 under SQLAlchemy's pool, no file to key, and transactions that need no
`BEGIN IMMEDIATE` — PostgreSQL locks rows, and the life cycle's guarded writes
(`WHERE status = :source AND lease_owner IS NOT DISTINCT FROM :holder`) re-check their
condition on the locked row, so two desktops moving one job cannot both win.

Its secrets are sealed with the team's data key (store/sealed.py): `create_team_key`
once for the team, then `unlock(passphrase)` on every desktop before secrets are read
or written; `change_passphrase` re-wraps the key.

Not yet wired to `piper init` / `piper team` (issue 19 in progress): the tests and
benches open it directly on a throwaway cluster (sandbox/postgres.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.exc import ProgrammingError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from . import sealed
from .db import Tx
from .faults import StoreFault
from .models import TeamKey
from .pg_listen import ChangeListener
from .sealed import SCRYPT_N, SealedValueDamaged, SecretBox, TeamLocked, WrappedKey

POOL_SIZE = 8


class PgDatabase:
    """An open team database. `data_dir` is this desktop's own directory (logs, local
    copies of media, the browser sessions it holds)."""

    damaged: StoreFault | None = None  # a server has no pages of ours to find damaged
    # this desktop's id in the team, once it joined (domain/team.py sets it): lease
    # owners and heartbeats carry it
    desktop_id: str | None = None

    def __init__(self, url: str, data_dir: Path) -> None:
        self.url = url
        self._data_dir = data_dir
        # this database's connections sign their changes with it (application_name), so
        # its own listener can leave them out (store/pg_listen.py)
        self.writer_name = f"piper-{secrets.token_hex(6)}"
        self._identity: tuple[str, str] | None = None
        self.engine: Engine = create_engine(
            url,
            connect_args={"application_name": self.writer_name},
            pool_size=POOL_SIZE,
            max_overflow=POOL_SIZE,
            # a desktop's connections outlive a server restart or a sleeping laptop
            pool_pre_ping=True,
            # a failed statement's message must not carry its values (account passwords)
            hide_parameters=True,
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.engine, "do_connect", self._with_identity)

    def _with_identity(
        self, dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]
    ) -> None:
        # each connection tells the server who writes through it (job events' desktop
        # and operator, migration 0008); libpq's options take backslash-escaped spaces
        if self._identity is not None:
            desktop, operator = (
                v.replace("\\", "\\\\").replace(" ", "\\ ") for v in self._identity
            )
            cparams["options"] = f"-c piper.desktop={desktop} -c piper.operator={operator}"

    def identify(self, desktop_id: str, operator: str) -> None:
        """From now on this database's writes are this desktop's and operator's."""
        self.desktop_id = desktop_id
        self._identity = (desktop_id, operator)
        self.engine.dispose()  # connections made before carry no identity

    # --- the team key ---------------------------------------------------------------------
    def create_team_key(self, passphrase: str, *, scrypt_n: int = SCRYPT_N) -> None:
        """Make the team's data key and keep it wrapped by `passphrase`; opens it here."""
        box = SecretBox.new()
        wrapped = box.wrap(passphrase, n=scrypt_n)
        with self.write() as session:
            if session.scalar(select(TeamKey.id)) is not None:
                raise ValueError("this team database already has its key")
            session.add(TeamKey(id=1, wrapped=wrapped.as_json()))
        sealed.attach(self.engine, box)

    def has_team_key(self) -> bool:
        """Whether the team's key was made (a create cut short leaves the schema only)."""
        try:
            self._wrapped()
        except (LookupError, ProgrammingError):
            return False
        return True

    def _wrapped(self) -> WrappedKey:
        with self.session() as session:
            text = session.scalar(select(TeamKey.wrapped).where(TeamKey.id == 1))
        if text is None:
            raise LookupError("this database has no team key: it was not made by piper team")
        return WrappedKey.from_json(text)

    def unlock(self, passphrase: str) -> None:
        """Open the team's data key (WrongTeamPassphrase if it does not)."""
        sealed.attach(self.engine, SecretBox.unwrap(self._wrapped(), passphrase))

    def change_passphrase(self, old: str, new: str) -> None:
        """Re-wrap the data key under `new`; the sealed values stay as they are."""
        wrapped = self._wrapped()
        box = SecretBox.unwrap(wrapped, old)
        rewrapped = box.wrap(new, n=wrapped.kdf.n)
        with self.write() as session:
            key = session.get(TeamKey, 1)
            assert key is not None
            key.wrapped = rewrapped.as_json()
        sealed.attach(self.engine, box)

    def listen(self, on_change: Callable[[frozenset[str]], None]) -> ChangeListener:
        """A started listener that calls `on_change(tables)` when other desktops (or
        other processes here) commit changes to those tables."""
        listener = ChangeListener(self.url, self.writer_name, on_change)
        listener.start()
        return listener

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    def fault(self, exc: BaseException) -> StoreFault | None:
        return None

    @contextmanager
    def _faults(self) -> Iterator[None]:
        # SQLAlchemy wraps what a column type raises while binding: the sealing's own
        # errors (locked, damaged) come out as themselves, one line, no SQL
        try:
            yield
        except StatementError as exc:
            if isinstance(exc.orig, TeamLocked | SealedValueDamaged):
                raise exc.orig from None
            raise

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._faults(), self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._faults(), self._sessions() as session, session.begin():
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
        sealed.detach(self.engine)
        self.engine.dispose()
