"""The duplicate guard: the same video (sha256) to the same account only once per window.

Media items are unique by sha256, so "same video" is "same media_id". Checked when a
job is created (against queued, in-flight and published jobs) and again when the engine
claims it (against in-flight and published jobs only, so that of two queued twins the
first one to run wins and the second is refused).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..store.enums import SLOTTED_JOB_STATUSES
from ..store.models import Job, Setting
from .settings import DEFS

WINDOW_KEY = "engine.duplicate_window_days"


class PostedJob(Protocol):
    """The earlier job a duplicate repeats, as far as the message names it (a Job row,
    or the claim pass's record of one)."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def submitted_at(self) -> datetime | None: ...
    @property
    def scheduled_at(self) -> datetime | None: ...



def window_days(session: Session) -> int:
    row = session.get(Setting, WINDOW_KEY)
    return int(row.value if row is not None else DEFS[WINDOW_KEY].default)


def find_duplicate(
    session: Session,
    *,
    account_id: int,
    media_id: int,
    around: datetime,
    days: int,
    statuses: Iterable[str] = SLOTTED_JOB_STATUSES,
    exclude_job_id: int | None = None,
) -> Job | None:
    """Another job posting `media_id` as `account_id` within `days` of `around`."""
    if days <= 0:
        return None
    window = timedelta(days=days)
    # when the other post happened, or will happen
    moment = func.coalesce(Job.published_at, Job.submitted_at, Job.scheduled_at)
    query = (
        select(Job)
        .where(
            Job.account_id == account_id,
            Job.media_id == media_id,
            Job.status.in_([str(s) for s in statuses]),
            moment >= around - window,
            moment <= around + window,
        )
        .order_by(Job.id)
        .limit(1)
    )
    if exclude_job_id is not None:
        query = query.where(Job.id != exclude_job_id)
    return session.scalar(query)


def duplicate_message(other: PostedJob) -> str:
    when = other.published_at or other.submitted_at or other.scheduled_at
    stamp = when.strftime("%Y-%m-%d %H:%M UTC") if when else "an unknown time"
    return (
        f"this video already goes to this account in job {other.id} ({other.status}, "
        f"{stamp}); allow duplicates on the job to post it again"
    )
