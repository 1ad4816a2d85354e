"""Work that arrives from outside becomes media and jobs here.

The Telegram bot, the watched folders and the local automation API (issue 20) all hand
a finished file and a target (an account or a group, maybe a route) to `queue_file`,
which goes through the same media and job services as the CLI and the GUI: the media
library deduplicates by content, the job service checks the caption, the account
policy and duplicates, and `at="auto"` takes each account's next free slot as the
planner computes it. Nothing here knows where the file came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..owner_only import private_dir
from ..store.models import Account, Job, MediaItem
from .errors import DomainError, NotFound, ValidationError

if TYPE_CHECKING:
    from .services import Services


@dataclass(frozen=True)
class Target:
    """Where intake sends a file: one account or every account of a group."""

    account: str | None = None  # an id, `platform:username` or a username
    group: str | None = None
    route: str | None = None  # None: each account's first route of preference

    def __post_init__(self) -> None:
        if (self.account is None) == (self.group is None):
            raise ValidationError("target", "give an account or a group, not both")

    def describe(self) -> str:
        where = f"account {self.account}" if self.account else f"group {self.group}"
        return f"{where} via {self.route}" if self.route else where


@dataclass
class Queued:
    media: MediaItem
    jobs: list[Job] = field(default_factory=list)
    # (account name, why no job was made for it), e.g. a duplicate within the window
    refused: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        """One line for a reply, a reason file or a log."""
        parts = [
            f"job {job.id} at {job.scheduled_at.isoformat(timespec='minutes')}"
            if job.scheduled_at is not None
            else f"job {job.id}"
            for job in self.jobs
        ]
        parts += [f"{name}: {why}" for name, why in self.refused]
        return "; ".join(parts) or "nothing queued"


def target_accounts(services: Services, target: Target) -> list[Account]:
    """The accounts a target names, or ValidationError naming the field."""
    if target.account is not None:
        try:
            return [services.accounts.find(target.account)]
        except NotFound:
            raise ValidationError("account", f"no account {target.account!r}") from None
    accounts = services.accounts.list(group=target.group)
    if not accounts:
        raise ValidationError("group", f"no accounts in group {target.group!r}")
    return accounts


def route_for(account: Account, target: Target) -> str:
    if target.route:
        return target.route
    if account.routes:
        return account.routes[0]
    raise ValidationError("route", f"account {account.username} has no route: give one")


def intake_dir(data_dir: Path, source: str) -> Path:
    """An owner-only folder of the data dir for files a source received (telegram, api)."""
    return private_dir(private_dir(data_dir / "intake") / source)


def queue_file(
    services: Services,
    path: str | Path,
    target: Target,
    *,
    caption: str | None = None,
    title: str | None = None,
    at: str | datetime | None = "auto",
    now: datetime | None = None,
) -> Queued:
    """Add `path` to the media library and queue it for every account of `target`.

    The target is checked before the file is stored. An account whose job is refused
    (a duplicate, the caption too long for its route) is reported in `refused` and the
    others are queued; a refusal that concerns them all (a bad time) is raised.
    """
    accounts = target_accounts(services, target)
    routes = {account.id: route_for(account, target) for account in accounts}
    media, _created = services.media.add(path, {"title": title} if title else None)
    queued = Queued(media)
    for account in accounts:
        try:
            job = services.jobs.add(
                account_id=account.id,
                media_id=media.id,
                route=routes[account.id],
                at=at,
                caption=caption,
                now=now,
            )
        except ValidationError as exc:
            if exc.field in ("at", "route") or len(accounts) == 1:
                raise
            queued.refused.append((account.username, str(exc)))
        except DomainError as exc:
            queued.refused.append((account.username, str(exc)))
        else:
            queued.jobs.append(job)
    return queued
