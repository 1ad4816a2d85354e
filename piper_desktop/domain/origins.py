"""Which outside source a job came from (`intake_origins`): job → (source, ref).

An intake that queues a file it received (the Telegram bot: ref "chat:message") writes
a *claim* row before it queues anything and, once the jobs exist, replaces it with one
row per job in the same transaction as its own acknowledgement (`settle`). A crash in
between leaves the claim; handling the same message again then adopts the jobs made
after the claim's `job_floor` for that media and those accounts (`made_since`) and
queues only what is missing, so a message is never queued twice and never lost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..store.db import Database
from ..store.enums import FINAL_JOB_STATUSES
from ..store.models import IntakeOrigin, Job

# what a source is told about (domain/notify.py's kinds are the same words)
TOLD_STATUSES = ("published", "failed", "needs_attention")


@dataclass(frozen=True)
class Claim:
    ref: str
    job_floor: int
    # the claim was already there: an earlier run stopped while queueing this ref
    resumed: bool


def handled(db: Database, source: str, ref: str) -> list[int]:
    """The jobs made from `ref` ([] when it was never queued)."""
    with db.session() as session:
        rows = session.scalars(
            select(IntakeOrigin.job_id).where(
                IntakeOrigin.source == source,
                IntakeOrigin.ref == ref,
                IntakeOrigin.job_id.is_not(None),
            )
        )
        return [job_id for job_id in rows if job_id is not None]


def claim(db: Database, source: str, ref: str) -> Claim:
    """Mark `ref` as being queued (or find the mark an interrupted run left)."""
    with db.write() as session:
        found = session.scalar(
            select(IntakeOrigin).where(
                IntakeOrigin.source == source,
                IntakeOrigin.ref == ref,
                IntakeOrigin.job_id.is_(None),
            )
        )
        if found is not None:
            return Claim(ref, found.job_floor or 0, resumed=True)
        floor = session.scalar(select(func.max(Job.id))) or 0
        session.add(IntakeOrigin(source=source, ref=ref, job_floor=floor))
        return Claim(ref, floor, resumed=False)


def made_since(
    db: Database, claim: Claim, media_id: int, account_ids: Iterable[int]
) -> dict[int, int]:
    """account id → the job an interrupted run made for this media after the claim."""
    with db.session() as session:
        rows = session.execute(
            select(Job.account_id, Job.id).where(
                Job.id > claim.job_floor,
                Job.media_id == media_id,
                Job.account_id.in_(list(account_ids)),
            )
        ).all()
    return {account_id: job_id for account_id, job_id in rows}


def settle(
    db: Database,
    source: str,
    ref: str,
    job_ids: Iterable[int],
    also: Callable[[Session], None] | None = None,
) -> None:
    """Replace the claim on `ref` by one row per job; `also` writes in the same
    transaction (the source's acknowledgement, e.g. the bot's update offset)."""
    with db.write() as session:
        session.execute(
            delete(IntakeOrigin).where(
                IntakeOrigin.source == source,
                IntakeOrigin.ref == ref,
                IntakeOrigin.job_id.is_(None),
            )
        )
        for job_id in job_ids:
            session.add(IntakeOrigin(source=source, ref=ref, job_id=job_id))
        if also is not None:
            also(session)


def refs_of_job(db: Database, source: str, job_id: int) -> list[str]:
    with db.session() as session:
        return list(
            session.scalars(
                select(IntakeOrigin.ref).where(
                    IntakeOrigin.source == source, IntakeOrigin.job_id == job_id
                )
            )
        )


def mark_told(db: Database, source: str, job_id: int, status: str) -> None:
    with db.write() as session:
        for row in session.scalars(
            select(IntakeOrigin).where(IntakeOrigin.source == source, IntakeOrigin.job_id == job_id)
        ):
            row.told = status


def untold(db: Database, source: str) -> list[Job]:
    """Jobs from `source` that reached a state worth telling after it was last told
    (published, failed, needs attention while nobody was listening)."""
    with db.session() as session:
        query = (
            select(Job)
            .join(IntakeOrigin, IntakeOrigin.job_id == Job.id)
            .where(
                IntakeOrigin.source == source,
                Job.status.in_(TOLD_STATUSES),
                (IntakeOrigin.told.is_(None)) | (IntakeOrigin.told != Job.status),
            )
            .order_by(Job.id)
        )
        return list(session.scalars(query).unique())


def open_jobs(db: Database, source: str, ref_prefix: str) -> list[Job]:
    """Jobs from refs starting with `ref_prefix` (a chat's "chat:") not final yet."""
    finals = [status.value for status in FINAL_JOB_STATUSES]
    with db.session() as session:
        query = (
            select(Job)
            .join(IntakeOrigin, IntakeOrigin.job_id == Job.id)
            .where(
                IntakeOrigin.source == source,
                IntakeOrigin.ref.startswith(ref_prefix, autoescape=True),
                Job.status.not_in(finals),
            )
            .order_by(Job.scheduled_at, Job.id)
        )
        return list(session.scalars(query).unique())


def from_ref_prefix(db: Database, source: str, ref_prefix: str, job_id: int) -> bool:
    with db.session() as session:
        found = session.scalar(
            select(IntakeOrigin.id).where(
                IntakeOrigin.source == source,
                IntakeOrigin.job_id == job_id,
                IntakeOrigin.ref.startswith(ref_prefix, autoescape=True),
            )
        )
    return found is not None
