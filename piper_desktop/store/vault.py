"""The vault: create, unlock and re-key the encrypted database.

The operator's master password is the only key. It may optionally be remembered in the
OS keychain (off by default); keychain backends differ per desktop and may be locked or
absent, so every keychain call falls back quietly and says what happened.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..logs import get_logger, register_secret
from ..owner_only import private_dir, tighten_data_dir
from .faults import WrongPassword
from .filenames import DB_FILENAME

if TYPE_CHECKING:
    from .db import Database

# copies, migrate and db (SQLAlchemy, Alembic) are imported where used: the unlock dialog
# imports this module and is on screen before they have loaded

log = get_logger("store")
KEYRING_SERVICE = "PiperDesktop"
MIN_PASSWORD_LENGTH = 8


class VaultError(Exception):
    pass


class VaultNotFound(VaultError):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(f"no vault here yet ({data_dir}): run `piper init` first")


class VaultExists(VaultError):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(f"a Piper database already exists in {data_dir}")


__all__ = [
    "VaultError",
    "VaultExists",
    "VaultNotFound",
    "WrongPassword",
    "change_password",
    "create_vault",
    "db_path",
    "unlock_vault",
    "vault_exists",
]


def db_path(data_dir: Path) -> Path:
    return data_dir / DB_FILENAME


def vault_exists(data_dir: Path) -> bool:
    return db_path(data_dir).exists()


def check_password_strength(password: str) -> str | None:
    """A reason the password is too weak (or cannot be a key), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"master password must be at least {MIN_PASSWORD_LENGTH} characters"
    # NUL ends the key where SQLite reads it and other control characters cannot be
    # typed again at a prompt: either would lock the operator out
    if any(unicodedata.category(c) == "Cc" for c in password):
        return "master password must not contain control characters (such as NUL)"
    return None


def create_vault(data_dir: Path, password: str) -> Database:
    if vault_exists(data_dir):
        raise VaultExists(data_dir)
    weak = check_password_strength(password)
    if weak:
        raise VaultError(weak)
    from . import migrate
    from .db import Database

    private_dir(data_dir)
    register_secret(password)
    db = Database(db_path(data_dir), password, create=True)
    migrate.upgrade(db)
    tighten_data_dir(data_dir)
    log.info("created database in %s", data_dir)
    return db


def unlock_vault(data_dir: Path, password: str) -> Database:
    """Open an existing database; raises VaultNotFound or a fault of store/faults.py
    (wrong password, damaged, not a Piper database, disk full)."""
    if not vault_exists(data_dir):
        raise VaultNotFound(data_dir)
    from . import migrate
    from .db import Database

    register_secret(password)
    tighten_data_dir(data_dir)
    db = Database(db_path(data_dir), password)
    try:
        migrate.upgrade(db)
    except BaseException:
        db.close()
        raise
    return db


def change_password(db: Database, new_password: str) -> list[str]:
    """Re-key the database and every copy of it Piper knows of; what happened to the
    copies, one line each. Nothing the old password opens is left behind that Piper
    made: a copy that cannot be re-keyed is removed (the operator's own backups
    elsewhere are only named)."""
    from . import copies

    weak = check_password_strength(new_password)
    if weak:
        raise VaultError(weak)
    old_password = db.password
    if new_password == old_password:
        raise VaultError("the new master password is the same as the current one")
    register_secret(new_password)
    stale = copies.known_copies(db.data_dir)
    # a copy readable with the old password only, kept just while re-keying: SQLCipher's
    # re-key is one transaction, the copy is for a crash in the middle of it
    safety = copies.copy_name(db.path, "before-rekey")

    def keep_copy(conn: object) -> None:
        db.copy_to(safety, conn)

    try:
        db.rekey(new_password, before=keep_copy)
    finally:
        safety.unlink(missing_ok=True)
    notes = copies.rekey_copies(stale, old_password, new_password)
    if keychain_password(db.data_dir) is not None:
        remember_in_keychain(db.data_dir, new_password)
    return notes


# --- OS keychain (optional) -----------------------------------------------------------


@dataclass
class KeychainResult:
    ok: bool
    message: str


def _keychain_user(data_dir: Path) -> str:
    return str(data_dir.resolve())


def remember_in_keychain(data_dir: Path, password: str) -> KeychainResult:
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, _keychain_user(data_dir), password)
    except Exception as exc:  # any backend failure: locked, absent, denied
        return KeychainResult(False, f"keychain unavailable ({type(exc).__name__})")
    return KeychainResult(True, "master password remembered in the OS keychain")


def forget_keychain(data_dir: Path) -> KeychainResult:
    try:
        import keyring

        keyring.delete_password(KEYRING_SERVICE, _keychain_user(data_dir))
    except Exception as exc:
        return KeychainResult(False, f"nothing removed from keychain ({type(exc).__name__})")
    return KeychainResult(True, "master password removed from the OS keychain")


def keychain_password(data_dir: Path) -> str | None:
    try:
        import keyring

        value = keyring.get_password(KEYRING_SERVICE, _keychain_user(data_dir))
    except Exception:
        return None
    if value:
        register_secret(value)
    return value
