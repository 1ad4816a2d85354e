"""Moving late jobs to the next free slot of their account.

Used by the engine for missed schedules (machine asleep, app closed, offline) and by
`CampaignService.resume` for the jobs that became late while a campaign was paused.
Late jobs of one account are re-slotted in their original order, each into the first
slot the account policy allows (window, spacing, daily caps — the account's and the
global one —, cooldown; see domain/policy.py) from now on, so a backlog spreads out
instead of firing in a burst.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.enums import JobStatus
from ..store.models import Account, Job
from .jobs import add_event
from .slots import account_calendar, global_caps


def reslot_jobs(
    session: Session, jobs: list[Job], now: datetime, reason: str
) -> list[tuple[Job, datetime]]:
    """Give each job the next free slot of its account from `now`; writes events."""
    caps = global_caps(session)
    moved: list[tuple[Job, datetime]] = []
    by_account: dict[int, list[Job]] = {}
    for job in sorted(jobs, key=lambda j: (j.scheduled_at or now, j.id)):
        by_account.setdefault(job.account_id, []).append(job)
    for account_id, group in by_account.items():
        account = session.get(Account, account_id)
        if account is None:
            continue
        calendar = account_calendar(session, account, caps, [j.id for j in group])
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
