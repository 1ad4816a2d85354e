"""The account a job posts as, in the form routes take it (`AccountRef`)."""

from __future__ import annotations

from typing import Protocol

from ..domain.proxies import ProxyLike, proxy_url
from .base import AccountRef


class AccountLike(Protocol):
    """An account row or the engine's record of one."""

    @property
    def id(self) -> int: ...

    @property
    def platform(self) -> str: ...

    @property
    def username(self) -> str: ...

    @property
    def timezone(self) -> str | None: ...

    @property
    def proxy(self) -> ProxyLike | None: ...


def account_ref(account: AccountLike) -> AccountRef:
    return AccountRef(
        id=account.id,
        platform=account.platform,
        username=account.username,
        timezone=account.timezone or "UTC",
        proxy_url=proxy_url(account.proxy) if account.proxy is not None else None,
    )
