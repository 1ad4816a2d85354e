"""Moving late jobs to the next free slot of their account.

Used by the engine for missed schedules (machine asleep, app closed, offline) and by
`CampaignService.resume` for the jobs that became late while a campaign was paused.
Late jobs of one account are re-slotted in their original order, each into the first
slot the account's rules allow (window, spacing, daily cap, cooldown) from now on, so
a backlog spreads out instead of firing in a burst.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..store.enums import SLOTTED_JOB_STATUSES, JobStatus
from ..store.models import Account, Job, Setting
from .jobs import add_event, slot_rules
from .settings import DEFS
from .slots import AccountCalendar

CAP_KEY = "engine.daily_post_cap"


def platform_daily_cap(session: Session) -> int:
    row = session.get(Setting, CAP_KEY)
    return int(row.value if row is not None else DEFS[CAP_KEY].default)


def calendar_without(
    session: Session, account: Account, exclude: Iterable[int], daily_cap: int | None = None
) -> AccountCalendar:
    """The account's calendar leaving out the jobs that are about to move."""
    skip = set(exclude)
    # a post that already went out counts at the time it went, not its planned slot
    rows = session.execute(
        select(Job.id, func.coalesce(Job.submitted_at, Job.scheduled_at)).where(
            Job.account_id == account.id,
            Job.status.in_([s.value for s in SLOTTED_JOB_STATUSES]),
            Job.scheduled_at.is_not(None),
        )
    ).all()
    taken = [at for job_id, at in rows if job_id not in skip and at is not None]
    return AccountCalendar(slot_rules(account, daily_cap), taken)


def reslot_jobs(
    session: Session, jobs: list[Job], now: datetime, reason: str
) -> list[tuple[Job, datetime]]:
    """Give each job the next free slot of its account from `now`; writes events."""
    cap = platform_daily_cap(session)
    moved: list[tuple[Job, datetime]] = []
    by_account: dict[int, list[Job]] = {}
    for job in sorted(jobs, key=lambda j: (j.scheduled_at or now, j.id)):
        by_account.setdefault(job.account_id, []).append(job)
    for account_id, group in by_account.items():
        account = session.get(Account, account_id)
        if account is None:
            continue
        calendar = calendar_without(session, account, [j.id for j in group], cap)
        for job in group:
            slot = calendar.next_free(now)
            calendar.take(slot)
            old = job.scheduled_at
            job.scheduled_at = slot
            job.next_attempt_at = slot
            event = add_event(
                session,
                job,
                "reslotted",
                f"{reason}: moved from {old.isoformat() if old else 'unscheduled'} "
                f"to {slot.isoformat()}",
            )
            event.at = now
            moved.append((job, slot))
    return moved


def reslot_late_campaign_jobs(
    session: Session, campaign_id: int, now: datetime
) -> list[tuple[Job, datetime]]:
    """Queued jobs of a campaign whose time passed (e.g. while it was paused)."""
    late = list(
        session.scalars(
            select(Job).where(
                Job.campaign_id == campaign_id,
                Job.status == JobStatus.QUEUED.value,
                Job.next_attempt_at < now,
                Job.lease_owner.is_(None),
            )
        )
    )
    return reslot_jobs(session, late, now, "late after the campaign was paused")
