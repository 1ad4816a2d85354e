"""The vault: create, unlock and re-key the encrypted database.

The operator's master password is the only key. It may optionally be remembered in the
OS keychain (off by default); keychain backends differ per desktop and may be locked or
absent, so every keychain call falls back quietly and says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..logs import get_logger, register_secret
from . import migrate
from .db import DB_FILENAME, Database, WrongPassword, raw_connect

log = get_logger("store")
KEYRING_SERVICE = "PiperDesktop"
MIN_PASSWORD_LENGTH = 8


class VaultError(Exception):
    pass


class VaultNotFound(VaultError):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(f"no Piper database in {data_dir} (run 'piper init' first)")


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
    """A reason the password is too weak, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"master password must be at least {MIN_PASSWORD_LENGTH} characters"
    return None


def create_vault(data_dir: Path, password: str) -> Database:
    if vault_exists(data_dir):
        raise VaultExists(data_dir)
    weak = check_password_strength(password)
    if weak:
        raise VaultError(weak)
    data_dir.mkdir(parents=True, exist_ok=True)
    register_secret(password)
    raw_connect(db_path(data_dir), password).close()
    db = Database(db_path(data_dir), password)
    migrate.upgrade(db)
    log.info("created database in %s", data_dir)
    return db


def unlock_vault(data_dir: Path, password: str) -> Database:
    """Open an existing database; raises WrongPassword or VaultNotFound."""
    if not vault_exists(data_dir):
        raise VaultNotFound(data_dir)
    register_secret(password)
    db = Database(db_path(data_dir), password)
    migrate.upgrade(db)
    return db


def change_password(db: Database, new_password: str) -> None:
    weak = check_password_strength(new_password)
    if weak:
        raise VaultError(weak)
    register_secret(new_password)
    # The copy is readable with the old password only: keep it just while re-keying.
    backup = migrate.backup_file(db, reason="before-rekey")
    db.rekey(new_password)
    backup.unlink()
    if keychain_password(db.data_dir) is not None:
        remember_in_keychain(db.data_dir, new_password)


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
