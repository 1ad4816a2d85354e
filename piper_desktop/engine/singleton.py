"""One process at a time for work that must not run twice: the Telegram bot's polling
(two pollers of one bot end each other's long polls and can both see an update), the
watched folders of one machine.

On a team server it is a PostgreSQL session advisory lock held on a connection of its
own for as long as the work runs: every desktop's engine may try, one holds it, and
a desktop that dies or loses the server drops it with its connection. On a local
vault it is an exclusive lock on a file in the data dir (the GUI's tray engine and a
`piper run` of the same data dir), which the OS drops with the process.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import text

from ..logs import get_logger
from ..owner_only import private_dir

log = get_logger("engine")


def _key(name: str) -> int:
    # a signed 64-bit key of its own (store/statements.claim_turn uses another)
    return int.from_bytes(hashlib.sha256(f"piper:{name}".encode()).digest()[:8], "big", signed=True)


class Singleton:
    def __init__(self, db: Any, data_dir: Path | None, name: str) -> None:
        self.db = db
        self.name = name
        self.data_dir = data_dir
        self._conn: Any = None
        self._file: Any = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def try_acquire(self) -> bool:
        """Take it if nobody holds it; True while this process holds it."""
        if self.held:
            return True
        try:
            if hasattr(self.db, "listen"):  # a team server (store/pg.py)
                return self._take_advisory()
            return self._take_file()
        except Exception as exc:  # the server away: try again later
            log.warning("%s: cannot tell whether another process runs it: %s", self.name, exc)
            self.release()
            return False

    def _take_advisory(self) -> bool:
        conn = self.db.engine.connect()
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(self.name)}).scalar())
        conn.commit()
        if got:
            self._conn = conn
        else:
            conn.close()
        return got

    def _take_file(self) -> bool:
        if self.data_dir is None:
            return True  # a temporary engine (tests): nobody else shares its store
        folder = private_dir(self.data_dir / "locks")
        handle = open(folder / f"{self.name.replace(':', '_')}.lock", "a+")  # noqa: SIM115
        os.chmod(handle.name, 0o600)
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(self.name)})
                conn.commit()
            except Exception:  # closing the connection drops it anyway
                pass
            conn.close()
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()  # closing the file drops the lock
