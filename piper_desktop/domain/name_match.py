"""Matching things to accounts by name: Upload-Post profiles, cookies files
(`<username>.json`), a TikTok creator against the account it was connected to.

One rule for "the same name": case does not count, nor a leading `@` or surrounding
spaces (`name_key`). Everything that pairs a name with an account asks this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .accounts import normalise_username

T = TypeVar("T")


def name_key(name: str) -> str:
    """What two names must share to be the same name."""
    return normalise_username(name).casefold()


def same_name(first: str, second: str) -> bool:
    return name_key(first) == name_key(second)


@dataclass(frozen=True)
class Named:
    """An account as the matcher sees it."""

    account_id: int
    username: str


@dataclass(frozen=True)
class Unmatched(Generic[T]):
    name: str
    item: T
    reason: str


@dataclass
class NameMatch(Generic[T]):
    # (account, the item that matched it), in the accounts' order
    pairs: list[tuple[Named, T]] = field(default_factory=list)
    # accounts no item named
    accounts: list[Named] = field(default_factory=list)
    # items that named no account, or an account another item already took
    items: list[Unmatched[T]] = field(default_factory=list)


def match_by_name(
    accounts: Sequence[Named],
    items: Iterable[tuple[str, T]],
    *,
    aliases: Iterable[str] = (),
) -> NameMatch[T]:
    """Pair each account with the item of its name (`name_key`). An item whose name
    ends with one of `aliases` (e.g. "-cookies", as Piper's cookie export names its
    files) also matches without it. The first item for an account wins; a name shared
    by several accounts matches none of them (it cannot say which)."""
    by_key: dict[str, list[Named]] = {}
    for account in accounts:
        by_key.setdefault(name_key(account.username), []).append(account)
    suffixes = [name_key(a) for a in aliases]
    taken: dict[int, T] = {}
    result: NameMatch[T] = NameMatch()
    for name, item in items:
        key = name_key(name)
        if key not in by_key:
            key = next(
                (
                    key[: -len(s)]
                    for s in suffixes
                    if s and key.endswith(s) and key[: -len(s)] in by_key
                ),
                key,
            )
        owners = by_key.get(key)
        if not owners:
            result.items.append(Unmatched(name, item, "no account of that name"))
        elif len(owners) > 1:
            names = ", ".join(f"#{a.account_id}" for a in owners)
            result.items.append(Unmatched(name, item, f"several accounts have that name ({names})"))
        elif owners[0].account_id in taken:
            result.items.append(Unmatched(name, item, f"@{owners[0].username} already has a match"))
        else:
            taken[owners[0].account_id] = item
    for account in accounts:
        if account.account_id in taken:
            result.pairs.append((account, taken[account.account_id]))
        else:
            result.accounts.append(account)
    return result
