from __future__ import annotations

from pathlib import Path

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.store.db import WrongPassword
from piper_desktop.store.vault import (
    VaultError,
    VaultExists,
    VaultNotFound,
    change_password,
    create_vault,
    keychain_password,
    remember_in_keychain,
    unlock_vault,
)
from tests.conftest import MASTER_PASSWORD


def test_create_then_unlock_keeps_data(data_dir: Path) -> None:
    db = create_vault(data_dir, MASTER_PASSWORD)
    Services(db).accounts.add({"username": "alice", "email": "alice@example.com"})
    db.close()
    db = unlock_vault(data_dir, MASTER_PASSWORD)
    assert [a.username for a in Services(db).accounts.list()] == ["alice"]
    db.close()


def test_file_is_encrypted(data_dir: Path) -> None:
    db = create_vault(data_dir, MASTER_PASSWORD)
    db.close()
    header = (data_dir / "piper.db").read_bytes()[:16]
    assert header != b"SQLite format 3\x00"


def test_wrong_password_is_refused(data_dir: Path) -> None:
    create_vault(data_dir, MASTER_PASSWORD).close()
    with pytest.raises(WrongPassword, match="wrong master password"):
        unlock_vault(data_dir, "not the password")


def test_missing_and_existing_vault(data_dir: Path) -> None:
    with pytest.raises(VaultNotFound):
        unlock_vault(data_dir, MASTER_PASSWORD)
    create_vault(data_dir, MASTER_PASSWORD).close()
    with pytest.raises(VaultExists):
        create_vault(data_dir, MASTER_PASSWORD)


def test_weak_password_is_refused(data_dir: Path) -> None:
    with pytest.raises(VaultError, match="at least 8"):
        create_vault(data_dir, "short")
    assert not (data_dir / "piper.db").exists()


def test_rekey_keeps_everything_and_old_password_stops_working(data_dir: Path) -> None:
    db = create_vault(data_dir, MASTER_PASSWORD)
    services = Services(db)
    for i in range(50):
        services.accounts.add({"username": f"user{i}", "password": f"pw-{i}-secret"})
    services.settings.set("upload_post.api_key", "up-key-123456")
    change_password(db, "a brand new password")
    # the same Database object keeps working under the new key
    assert services.accounts.count() == 50
    db.close()
    with pytest.raises(WrongPassword):
        unlock_vault(data_dir, MASTER_PASSWORD)
    db = unlock_vault(data_dir, "a brand new password")
    services = Services(db)
    assert services.accounts.count() == 50
    assert services.settings.get("upload_post.api_key") == "up-key-123456"
    assert services.accounts.find("user7").password == "pw-7-secret"
    # no copy readable with the old password is left behind
    assert not list(data_dir.glob("*.bak"))
    db.close()


def test_keychain_absent_falls_back_quietly(data_dir: Path) -> None:
    # tests run with keyring's null backend: nothing is stored, nothing raises
    result = remember_in_keychain(data_dir, MASTER_PASSWORD)
    assert keychain_password(data_dir) is None
    assert isinstance(result.message, str) and result.message
