"""The database's faults on a real SQLCipher file: damage stops writes, a full disk is
named, and a failed statement's message carries no values."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from piper_desktop.domain.services import Services
from piper_desktop.store.db import Database
from piper_desktop.store.faults import DatabaseDamaged, DiskFull, StoreFault
from piper_desktop.store.vault import (
    VaultError,
    check_password_strength,
    create_vault,
    unlock_vault,
)
from tests.conftest import MASTER_PASSWORD

SECRET = "very-secret-account-pw-42"


def test_damage_found_stops_every_write(data_dir: Path) -> None:
    db = create_vault(data_dir, MASTER_PASSWORD)
    services = Services(db)
    for i in range(300):
        services.accounts.add({"username": f"user{i:04}", "password": f"{SECRET}-{i}"})
    # the file is damaged under a running Piper (a disk fault, another program)
    with db.raw_read() as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.engine.dispose()  # no page cached: the next read goes to the file
    path = data_dir / "piper.db"
    pages = path.stat().st_size // 4096
    with path.open("r+b") as handle:
        for page in range(pages // 3, 2 * pages // 3):
            handle.seek(page * 4096 + 64)
            handle.write(b"\x5a" * 512)
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    with pytest.raises(DatabaseDamaged, match="database file damaged"):
        services.accounts.list()
    # from now on nothing is written, even where the pages are sound
    with pytest.raises(DatabaseDamaged):
        services.settings.set("engine.check_seconds", 5)
    with pytest.raises(DatabaseDamaged), db.transaction():
        pass
    db.close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    # and a later start names it before anything else is done
    with pytest.raises(DatabaseDamaged):
        unlock_vault(data_dir, MASTER_PASSWORD)


def test_a_full_disk_is_named_and_nothing_stored_is_lost(db: Database) -> None:
    services = Services(db)
    services.accounts.add({"username": "kept", "password": SECRET})
    # SQLite's own ceiling on the file's size: the same SQLITE_FULL a full disk gives
    with db.raw_read() as conn:
        used = conn.execute("PRAGMA page_count").fetchone()[0]
    db.engine.dispose()

    @event.listens_for(db.engine, "connect")
    def _ceiling(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {used + 2}")

    with pytest.raises(DiskFull, match="disk full") as caught:
        for i in range(500):
            services.accounts.add(
                {"username": f"bulk{i}", "password": f"{SECRET}-{i}", "notes": "n" * 2000}
            )
    assert SECRET not in str(caught.value)
    assert services.accounts.find("kept").password == SECRET


def test_a_failed_statement_names_no_values(db: Database) -> None:
    from sqlalchemy import text

    with pytest.raises(Exception) as caught, db.engine.begin() as conn:
        conn.execute(text("INSERT INTO nowhere (secret) VALUES (:v)"), {"v": SECRET})
    assert not isinstance(caught.value, StoreFault)
    assert SECRET not in str(caught.value)


def test_control_characters_are_refused_in_the_master_password(data_dir: Path) -> None:
    assert check_password_strength("long enough\x00password")
    with pytest.raises(VaultError, match="control characters"):
        create_vault(data_dir, "long enough\x00password")
    assert not (data_dir / "piper.db").exists()
