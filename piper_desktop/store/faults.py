"""What went wrong with the database file, in the operator's words.

SQLite reports a wrong key, a damaged page, a full disk and another process's lock as
error codes; each becomes one exception here with a one-line message that names the
file and says what to do, never the SQL or its parameters. `classify` is the one place
that reads those codes: the store raises its faults from it, and the CLI's and the GUI's
top-level handlers use it for anything that slipped through.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import sqlcipher3

# SQLite's primary result codes (the low byte of an extended code)
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26
# below this much free space an I/O error is taken for a full disk (SQLite reports a
# disk that fills while it extends the shared-memory file as SQLITE_IOERR)
NEARLY_FULL_BYTES = 256 * 1024
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class StoreFault(Exception):
    """A problem with the database file itself (not with what was asked of it)."""


class WrongPassword(StoreFault):
    def __init__(self) -> None:
        super().__init__("wrong master password")


class DatabaseDamaged(StoreFault):
    def __init__(self, path: Path, detail: str = "") -> None:
        where = f" ({detail})" if detail else ""
        super().__init__(
            f"database file damaged: {path}{where}; nothing more is written to it. "
            "Run 'piper vault check', then 'piper vault restore BACKUP'"
        )


class NotAPiperDatabase(StoreFault):
    def __init__(self, path: Path, detail: str = "") -> None:
        where = f" ({detail})" if detail else ""
        super().__init__(f"not a Piper database: {path}{where}")


class DiskFull(StoreFault):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"disk full: cannot write {path}; nothing was changed. Free some space and try again"
        )


class DatabaseBusy(StoreFault):
    def __init__(self, path: Path) -> None:
        super().__init__(
            f"the database {path} is in use: close Piper and stop 'piper run' first, then retry"
        )


def _disk_nearly_full(path: Path) -> bool:
    folder = path if path.is_dir() else path.parent
    try:
        return shutil.disk_usage(folder).free < NEARLY_FULL_BYTES
    except OSError:
        return False


def sqlite_code(exc: BaseException) -> int | None:
    """The primary SQLite result code of a driver error (or one it wraps), if any."""
    for link in chain(exc):
        if isinstance(link, sqlcipher3.Error):
            code = getattr(link, "sqlite_errorcode", None)
            if isinstance(code, int):
                return code & 0xFF
    return None


def chain(exc: BaseException) -> list[BaseException]:
    """The exception, what SQLAlchemy wraps (`.orig`), and its causes, in that order."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        link = todo.pop(0)
        if link is None or any(link is s for s in seen):
            continue
        seen.append(link)
        orig = getattr(link, "orig", None)
        todo += [
            orig if isinstance(orig, BaseException) else None,
            link.__cause__,
            link.__context__,
        ]
    return seen


def classify(exc: BaseException, path: Path) -> StoreFault | None:
    """The fault `exc` means for the database at `path`, or None if it is none of ours.

    SQLITE_NOTADB after the vault was opened means a page failed its check (the key was
    right for the first page), so it is damage, not a wrong password; the opening code
    tells those apart itself (vault.open_checked)."""
    for link in chain(exc):
        if isinstance(link, StoreFault):
            return link
    code = sqlite_code(exc)
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return DatabaseDamaged(path)
    if code == SQLITE_FULL:
        return DiskFull(path)
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return DatabaseBusy(path)
    if code in (SQLITE_IOERR, SQLITE_CANTOPEN) and _disk_nearly_full(path):
        return DiskFull(path)
    for link in chain(exc):
        if isinstance(link, OSError) and link.errno in DISK_FULL_ERRNOS:
            return DiskFull(path)
    return None


__all__ = [
    "DatabaseBusy",
    "DatabaseDamaged",
    "DiskFull",
    "NotAPiperDatabase",
    "StoreFault",
    "WrongPassword",
    "chain",
    "classify",
    "sqlite_code",
]
