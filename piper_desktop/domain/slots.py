"""Automatic slots: the next time an account may post, as the account policy decides.

`AccountCalendar.next_free` walks forward from a moment, asking the policy
(`domain/policy.py`) and jumping to the time it holds the account until, so every slot
it proposes is one the policy accepts, for planning and for the engine's claim. The
loaders below read the policy's facts from the database: the account's rules, the
global caps (`engine.daily_post_cap`, `campaigns.stagger_minutes`) and the account's
posts planned and posted. `CampaignSlots` plans one campaign over several calendars: the
stagger between accounts (a policy rule) and a jitter per slot, seeded by the campaign so
the wizard's preview and the start give the same slots.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..store.enums import SLOTTED_JOB_STATUSES
from ..store.models import Account, Job, Setting
from .errors import DomainError
from .policy import NO_CAPS, ROUTE_DAILY_CAP_KEYS, AccountRules, Caps, Held, PostBook, decide
from .settings import DEFS

MAX_DAYS_AHEAD = 400
CAP_KEY = "engine.daily_post_cap"
STAGGER_KEY = "campaigns.stagger_minutes"
JITTER_KEY = "campaigns.jitter_minutes"

# the account's own settings, under the name the planner has always used
SlotRules = AccountRules


class NoSlot(DomainError):
    pass


class AccountCalendar:
    """An account's rules, the global caps and its posts: where the next one may go."""

    def __init__(
        self,
        rules: AccountRules,
        taken: Iterable[datetime] = (),
        caps: Caps = NO_CAPS,
        last_post_at: datetime | None = None,
        route: str | None = None,
        route_taken: Iterable[datetime] | None = None,
    ) -> None:
        self.rules = rules
        self.caps = caps
        self.book = PostBook(taken, last_post_at)
        # the route of the posts being planned and the account's posts on it, for the
        # route's own daily cap (None: no route cap is asked)
        self.route = route
        self.route_book = PostBook(route_taken) if route_taken is not None else None

    @property
    def taken(self) -> list[datetime]:
        return self.book.times

    def decide(
        self,
        at: datetime,
        *,
        claim: bool = False,
        pinned: bool = False,
        others: PostBook | None = None,
    ) -> Held | None:
        return decide(
            self.rules, self.caps, self.book, at, claim=claim, pinned=pinned, others=others,
            route=self.route, route_book=self.route_book,
        )  # fmt: skip

    def next_free(self, after: datetime, others: PostBook | None = None) -> datetime:
        """The first moment from `after` the policy accepts; `others`: the other
        accounts' slots of the campaign being planned (for the stagger)."""
        candidate = after.astimezone(UTC)
        limit = candidate + timedelta(days=MAX_DAYS_AHEAD)
        while candidate < limit:
            held = self.decide(candidate, others=others)
            if held is None:
                return candidate
            # every rule holds until a later moment, so the walk always moves on
            assert held.until > candidate, held
            candidate = held.until
        raise NoSlot(f"no free slot within {MAX_DAYS_AHEAD} days")

    def take(self, moment: datetime) -> None:
        self.book.add(moment)
        if self.route_book is not None:
            self.route_book.add(moment)


class CampaignSlots:
    """One campaign's slots over its accounts' calendars.

    Each slot is the account's next free one (the stagger keeps it from the other
    accounts' slots), then pushed later by a random jitter and walked forward again, so
    the jitter can only move a slot to another one the policy accepts.
    """

    def __init__(
        self, calendars: dict[int, AccountCalendar], jitter_minutes: int, seed: int | str | None
    ) -> None:
        self.calendars = calendars
        self.jitter_seconds = max(jitter_minutes, 0) * 60
        # its own stream: the strategy's random choices stay as they were
        self.rng = random.Random(f"jitter:{seed}")
        self.slots: dict[int, list[datetime]] = {key: [] for key in calendars}

    def others(self, account_id: int) -> PostBook:
        return PostBook(
            moment for key, moments in self.slots.items() if key != account_id for moment in moments
        )

    def take_next(self, account_id: int, start: datetime) -> datetime:
        calendar = self.calendars[account_id]
        others = self.others(account_id)
        slot = calendar.next_free(start, others)
        jitter = self.rng.randint(0, self.jitter_seconds) if self.jitter_seconds else 0
        if jitter:
            slot = calendar.next_free(slot + timedelta(seconds=jitter), others)
        calendar.take(slot)
        self.slots[account_id].append(slot)
        return slot


# --- the facts, from the database -------------------------------------------------------


def account_rules(account: Account) -> AccountRules:
    return AccountRules(
        timezone=account.timezone or "UTC",
        window_enabled=account.window_enabled,
        window_start=account.window_start,
        window_end=account.window_end,
        min_spacing_minutes=account.min_spacing_minutes or 0,
        max_posts_per_day=account.max_posts_per_day,
        cooldown_until=account.cooldown_until,
        username=account.username,
    )


def setting(session: Session, key: str) -> Any:
    """A stored setting, or its default (the planner's own reads, inside its session)."""
    row = session.get(Setting, key)
    return row.value if row is not None else DEFS[key].default


def global_caps(session: Session) -> Caps:
    """The caps over all accounts, from the same settings the engine reads."""
    return Caps(
        daily_post_cap=int(setting(session, CAP_KEY)),
        stagger_minutes=int(setting(session, STAGGER_KEY)),
        route_daily_caps=tuple(
            (route, int(setting(session, key))) for route, key in ROUTE_DAILY_CAP_KEYS.items()
        ),
    )


def account_posts(
    session: Session, account_id: int, exclude: Iterable[int] = (), route: str | None = None
) -> list[datetime]:
    """The account's posts planned and posted (on `route` only, when given), leaving out
    the jobs in `exclude`.

    A post that already went out counts at the time it went (as the engine counts it),
    one still waiting at its planned slot.
    """
    skip = set(exclude)
    on_route = [Job.route == route] if route is not None else []
    rows = session.execute(
        select(Job.id, func.coalesce(Job.submitted_at, Job.scheduled_at)).where(
            *on_route,
            Job.account_id == account_id,
            or_(
                and_(
                    Job.status.in_([s.value for s in SLOTTED_JOB_STATUSES]),
                    Job.scheduled_at.is_not(None),
                ),
                # a submission counts whatever became of it, as the claim pass counts it
                # (store/statements.recent_posts): the platform saw the post start
                Job.submitted_at.is_not(None),
            ),
        )
    ).all()
    return [at for job_id, at in rows if job_id not in skip and at is not None]


def account_calendar(
    session: Session,
    account: Account,
    caps: Caps,
    exclude: Iterable[int] = (),
    route: str | None = None,
) -> AccountCalendar:
    """The account's calendar with its posts, under the global caps (required: a plan
    without them shows the operator posts the engine will hold back); `route`: the posts
    planned go out on it, so its own daily cap is asked too."""
    posts = account_posts(session, account.id, exclude)
    route_posts = (
        account_posts(session, account.id, exclude, route) if caps.route_cap(route) else None
    )
    return AccountCalendar(
        account_rules(account), posts, caps, account.last_post_at, route, route_posts
    )
