"""What `run --once` leaves behind, and why: it waits only on work a live process is
doing, then says what is left (waiting for its time, for the platform, for a person,
or in another process's hands) instead of waiting on it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.enums import FINAL_JOB_STATUSES, POSTING_JOB_STATUSES, JobStatus
from ..store.models import Job
from .leases import LeaseOwner, holder_is_live


@dataclass(frozen=True)
class Left:
    what: str  # a key of LABELS
    count: int
    why: str


def what_is_left(session: Session, me: LeaseOwner, now: datetime) -> list[Left]:
    rows = session.execute(
        select(Job.status, Job.lease_owner, Job.lease_expires_at, Job.next_attempt_at).where(
            Job.status.not_in([s.value for s in FINAL_JOB_STATUSES])
        )
    ).all()
    waiting: list[datetime | None] = []
    checks: list[datetime | None] = []
    attention = drafts = 0
    elsewhere: dict[str, int] = defaultdict(int)
    unsettled = 0
    for status, holder, expires, next_at in rows:
        live = holder_is_live(holder, expires, me, now)
        if live and (status in POSTING_JOB_STATUSES or status == JobStatus.VERIFYING):
            owner = LeaseOwner.parse(holder)
            elsewhere[f"{owner.host} pid {owner.pid}" if owner else str(holder)] += 1
        elif status in POSTING_JOB_STATUSES:
            unsettled += 1
        elif status in (JobStatus.QUEUED, JobStatus.RETRYING):
            waiting.append(next_at)
        elif status == JobStatus.VERIFYING:
            checks.append(next_at)
        elif status == JobStatus.NEEDS_ATTENTION:
            attention += 1
        elif status == JobStatus.DRAFT:
            drafts += 1
    left: list[Left] = []
    if waiting:
        due = [at for at in waiting if at is not None]
        left.append(
            Left(
                "queued",
                len(waiting),
                f"waiting for their time, the next at {_when(min(due))}" if due else "waiting",
            )
        )
    if checks:
        due = [at for at in checks if at is not None]
        left.append(
            Left(
                "verifying",
                len(checks),
                "waiting for the platform's word on them"
                + (f", next check at {_when(min(due))}" if due else ""),
            )
        )
    for where, count in sorted(elsewhere.items()):
        left.append(Left("elsewhere", count, f"held by another live process, {where}"))
    if unsettled:
        left.append(
            Left("unsettled", unsettled, "left mid-flight; the next start settles them")
        )
    if attention:
        left.append(
            Left(
                "needs_attention",
                attention,
                "waiting for a person: piper jobs list --status needs_attention",
            )
        )
    if drafts:
        left.append(Left("draft", drafts, "not queued"))
    return left


LABELS = {
    "queued": "queued",
    "verifying": "verifying",
    "elsewhere": "in another process",
    "unsettled": "to settle",
    "needs_attention": "need attention",
    "draft": "drafts",
}


def describe(left: list[Left]) -> str:
    if not left:
        return "nothing is left"
    return "left: " + "; ".join(f"{i.count} {LABELS[i.what]} ({i.why})" for i in left)


def _when(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M")
