"""The SQLCipher database: one encrypted file, opened through SQLAlchemy.

The key is the operator's master password (SQLCipher derives the page key from it with
PBKDF2). Every pooled connection sets the key first, then WAL, foreign keys and a busy
timeout so that two processes (GUI and `piper run`) can share one file.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Dialect, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from .statements import Row, Statement

DB_FILENAME = "piper.db"
BUSY_TIMEOUT_S = 30


class WrongPassword(Exception):
    def __init__(self) -> None:
        super().__init__("wrong master password")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# SQLCipher 4's default key derivation: PBKDF2-HMAC-SHA512 over the file's 16-byte salt.
KDF_ITERATIONS = 256_000
SALT_BYTES = 16


def derive_key(password: str, salt: bytes) -> str:
    """The page key SQLCipher itself derives from the password, as a raw-key literal.

    Deriving it once per unlock, instead of once per pooled connection, keeps opening a
    connection cheap (0.1-0.2 s of PBKDF2 each otherwise) while the file format stays
    SQLCipher's standard passphrase format."""
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, KDF_ITERATIONS, 32)
    return f"\"x'{key.hex()}'\""


def raw_connect(path: Path, password: str, *, key_literal: str | None = None) -> Any:
    """A keyed sqlcipher3 connection; raises WrongPassword if the key does not open it."""
    conn = sqlcipher3.connect(str(path), check_same_thread=False, timeout=30)
    # SQLCipher otherwise prints HMAC failures to stderr on a wrong key.
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = {key_literal or _quote(password)}")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as exc:
        conn.close()
        raise WrongPassword() from exc
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class Database:
    """An unlocked database. Use `session()` to read and `write()` to change things."""

    def __init__(self, path: Path, password: str) -> None:
        self.path = path
        self._password = password
        if not path.exists() or path.stat().st_size < SALT_BYTES:
            # a new file: let SQLCipher write its header (and salt) first
            first = raw_connect(path, password)
            first.execute("PRAGMA journal_mode = WAL")
            first.close()
        self._key = self._derive()
        first = self._connect()  # fails fast on a wrong password
        first.execute("PRAGMA journal_mode = WAL")
        first.close()
        self.engine: Engine = create_engine(
            "sqlite://",
            module=sqlcipher3.dbapi2,
            creator=self._connect,
            poolclass=QueuePool,
            pool_size=8,
            max_overflow=8,
            pool_pre_ping=False,
        )
        _install_transaction_hooks(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self.engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
        )
        # Writers of this process queue here: SQLite lets one write at a time anyway, and
        # its busy handler waits by sleeping 1, 2, 5, 10... ms between tries, where a lock
        # hands over at once. (Another process's writers still meet the busy timeout.)
        self._writer = threading.Lock()
        self._writer_thread: int | None = None

    def _derive(self) -> str:
        with self.path.open("rb") as handle:
            return derive_key(self._password, handle.read(SALT_BYTES))

    def _connect(self) -> Any:
        return raw_connect(self.path, self._password, key_literal=self._key)

    @property
    def data_dir(self) -> Path:
        return self.path.parent

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (deferred transaction); commit yourself if you write."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE), committed on success."""
        with self._writing(), self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def _writing(self) -> Iterator[None]:
        me = threading.get_ident()
        if self._writer_thread == me:
            # a write inside a write would open a second connection and wait for ever on
            # the first one's lock
            raise RuntimeError("a write transaction was opened inside another one")
        # waits as long as SQLite's busy timeout (then SQLite's own may follow, for a
        # writer in another process), and fails with the same error
        if not self._writer.acquire(timeout=BUSY_TIMEOUT_S):
            raise sqlcipher3.OperationalError("database is locked (a writer held it too long)")
        self._writer_thread = me
        try:
            yield
        finally:
            self._writer_thread = None
            self._writer.release()

    @contextmanager
    def raw_write(self) -> Iterator[Any]:
        """A write transaction (BEGIN IMMEDIATE) on a pooled DB-API connection, committed
        on success. For the engine's hot path, which runs plain SQL: the ORM and Core
        bookkeeping cost more than a small transaction's SQL."""
        with self._writing():
            pooled = self.engine.raw_connection()
            try:
                conn = pooled.driver_connection
                assert conn is not None  # a pooled connection is open
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:  # SQLite may have rolled back already (I/O error)
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                pooled.close()  # back to the pool, which rolls back anything left open

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction for the statements of store/statements.py, committed on
        success (the engine's hot path and the job life cycle)."""
        with self.raw_write() as conn:
            yield Tx(conn, self.engine.dialect)

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        """Reads with the statements of store/statements.py (each statement sees a
        consistent snapshot)."""
        with self.raw_read() as conn:
            yield Tx(conn, self.engine.dialect)

    @contextmanager
    def raw_read(self) -> Iterator[Any]:
        """A pooled DB-API connection for plain-SQL reads (each statement sees a
        consistent snapshot)."""
        pooled = self.engine.raw_connection()
        try:
            yield pooled.driver_connection
        finally:
            pooled.close()

    def rekey(self, new_password: str) -> None:
        """Re-encrypt the whole file under a new password, atomically."""
        self.engine.dispose()
        conn = self._connect()
        try:
            # SQLCipher re-keys in rollback-journal mode; WAL comes back afterwards.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute(f"PRAGMA rekey = {_quote(new_password)}")
            conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()
        self._password = new_password
        self._key = self._derive()  # SQLCipher keeps the salt across a re-key
        self.engine.dispose()

    def close(self) -> None:
        # let SQLite refresh the statistics its query planner uses (cheap, bounded)
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA analysis_limit = 400")
                conn.exec_driver_sql("PRAGMA optimize")
        except Exception:  # closing must not fail over planner statistics
            pass
        self.engine.dispose()


def _install_transaction_hooks(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over
    # (SQLAlchemy's documented recipe) and choose DEFERRED or IMMEDIATE per session.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Result:
    """What one statement did: the rows it read (by name) and the rows it changed."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rowcount: int, rows: list[Row]) -> None:
        self.rowcount = rowcount
        self._rows = rows

    def all(self) -> list[Row]:
        return self._rows

    def first(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)


class Tx:
    """The statements of one transaction (or one read) on a pooled DB-API connection.

    Built by `Database.transaction()` / `reading()`, or over an ORM session's own
    connection (`Tx.of_session`) so that a service's ORM changes and the life cycle's
    statements share one transaction."""

    __slots__ = ("_before", "_conn", "_dialect")

    def __init__(
        self, conn: Any, dialect: Dialect, before: Callable[[], None] | None = None
    ) -> None:
        self._conn = conn
        self._dialect = dialect
        self._before = before

    @classmethod
    def of_session(cls, session: Session) -> Tx:
        connection = session.connection()
        return cls(connection.connection.driver_connection, connection.dialect, session.flush)

    def run(self, statement: Statement, **params: Any) -> Result:
        if self._before is not None:
            self._before()  # pending ORM changes first, in the order they were made
        compiled = statement.compiled(self._dialect)
        cursor = self._conn.cursor()
        try:
            cursor.execute(compiled.sql, compiled.parameters(params))
            rows = compiled.rows(cursor.fetchall()) if compiled.row is not None else []
            return Result(cursor.rowcount, rows)
        finally:
            cursor.close()
