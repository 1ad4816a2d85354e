"""The SQLCipher database: one encrypted file, opened through SQLAlchemy.

The key is the operator's master password (SQLCipher derives the page key from it with
PBKDF2). Every pooled connection sets the key first, then WAL, foreign keys and a busy
timeout so that two processes (GUI and `piper run`) can share one file.

Errors from the file itself (a damaged page, a full disk, another process's lock) leave
here as the faults of store/faults.py, without the SQL or its parameters; once a page is
found damaged, nothing more is written to the file.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Dialect, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from .faults import (
    SQLITE_NOTADB,
    DatabaseBusy,
    DatabaseDamaged,
    NotAPiperDatabase,
    StoreFault,
    WrongPassword,
    classify,
    sqlite_code,
)
from .filenames import DB_FILENAME as DB_FILENAME  # re-exported: its home for most callers
from .statements import Row, Statement

BUSY_TIMEOUT_S = 30
# re-keying and restoring need the file to themselves: wait this long for another
# process to let go, then say who to close (not the 30 s of an ordinary writer)
EXCLUSIVE_TIMEOUT_S = 3
PAGE_SIZE = 4096  # SQLCipher 4's default
PLAIN_SQLITE_HEADER = b"SQLite format 3\x00"

__all__ = [
    "DB_FILENAME",
    "Database",
    "Tx",
    "WrongPassword",
    "derive_key",
    "open_read_only",
    "raw_connect",
]


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


def raw_connect(
    path: Path,
    password: str,
    *,
    key_literal: str | None = None,
    busy_timeout_s: float = BUSY_TIMEOUT_S,
    read_only: bool = False,
) -> Any:
    """A keyed sqlcipher3 connection. Raises WrongPassword if the key does not open the
    first page (or it is damaged: `diagnose` tells which), another fault if the file
    cannot be read."""
    target = f"file:{path}?mode=ro" if read_only else str(path)
    conn = sqlcipher3.connect(
        target, check_same_thread=False, timeout=busy_timeout_s, uri=read_only
    )
    # SQLCipher otherwise prints HMAC failures to stderr on a wrong key.
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = {key_literal or _quote(password)}")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.Error as exc:
        conn.close()
        if sqlite_code(exc) == SQLITE_NOTADB:
            raise WrongPassword() from None
        fault = classify(exc, path)
        if fault is None:
            raise
        raise fault from None
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def open_read_only(path: Path, password: str) -> Any:
    """A read-only keyed connection to a copy of the database (a backup), its faults
    named as for the database itself; nothing is written to the file."""
    size = path.stat().st_size
    if size < SALT_BYTES:
        raise DatabaseDamaged(path, f"the file is {size} bytes long")
    try:
        return raw_connect(path, password, read_only=True)
    except WrongPassword:
        raise diagnose(path, key_for(path, password)) from None


def page_problems(path: Path, key_literal: str) -> list[str]:
    """What `PRAGMA cipher_integrity_check` finds (each page's HMAC and size); it needs
    no readable schema, so it reports on a file whose first pages are damaged too."""
    conn = sqlcipher3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = {key_literal}")
        return [str(row[0]) for row in conn.execute("PRAGMA cipher_integrity_check")]
    except sqlcipher3.Error as exc:
        return [str(exc)]
    finally:
        conn.close()


def key_for(path: Path, password: str) -> str:
    with path.open("rb") as handle:
        return derive_key(password, handle.read(SALT_BYTES))


def diagnose(path: Path, key_literal: str) -> StoreFault:
    """Why the first page does not open: a wrong password, damage or a foreign file.

    Every page carries its own HMAC under the same key, so if any other page checks
    out, the key is right and the first page is damaged; if none does, the key is
    wrong (or, when the size is no whole number of pages, the file is not ours)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(len(PLAIN_SQLITE_HEADER))
    if head == PLAIN_SQLITE_HEADER:
        return NotAPiperDatabase(path, "a plain SQLite file, not encrypted")
    pages = -(-size // PAGE_SIZE)
    problems = page_problems(path, key_literal)
    # SQLCipher names the page in each line: "HMAC verification failed for page 3",
    # "page 9 has an invalid size of ..."
    bad_pages = {int(n) for p in problems for n in re.findall(r"page (\d+)", p)}
    if pages > 1 and len(bad_pages) < pages:
        return DatabaseDamaged(path, problems[0] if problems else "its first page")
    if size % PAGE_SIZE:
        return NotAPiperDatabase(path, f"{size} bytes, no whole number of pages")
    return WrongPassword()


class Database:
    """An unlocked database. Use `session()` to read and `write()` to change things."""

    def __init__(self, path: Path, password: str, *, create: bool = False) -> None:
        self.path = path
        self._password = password
        # the first damage found: from then on every write is refused with it
        self.damaged: DatabaseDamaged | None = None
        size = path.stat().st_size if path.exists() else 0
        if create:
            if size:
                raise FileExistsError(path)
            # a new file: let SQLCipher write its header (and salt) first
            first = raw_connect(path, password)
            first.execute("PRAGMA journal_mode = WAL")
            first.close()
        elif size < SALT_BYTES:
            # never let an empty or cut-off file silently become a new, empty vault
            raise DatabaseDamaged(path, f"the file is {size} bytes long")
        self._key = self._derive()
        try:
            first = self._connect()  # fails fast on a wrong password
        except WrongPassword:
            raise diagnose(path, self._key) from None
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
            # a failed statement's message must not carry its values (account passwords)
            hide_parameters=True,
        )
        _install_transaction_hooks(self.engine, self)
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
    def password(self) -> str:
        """The master password it was opened with (re-keying copies needs it)."""
        return self._password

    @property
    def data_dir(self) -> Path:
        return self.path.parent

    def fault(self, exc: BaseException) -> StoreFault | None:
        """What `exc` means for this file (store/faults.py); damage stops all writes."""
        found = classify(exc, self.path)
        if isinstance(found, DatabaseDamaged) and self.damaged is None:
            self.damaged = found
        return found

    @contextmanager
    def _faults(self) -> Iterator[None]:
        try:
            yield
        except StoreFault as exc:
            self.fault(exc)
            raise
        except Exception as exc:
            found = self.fault(exc)
            if found is None:
                raise
            raise found from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (deferred transaction); commit yourself if you write."""
        with self._faults(), self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE), committed on success."""
        with self._writing(), self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def _writing(self) -> Iterator[None]:
        if self.damaged is not None:
            raise self.damaged
        me = threading.get_ident()
        if self._writer_thread == me:
            # a write inside a write would open a second connection and wait for ever on
            # the first one's lock
            raise RuntimeError("a write transaction was opened inside another one")
        # waits as long as SQLite's busy timeout (then SQLite's own may follow, for a
        # writer in another process), and fails with the same error
        if not self._writer.acquire(timeout=BUSY_TIMEOUT_S):
            raise DatabaseBusy(self.path)
        self._writer_thread = me
        try:
            with self._faults():
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
        with self._faults():
            pooled = self.engine.raw_connection()
            try:
                yield pooled.driver_connection
            finally:
                pooled.close()

    @contextmanager
    def exclusive(self) -> Iterator[Any]:
        """This process's only connection, the file out of WAL mode (so it is one
        self-contained file): for re-keying and copying. Raises DatabaseBusy when
        another process (the GUI, `piper run`) has the file open."""
        if self.damaged is not None:
            raise self.damaged
        self.engine.dispose()
        with self._faults():
            conn = raw_connect(
                self.path, self._password, key_literal=self._key, busy_timeout_s=EXCLUSIVE_TIMEOUT_S
            )
            try:
                # leaving WAL needs every other connection gone; SQLite says "locked"
                # (or leaves the mode as it was) while another process holds the file
                mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
                if str(mode).lower() != "delete":
                    raise DatabaseBusy(self.path)
                yield conn
                conn.execute("PRAGMA journal_mode = WAL")
            finally:
                conn.close()
                self.engine.dispose()

    def rekey(self, new_password: str, *, before: Callable[[Any], None] | None = None) -> None:
        """Re-encrypt the whole file under a new password, atomically (SQLCipher re-keys
        in one rollback-journal transaction). `before` runs on the exclusive connection
        first (the vault's safety copy)."""
        with self.exclusive() as conn:
            if before is not None:
                before(conn)
            conn.execute(f"PRAGMA rekey = {_quote(new_password)}")
        self._password = new_password
        self._key = self._derive()  # SQLCipher keeps the salt across a re-key

    def copy_to(self, target: Path, conn: Any | None = None) -> Path:
        """A consistent, encrypted copy (same password) at `target`, written owner-only.

        VACUUM INTO reads one snapshot while others go on writing, and writes a file
        under the same key and salt; a partial copy (a full disk) is removed."""
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        with self._faults():
            try:
                if conn is not None:
                    conn.execute("VACUUM INTO ?", (str(partial),))
                else:
                    with self.raw_read() as reader:
                        reader.execute("VACUUM INTO ?", (str(partial),))
                os.chmod(partial, 0o600)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
        return target

    def close(self) -> None:
        # let SQLite refresh the statistics its query planner uses (cheap, bounded)
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA analysis_limit = 400")
                conn.exec_driver_sql("PRAGMA optimize")
        except Exception:  # closing must not fail over planner statistics
            pass
        self.engine.dispose()


def _install_transaction_hooks(engine: Engine, db: Database) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over
    # (SQLAlchemy's documented recipe) and choose DEFERRED or IMMEDIATE per session.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE" and db.damaged is not None:
            raise db.damaged
        conn.exec_driver_sql(f"BEGIN {mode}")

    # SQLAlchemy's own paths (the ORM, Alembic): the file's faults replace its errors,
    # which would carry the SQL
    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        found = db.fault(context.original_exception)
        if found is not None:
            raise found from None


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

    @property
    def dialect_name(self) -> str:
        return str(self._dialect.name)

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
