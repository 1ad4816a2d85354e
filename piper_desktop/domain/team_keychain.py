"""The team passphrase remembered in this desktop's OS keychain (optional, per team).

Kept like the master password (store/vault.py): the same keyring service, under a user
key of its own per team membership, this desktop's id and the server without its
password, so two teams or two data dirs never share an entry. The passphrase is never
written to a file or a log; every keychain failure (locked, absent, denied) falls back
quietly to asking, as the master password does.
"""

from __future__ import annotations

from ..logs import register_secret
from ..store.vault import KEYRING_SERVICE
from .team import Membership, shown_url


def _user(member: Membership) -> str:
    return f"team:{member.desktop_id}:{shown_url(member.url)}"


def remembered_passphrase(member: Membership) -> str | None:
    """The passphrase this desktop keeps for its team, or None (none kept, no keychain)."""
    try:
        import keyring

        value = keyring.get_password(KEYRING_SERVICE, _user(member))
    except Exception:  # any backend failure: locked, absent, denied
        return None
    if value:
        register_secret(value)
        return value
    return None


def remember_passphrase(member: Membership, passphrase: str) -> bool:
    """Keep the passphrase in the keychain; False when no keychain is usable."""
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, _user(member), passphrase)
        # some backends (keyring's null one) accept a write and keep nothing
        return bool(keyring.get_password(KEYRING_SERVICE, _user(member)) == passphrase)
    except Exception:
        return False


def forget_passphrase(member: Membership) -> None:
    """Remove the kept passphrase (nothing kept, or no keychain: nothing to do)."""
    try:
        import keyring

        keyring.delete_password(KEYRING_SERVICE, _user(member))
    except Exception:
        return
