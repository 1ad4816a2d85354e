"""Is an account connected to a route? Asked before jobs are made (`piper jobs add`,
`piper campaigns create/start`, the campaign wizard), so that a job for an account that
was never connected is refused up front instead of going to needs_attention in the run.

Each route says what "connected" means in its `RouteSpec.connected` (a stored token
pair, an Upload-Post profile, a stored browser session) and how a person connects an
account (`connect_hint`); this module only asks them. The setting
`jobs.require_connected` (default on) turns the refusal into a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..domain.errors import DomainError
from ..domain.services import Services
from .registry import RouteRegistry, default_routes

# how many usernames a refusal names before "and N more"
NAMED = 5


class NotConnectedError(DomainError):
    def __init__(self, message: str, missing: list[NotConnected]) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class NotConnected:
    account_id: int
    username: str
    reason: str


def not_connected(
    services: Services,
    route: str,
    account_ids: Iterable[int],
    registry: RouteRegistry | None = None,
) -> list[NotConnected]:
    """The accounts of `account_ids` not connected to `route` (a route that cannot tell
    counts every account as connected)."""
    spec = (registry or default_routes()).find(route)
    if spec is None or spec.connected is None:
        return []
    missing = []
    for account_id in dict.fromkeys(account_ids):
        reason = spec.connected(services, account_id)
        if reason is not None:
            username = services.accounts.get(account_id).username
            missing.append(NotConnected(account_id, username, reason))
    return missing


def describe(route: str, missing: list[NotConnected], registry: RouteRegistry | None = None) -> str:
    """One line: which accounts, and how to connect them."""
    spec = (registry or default_routes()).find(route)
    label = spec.label if spec is not None else route
    names = ", ".join(f"@{m.username}" for m in missing[:NAMED])
    if len(missing) > NAMED:
        names += f" and {len(missing) - NAMED} more"
    count = "1 account is" if len(missing) == 1 else f"{len(missing)} accounts are"
    line = f"{count} not connected to {label} ({missing[0].reason}): {names}"
    if spec is not None and spec.connect_hint:
        user = missing[0].username if len(missing) == 1 else "USER"
        line += "; connect with " + spec.connect_hint.format(user=user)
    return line


def require_connected(
    services: Services,
    route: str,
    account_ids: Iterable[int],
    warn: Callable[[str], None],
    registry: RouteRegistry | None = None,
) -> list[NotConnected]:
    """Raise NotConnectedError naming the accounts not connected to `route`; when the
    setting `jobs.require_connected` is off, `warn` with the same line instead."""
    missing = not_connected(services, route, account_ids, registry)
    if not missing:
        return []
    line = describe(route, missing, registry)
    if services.settings.get("jobs.require_connected"):
        raise NotConnectedError(line, missing)
    warn("warning: " + line)
    return missing
