"""The team passphrase in the keychain: one entry per team membership, none where no
keychain is usable (the tests' null backend), and forgetting twice is harmless."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import null

from piper_desktop.domain import team_keychain
from piper_desktop.domain.team import Membership
from tests.keyrings import MemoryKeyring

A = Membership("postgresql+psycopg://piper:db-pw@127.0.0.1:5432/team_a", "d1", "desk", "ana")
B = Membership("postgresql+psycopg://piper:db-pw@127.0.0.1:5432/team_b", "d1", "desk", "ana")


@pytest.fixture
def memory() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


def test_remembered_per_team_and_forgotten(memory: MemoryKeyring) -> None:
    assert team_keychain.remembered_passphrase(A) is None
    assert team_keychain.remember_passphrase(A, "phrase of team a")
    assert team_keychain.remembered_passphrase(A) == "phrase of team a"
    assert team_keychain.remembered_passphrase(B) is None  # another team, another entry
    # the entry's name never carries the database password
    assert all("db-pw" not in user for _, user in memory.entries)
    team_keychain.forget_passphrase(A)
    assert team_keychain.remembered_passphrase(A) is None
    team_keychain.forget_passphrase(A)  # nothing kept: nothing to do


class _Locked(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("locked")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("locked")


@pytest.mark.parametrize("backend", [null.Keyring, _Locked])
def test_no_usable_keychain_says_false(backend: type[KeyringBackend]) -> None:
    before = keyring.get_keyring()
    keyring.set_keyring(backend())
    try:
        assert team_keychain.remember_passphrase(A, "phrase of team a") is False
        assert team_keychain.remembered_passphrase(A) is None
        team_keychain.forget_passphrase(A)
    finally:
        keyring.set_keyring(before)
