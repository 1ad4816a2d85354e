"""The unlock flow's team step against a real PostgreSQL: a joined data dir opens the
team's database (typed passphrase, or the one remembered in a test keychain), a wrong
passphrase says so and stays, an unreachable server says so with Retry — never the
local vault instead."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace

import keyring
import pytest

from piper_desktop.domain import team, team_keychain
from piper_desktop.store.db import Database
from piper_desktop.store.pg import PgDatabase
from piper_desktop.ui.team_unlock import TeamUnlockDialog
from tests.conftest import TEAM_PASSPHRASE
from tests.keyrings import MemoryKeyring
from tests.ui.artifacts import save_screen


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def member(db: Database, pg_db: PgDatabase) -> team.Membership:
    team.join_team(pg_db.url, TEAM_PASSPHRASE, db, name="desk-one", operator="ann").close()
    joined = team.membership(db)
    assert joined is not None
    return joined


def _dialog(qtbot, db: Database, member: team.Membership) -> tuple[TeamUnlockDialog, list]:
    dialog = TeamUnlockDialog(db, member)
    qtbot.addWidget(dialog)
    opened: list[PgDatabase] = []
    dialog.opened.connect(opened.append)
    dialog.show()
    return dialog, opened


def test_a_typed_passphrase_opens_the_team_and_can_be_remembered(
    qtbot, db: Database, member: team.Membership, memory_keyring: MemoryKeyring
) -> None:
    dialog, opened = _dialog(qtbot, db, member)
    dialog.start()  # nothing remembered: the step waits for the passphrase
    assert not opened
    dialog.passphrase.setText(TEAM_PASSPHRASE)
    dialog.remember.setChecked(True)
    save_screen(dialog, "team-unlock")
    dialog.open_button.click()
    qtbot.waitUntil(lambda: bool(opened))
    shared = opened[0]
    try:
        assert shared.desktop_id == member.desktop_id  # identified: the engine heartbeats
        assert team_keychain.remembered_passphrase(member) == TEAM_PASSPHRASE
    finally:
        shared.close()


def test_a_remembered_passphrase_opens_without_asking(
    qtbot, db: Database, member: team.Membership, memory_keyring: MemoryKeyring
) -> None:
    assert team_keychain.remember_passphrase(member, TEAM_PASSPHRASE)
    dialog, opened = _dialog(qtbot, db, member)
    dialog.start()
    qtbot.waitUntil(lambda: bool(opened))
    opened[0].close()


def test_a_wrong_passphrase_says_so_and_stays(
    qtbot, db: Database, member: team.Membership, memory_keyring: MemoryKeyring
) -> None:
    dialog, opened = _dialog(qtbot, db, member)
    dialog.passphrase.setText("not the passphrase")
    dialog.open_button.click()
    qtbot.waitUntil(lambda: "Wrong team passphrase" in dialog.error.text())
    assert not opened and dialog.isVisible()
    assert "not the passphrase" not in dialog.error.text()
    dialog.passphrase.setText(TEAM_PASSPHRASE)
    dialog.open_button.click()
    qtbot.waitUntil(lambda: bool(opened))
    opened[0].close()


def test_an_unreachable_server_offers_retry_and_opens_nothing(
    qtbot, db: Database, member: team.Membership, memory_keyring: MemoryKeyring
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    away = replace(member, url=f"postgresql+psycopg://piper:secretpw@127.0.0.1:{port}/team")
    dialog, opened = _dialog(qtbot, db, away)
    dialog.passphrase.setText(TEAM_PASSPHRASE)
    dialog.open_button.click()
    qtbot.waitUntil(lambda: "cannot reach" in dialog.error.text())
    assert dialog.retry_button.isVisible() and not opened
    assert "secretpw" not in dialog.error.text()
    dialog.retry_button.click()
    qtbot.waitUntil(lambda: dialog.retry_button.isVisible())
    assert not opened
