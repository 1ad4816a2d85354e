"""Automatic slots: the next time an account may post, as the account policy decides.

`AccountCalendar.next_free` walks forward from a moment, asking the policy
(`domain/policy.py`) and jumping to the time it holds the account until, so every slot
it proposes is one the policy accepts, for planning and for the engine's claim. The
loaders below read the policy's facts from the database: the account's rules, the
global caps (`engine.daily_post_cap`) and the account's posts planned and posted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..store.enums import SLOTTED_JOB_STATUSES
from ..store.models import Account, Job, Setting
from .errors import DomainError
from .policy import NO_CAPS, AccountRules, Caps, Held, PostBook, decide
from .settings import DEFS

MAX_DAYS_AHEAD = 400
CAP_KEY = "engine.daily_post_cap"

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
    ) -> None:
        self.rules = rules
        self.caps = caps
        self.book = PostBook(taken, last_post_at)

    @property
    def taken(self) -> list[datetime]:
        return self.book.times

    def decide(self, at: datetime, *, claim: bool = False, pinned: bool = False) -> Held | None:
        return decide(self.rules, self.caps, self.book, at, claim=claim, pinned=pinned)

    def next_free(self, after: datetime) -> datetime:
        candidate = after.astimezone(UTC)
        limit = candidate + timedelta(days=MAX_DAYS_AHEAD)
        while candidate < limit:
            held = self.decide(candidate)
            if held is None:
                return candidate
            # every rule holds until a later moment, so the walk always moves on
            assert held.until > candidate, held
            candidate = held.until
        raise NoSlot(f"no free slot within {MAX_DAYS_AHEAD} days")

    def take(self, moment: datetime) -> None:
        self.book.add(moment)


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


def global_caps(session: Session) -> Caps:
    """The caps over all accounts, from the same settings the engine reads."""
    row = session.get(Setting, CAP_KEY)
    return Caps(daily_post_cap=int(row.value if row is not None else DEFS[CAP_KEY].default))


def account_posts(session: Session, account_id: int, exclude: Iterable[int] = ()) -> list[datetime]:
    """The account's posts planned and posted, leaving out the jobs in `exclude`.

    A post that already went out counts at the time it went (as the engine counts it),
    one still waiting at its planned slot.
    """
    skip = set(exclude)
    rows = session.execute(
        select(Job.id, func.coalesce(Job.submitted_at, Job.scheduled_at)).where(
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
    session: Session, account: Account, caps: Caps, exclude: Iterable[int] = ()
) -> AccountCalendar:
    """The account's calendar with its posts, under the global caps (required: a plan
    without them shows the operator posts the engine will hold back)."""
    posts = account_posts(session, account.id, exclude)
    return AccountCalendar(account_rules(account), posts, caps, account.last_post_at)
