"""Copies of the encrypted database: backups, restores, the integrity check, and
re-keying every copy Piper made when the master password changes.

Piper's own copies live beside `piper.db` as `piper.<stamp>.<reason>.bak` (before an
upgrade, before a restore, and for a moment before a re-key); backups the operator asks
for (`piper vault backup PATH`) are recorded in `vault-backups.txt`, so that `piper
passwd` finds them too. Every copy is encrypted under the password of the file it was
made from.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlcipher3

from ..logs import get_logger
from ..owner_only import private_dir, write_private_text
from .db import (
    DB_FILENAME,
    EXCLUSIVE_TIMEOUT_S,
    Database,
    _quote,
    key_for,
    open_read_only,
    page_problems,
    raw_connect,
)
from .faults import DatabaseBusy, DatabaseDamaged, NotAPiperDatabase, StoreFault, WrongPassword

log = get_logger("store")
BACKUP_REGISTRY = "vault-backups.txt"
SAFETY_REASON = "before-rekey"
# SQLite's WAL-mode processes each hold a read lock on this byte of the -shm file (the
# "dead man switch" of its unix VFS) while they have the database open
SHM_DMS_OFFSET = 128


class CopyError(Exception):
    pass


@dataclass(frozen=True)
class Copy:
    path: Path
    # Piper's own, beside the database: removed when it cannot be re-keyed
    ours: bool
    # left by a re-key that did not finish: only ever removed
    safety: bool = False


def copy_name(db_path: Path, reason: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return db_path.with_name(f"{db_path.stem}.{stamp}.{reason}.bak")


def known_copies(data_dir: Path) -> list[Copy]:
    found = [
        Copy(path, ours=True, safety=path.name.endswith(f".{SAFETY_REASON}.bak"))
        for path in sorted(data_dir.glob("piper.*.bak"))
        if path.is_file()
    ]
    beside = {copy.path.absolute() for copy in found}
    found += [
        Copy(path, ours=False)
        for path in recorded_backups(data_dir)
        if path.is_file() and path.absolute() not in beside
    ]
    return found


def recorded_backups(data_dir: Path) -> list[Path]:
    registry = data_dir / BACKUP_REGISTRY
    if not registry.is_file():
        return []
    lines = registry.read_text(encoding="utf-8", errors="replace").splitlines()
    return [Path(line) for line in dict.fromkeys(lines) if line.strip()]


def _record_backup(data_dir: Path, path: Path) -> None:
    known = [p for p in recorded_backups(data_dir) if p.exists() and p != path]
    lines = [str(p) for p in [*known, path]]
    write_private_text(data_dir / BACKUP_REGISTRY, "\n".join(lines) + "\n")


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def rekey_copies(found: list[Copy], old_password: str, new_password: str) -> list[str]:
    """Re-key each copy the old password opens; one line each saying what happened."""
    notes: list[str] = []
    for copy in found:
        if copy.safety:
            _remove(copy.path)
            notes.append(f"removed {copy.path} (left by a re-key that did not finish)")
            continue
        try:
            conn = raw_connect(copy.path, old_password, busy_timeout_s=EXCLUSIVE_TIMEOUT_S)
            try:
                conn.execute("PRAGMA journal_mode = DELETE")
                conn.execute(f"PRAGMA rekey = {_quote(new_password)}")
            finally:
                conn.close()
        except WrongPassword:
            notes.append(f"left {copy.path}: it does not open with the current password")
            continue
        except (StoreFault, sqlcipher3.Error, OSError) as exc:
            reason = str(exc).split(";")[0]
            if copy.ours:
                _remove(copy.path)
                notes.append(f"removed {copy.path} (could not re-key it: {reason})")
            else:
                notes.append(
                    f"could not re-key {copy.path} ({reason}): it still opens with the old "
                    "password; delete it or back up again"
                )
            continue
        notes.append(f"re-keyed {copy.path}")
    return notes


def _problems(conn: Any) -> list[str]:
    problems: list[str] = []
    for pragma in ("cipher_integrity_check", "integrity_check(20)"):
        try:
            rows = [str(row[0]) for row in conn.execute(f"PRAGMA {pragma}")]
        except sqlcipher3.DatabaseError as exc:
            rows = [str(exc)]
        problems += [row for row in rows if row != "ok"]
    return problems


def check(db: Database) -> list[str]:
    """Problems `PRAGMA cipher_integrity_check` (every page's HMAC) and `integrity_check`
    (SQLite's structure) find; empty when the file is sound. Damage found stops writes."""
    with db.raw_read() as conn:
        problems = _problems(conn)
    if problems and db.damaged is None:
        db.damaged = DatabaseDamaged(db.path, problems[0])
    return problems


def check_file(path: Path, password: str) -> list[str]:
    """The problems of the database file at `path` (see `check`), read-only: for
    `piper vault check`, which must report on a file too damaged to open for work."""
    try:
        conn = open_read_only(path, password)
    except DatabaseDamaged as fault:
        # too damaged to read its schema: the pages' own checks still say where
        return [*page_problems(path, key_for(path, password)), str(fault).split(";")[0]]
    try:
        return _problems(conn)
    finally:
        conn.close()


def _checked_copy(path: Path, password: str) -> Any:
    """A read-only connection to `path`, once it opens with `password`, every page checks
    out and it holds Piper's schema (else the fault)."""
    conn = open_read_only(path, password)
    try:
        problems = _problems(conn)
        if problems:
            raise DatabaseDamaged(path, problems[0])
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "alembic_version" not in tables:
            raise NotAPiperDatabase(path, "no Piper schema in it")
    except BaseException:
        conn.close()
        raise
    return conn


def backup(db: Database, target: Path) -> Path:
    """An encrypted copy at `target` (the current password opens it), checked and
    recorded so that `piper passwd` re-keys it."""
    target = target.expanduser().absolute()
    if target.exists():
        raise CopyError(f"{target} exists: choose a new file name")
    if not target.parent.is_dir():
        raise CopyError(f"no such folder: {target.parent}")
    db.copy_to(target)
    _record_backup(db.data_dir, target)
    return target


def _in_use(path: Path) -> bool:
    """Whether another process has the database open (in WAL mode, as Piper runs it)."""
    shm = Path(str(path) + "-shm")
    if not shm.exists():
        return False
    try:
        with shm.open("r+b") as handle:
            try:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, SHM_DMS_OFFSET)
            except OSError:
                return True
            fcntl.lockf(handle, fcntl.LOCK_UN, 1, SHM_DMS_OFFSET)
    except OSError:
        return False
    return False


def _move(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        part = Path(str(source) + suffix)
        if part.exists():
            os.replace(part, Path(str(target) + suffix))


def restore(data_dir: Path, source: Path, password: str) -> Path | None:
    """Put the backup at `source` in place of the data dir's database.

    The backup is checked first (opens with `password`, every page sound, Piper's
    schema), copied beside the database and checked again; the current file is set
    aside as `piper.<stamp>.before-restore.bak` and put back if the restored one does
    not open. Returns where the current file was set aside (None if there was none)."""
    source = source.expanduser().absolute()
    if not source.is_file():
        raise CopyError(f"no such backup file: {source}")
    private_dir(data_dir)
    target = data_dir / DB_FILENAME
    if source == target.absolute():
        raise CopyError("that is the database itself: name a backup")
    if target.exists() and _in_use(target):
        raise DatabaseBusy(target)
    incoming = target.with_name(target.name + ".restoring")
    _remove(incoming)
    reader = _checked_copy(source, password)
    try:
        reader.execute("VACUUM INTO ?", (str(incoming),))
        os.chmod(incoming, 0o600)
    except BaseException:
        _remove(incoming)
        raise
    finally:
        reader.close()
    try:
        _checked_copy(incoming, password).close()
    except BaseException:
        _remove(incoming)
        raise
    kept: Path | None = None
    if target.exists():
        kept = copy_name(target, "before-restore")
        _move(target, kept)
    os.replace(incoming, target)
    try:
        Database(target, password).close()
    except BaseException:
        _remove(target)
        if kept is not None:
            _move(kept, target)
        raise
    log.info("restored the database from %s", source)
    return kept
