"""Every change the engine makes to a job, each in its own write transaction.

A transition writes the job row, a `JobEvent` (the job's history) and, where it applies,
the account (cooldown, needs_login, last post) and the campaign (completed), then returns
the `EngineEvent`s to announce once the transaction has committed. Transitions made by a
worker only apply while this engine still holds the job's lease — except the receipt,
which is the platform's word and is kept whatever happens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import (
    Integer,
    String,
    Text,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..logs import get_logger, mask
from ..publishing.base import CheckResult, PublishError, Receipt
from ..store.db import Database
from ..store.enums import (
    FINAL_JOB_STATUSES,
    AccountStatus,
    CampaignStatus,
    JobStatus,
)
from ..store.models import Account, Artifact, Campaign, Job, JobEvent
from ..store.types import JSONText, UTCDateTime
from .clock import Clock
from .config import EngineConfig
from .events import EngineEvent, EngineEvents, EventKind

log = get_logger("engine")

ACCOUNT_STATUS_FROM_ERROR = {
    "cooldown": AccountStatus.COOLDOWN,
    "needs_login": AccountStatus.NEEDS_LOGIN,
    "needs_attention": AccountStatus.NEEDS_ATTENTION,
    "disabled": AccountStatus.DISABLED,
}
ARTIFACT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".html": "text/html",
    ".json": "application/json",
    ".txt": "text/plain",
}


def content_type_for(name: str) -> str:
    for suffix, kind in ARTIFACT_TYPES.items():
        if name.lower().endswith(suffix):
            return kind
    return "application/octet-stream"


# The hot path (every job passes here four times) runs prebuilt table-level statements:
# building ORM statements anew per call cost more than the SQL itself.


def inline(values: Iterable[str]) -> list[Any]:
    """Fixed status names as SQL literals for `IN (...)`: a plain list becomes an
    expanding parameter that SQLAlchemy re-renders on every execution. Only for our own
    constants, never for data."""
    return [literal_column("'" + str(value).replace("'", "''") + "'") for value in values]


JOBS = Job.__table__
T_NOW = bindparam("t_now", type_=UTCDateTime())
T_JOB = bindparam("t_job", type_=Integer())
T_OWNER = bindparam("t_owner", type_=String())
INSERT_EVENT = insert(JobEvent.__table__)
START_SUBMIT = (
    update(JOBS)
    .where(
        JOBS.c.id == T_JOB,
        JOBS.c.lease_owner == T_OWNER,
        JOBS.c.status == JobStatus.CLAIMED.value,
    )
    .values(
        status=JobStatus.SUBMITTING.value,
        attempts=JOBS.c.attempts + 1,
        lease_expires_at=bindparam("t_lease_end", type_=UTCDateTime()),
        updated_at=T_NOW,
    )
)
T_KIND = bindparam("t_kind", type_=String())
T_VALUE = bindparam("t_value", type_=String())
STORE_RECEIPT = (
    update(JOBS)
    .where(JOBS.c.id == T_JOB)
    .where(
        or_(
            JOBS.c.receipt.is_(None),
            JOBS.c.receipt != T_VALUE,
            JOBS.c.receipt_kind != T_KIND,
        )
    )
    .values(
        receipt_kind=T_KIND,
        receipt=T_VALUE,
        post_url=func.coalesce(bindparam("t_post_url", type_=Text()), JOBS.c.post_url),
        submitted_at=T_NOW,
        status=case(
            (
                JOBS.c.status.in_(inline([JobStatus.CLAIMED.value, JobStatus.SUBMITTING.value])),
                JobStatus.SUBMITTED.value,
            ),
            else_=JOBS.c.status,
        ),
        updated_at=T_NOW,
    )
)
LAST_POST = (
    update(Account.__table__)
    .where(Account.__table__.c.id == bindparam("t_account", type_=Integer()))
    .values(last_post_at=T_NOW)
)
TO_VERIFYING = (
    update(JOBS)
    .where(JOBS.c.id == T_JOB, JOBS.c.lease_owner == T_OWNER)
    .values(
        status=JobStatus.VERIFYING.value,
        next_attempt_at=bindparam("t_next", type_=UTCDateTime()),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=T_NOW,
    )
)
TO_PUBLISHED = (
    update(JOBS)
    .where(JOBS.c.id == T_JOB, JOBS.c.lease_owner == T_OWNER)
    .values(
        status=JobStatus.PUBLISHED.value,
        published_at=T_NOW,
        post_url=func.coalesce(bindparam("t_post_url", type_=Text()), JOBS.c.post_url),
        post_id=func.coalesce(bindparam("t_post_id", type_=String()), JOBS.c.post_id),
        platform_results=func.coalesce(
            bindparam("t_results", type_=JSONText()), JOBS.c.platform_results
        ),
        next_attempt_at=None,
        last_error=bindparam("t_error", type_=Text()),
        lease_owner=None,
        lease_expires_at=None,
        updated_at=T_NOW,
    )
)


class JobLike(Protocol):
    """What an announcement needs to know about a job (a Job row, or JobFacts)."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def account_id(self) -> int: ...
    @property
    def campaign_id(self) -> int | None: ...


@dataclass(frozen=True)
class JobFacts:
    id: int
    status: str
    account_id: int
    campaign_id: int | None

    @classmethod
    def of(cls, job: Job) -> JobFacts:
        return cls(job.id, job.status, job.account_id, job.campaign_id)


class Transition:
    """One write transaction's worth of changes and the announcements that follow it."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.events: list[EngineEvent] = []

    @cached_property
    def connection(self) -> Connection:
        """The transaction's connection, looked up once (the session's lookup is not free)."""
        return self.session.connection()

    def note(
        self,
        job: JobLike,
        kind: EventKind,
        message: str,
        data: dict[str, Any] | None = None,
        *,
        persist: bool = True,
        status: str | None = None,
    ) -> None:
        message = mask(message)
        status = status or job.status
        if persist:
            self.connection.execute(
                INSERT_EVENT,
                {
                    "job_id": job.id,
                    "at": self.now,
                    "kind": kind.value,
                    "status": status,
                    "message": message,
                    "data": data,
                },
            )
        self.events.append(
            EngineEvent(
                kind=kind,
                message=message,
                job_id=job.id,
                status=status,
                timestamp=self.now,
                account_id=job.account_id,
                campaign_id=job.campaign_id,
                data=dict(data or {}),
            )
        )

    def announce(self, kind: EventKind, message: str, **fields: Any) -> None:
        self.events.append(
            EngineEvent(kind=kind, message=mask(message), timestamp=self.now, **fields)
        )


class Ledger:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        owner: str,
        config: EngineConfig,
        events: EngineEvents,
    ) -> None:
        self.db = db
        self.clock = clock
        self.owner = owner
        self.config = config
        self.events = events
        # told of every status check this ledger plans (the engine's dispatch hint)
        self.on_verifying: Callable[[datetime], None] | None = None

    @contextmanager
    def transition(self) -> Iterator[Transition]:
        """A write transaction; its events are emitted only after it committed."""
        with self.db.write() as session:
            change = Transition(session, self.clock.now())
            yield change
        for event in change.events:
            self.events.emit(event, masked=True)  # Transition masked every message

    def held(self, job: Job) -> bool:
        return job.lease_owner == self.owner

    def _job(self, change: Transition, job_id: int, *, leased: bool = True) -> Job | None:
        job = change.session.get(Job, job_id)
        if job is None:
            return None
        if leased and not self.held(job):
            log.warning("job %s: lease lost (held by %s); not touching it", job_id, job.lease_owner)
            return None
        return job

    @staticmethod
    def _release(job: Job) -> None:
        job.lease_owner = None
        job.lease_expires_at = None

    # --- the publishing path ------------------------------------------------------------
    def start_submit(self, job: Job) -> Job | None:
        """claimed → submitting, one attempt more. None if the job is no longer ours."""
        with self.transition() as change:
            done = change.connection.execute(
                START_SUBMIT,
                {
                    "t_job": job.id,
                    "t_owner": self.owner,
                    "t_now": change.now,
                    "t_lease_end": change.now + timedelta(seconds=self.config.lease_seconds),
                },
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                return None
            attempts = job.attempts + 1
            change.note(
                job,
                EventKind.SUBMITTING,
                f"attempt {attempts} of {job.max_attempts} on route {job.route}",
                {"attempt": attempts, "route": job.route},
                status=JobStatus.SUBMITTING.value,
            )
        # the runner's copy follows what was written
        set_committed_value(job, "attempts", attempts)
        set_committed_value(job, "status", JobStatus.SUBMITTING.value)
        return job

    def record_receipt(self, job: JobLike, receipt: Receipt) -> None:
        """Keep the platform's receipt at once — before anything else happens. Kept even
        if this engine's lease lapsed: it is the platform's word."""
        with self.transition() as change:
            stored = change.connection.execute(
                STORE_RECEIPT,
                {
                    "t_job": job.id,
                    "t_kind": receipt.kind,
                    "t_value": receipt.value,
                    "t_post_url": receipt.post_url,
                    "t_now": change.now,
                },
            )
            if stored.rowcount != 1:  # type: ignore[attr-defined]
                return  # the same receipt was already kept
            change.connection.execute(LAST_POST, {"t_account": job.account_id, "t_now": change.now})
            evidence = receipt.extra.get("evidence_png") if receipt.extra else None
            if isinstance(evidence, bytes | bytearray) and evidence:
                change.connection.execute(
                    insert(Artifact).values(
                        job_id=job.id,
                        name="evidence.png",
                        content_type="image/png",
                        content=bytes(evidence),
                        created_at=change.now,
                    )
                )
            data = {
                k: v
                for k, v in (receipt.extra or {}).items()
                if isinstance(v, str | int | float | bool) or v is None
            }
            change.note(
                job,
                EventKind.RECEIPT,
                f"{receipt.kind} {receipt.value}",
                {"kind": receipt.kind, "value": receipt.value, "post_url": receipt.post_url}
                | {"extra": data},
                status=JobStatus.SUBMITTED.value,
            )

    def facts(self, job_id: int) -> JobFacts | None:
        with self.db.session() as session:
            row = session.execute(
                select(Job.id, Job.status, Job.account_id, Job.campaign_id).where(Job.id == job_id)
            ).first()
        return JobFacts(*row) if row is not None else None

    def verifying(
        self,
        job: JobLike,
        next_check: datetime,
        note: str | None = None,
        *,
        first: bool = True,
    ) -> None:
        """Waiting for the platform: release the lease, check again at `next_check`.
        `first`: the job just arrived here (its history says so once)."""
        with self.transition() as change:
            done = change.connection.execute(
                TO_VERIFYING,
                {"t_job": job.id, "t_owner": self.owner, "t_now": change.now, "t_next": next_check},
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                return
            if self.on_verifying is not None:
                self.on_verifying(next_check)
            if first or note:
                change.note(
                    job,
                    EventKind.VERIFYING,
                    note or f"the platform is processing it; next check {next_check.isoformat()}",
                    persist=first or note is not None,
                    status=JobStatus.VERIFYING.value,
                )

    def published(self, job: JobLike, result: CheckResult, post_url: str | None = None) -> None:
        with self.transition() as change:
            url = result.post_url or post_url
            done = change.connection.execute(
                TO_PUBLISHED,
                {
                    "t_job": job.id,
                    "t_owner": self.owner,
                    "t_now": change.now,
                    "t_post_url": url,
                    "t_post_id": result.post_id,
                    "t_results": result.platform_results or None,
                    "t_error": mask(result.reason) if result.reason else None,
                },
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                return
            message = url or "published"
            if result.reason:
                message += f" ({result.reason})"
            change.note(
                job,
                EventKind.PUBLISHED,
                message,
                {"post_url": url, "post_id": result.post_id},
                status=JobStatus.PUBLISHED.value,
            )
            self._campaign_done(change, job)

    def retry(
        self, job_id: int, reason: str, delay: float, *, code: str | None = None
    ) -> datetime | None:
        """A transient failure: try again after `delay` seconds (a new submit)."""
        with self.transition() as change:
            job = self._job(change, job_id)
            if job is None:
                return None
            at = change.now + timedelta(seconds=delay)
            job.status = JobStatus.RETRYING.value
            job.next_attempt_at = at
            job.last_error = mask(reason)
            # the next attempt is a new submission: its receipt replaces this one
            job.receipt = job.receipt_kind = None
            self._release(job)
            change.note(
                job,
                EventKind.RETRYING,
                f"{reason}; attempt {job.attempts + 1} of {job.max_attempts} at {at.isoformat()}",
                {"delay_seconds": round(delay, 3), "code": code, "next_attempt_at": at.isoformat()},
            )
            return at

    def failed(self, job_id: int, reason: str, *, code: str | None = None) -> None:
        with self.transition() as change:
            job = self._job(change, job_id)
            if job is None:
                return
            self._fail(change, job, reason, code)

    def _fail(self, change: Transition, job: Job, reason: str, code: str | None) -> None:
        job.status = JobStatus.FAILED.value
        job.last_error = mask(reason)
        job.next_attempt_at = None
        self._release(job)
        change.note(job, EventKind.FAILED, reason, {"code": code})
        self._campaign_done(change, job)

    def attention(
        self,
        job_id: int,
        reason: str,
        *,
        leased: bool = True,
        code: str | None = None,
        account_reason: str | None = None,
    ) -> None:
        """A person must look: the job (and, with account_reason, its account) waits."""
        with self.transition() as change:
            job = self._job(change, job_id, leased=leased)
            if job is None:
                return
            self._attention(change, job, reason, code)
            if account_reason:
                self._account_status(
                    change, job.account_id, AccountStatus.NEEDS_ATTENTION, account_reason, None
                )

    def flag_not_ready(self, job_id: int, reason: str, *, account_reason: str | None) -> bool:
        """The readiness check failed: a job not yet running waits for a person (and
        its account, when the problem is the account's)."""
        with self.transition() as change:
            job = change.session.get(Job, job_id)
            if job is None or job.lease_owner is not None:
                return False
            if job.status not in (JobStatus.QUEUED, JobStatus.RETRYING):
                return False
            self._attention(change, job, reason, "not_ready")
            if account_reason:
                self._account_status(
                    change, job.account_id, AccountStatus.NEEDS_ATTENTION, account_reason, None
                )
            return True

    def _attention(self, change: Transition, job: Job, reason: str, code: str | None) -> None:
        job.status = JobStatus.NEEDS_ATTENTION.value
        job.attention_reason = mask(reason)
        job.last_error = mask(reason)
        job.next_attempt_at = None
        self._release(job)
        change.note(job, EventKind.NEEDS_ATTENTION, reason, {"code": code})

    def fallback(self, job_id: int, new_route: str, reason: str) -> None:
        """The route certainly did not post: the same job goes to the next route."""
        with self.transition() as change:
            job = self._job(change, job_id)
            if job is None:
                return
            old = job.route
            job.route = new_route
            job.status = JobStatus.QUEUED.value
            job.attempts = 0
            job.next_attempt_at = change.now
            job.last_error = mask(reason)
            job.receipt = job.receipt_kind = None
            self._release(job)
            change.note(
                job,
                EventKind.FALLBACK,
                f"{old} did not post it ({reason}); trying {new_route}",
                {"from": old, "to": new_route},
            )

    def park(self, job_id: int, status: str, message: str, *, due_now: bool = False) -> None:
        """Give a job back with `status` and no lease (engine stopping, reconciliation).
        `due_now`: it runs at once, not as a missed schedule."""
        with self.transition() as change:
            job = self._job(change, job_id)
            if job is None:
                return
            job.status = status
            if due_now:
                job.next_attempt_at = change.now
            self._release(job)
            change.note(job, EventKind.PARKED, message)

    def artifacts(self, job_id: int, artifacts: dict[str, bytes]) -> None:
        if not artifacts:
            return
        with self.db.write() as session:
            now = self.clock.now()
            for name, content in artifacts.items():
                if not isinstance(content, bytes | bytearray):
                    continue
                session.add(
                    Artifact(
                        job_id=job_id,
                        name=name[:200],
                        content_type=content_type_for(name),
                        content=bytes(content),
                        created_at=now,
                    )
                )

    # --- accounts and campaigns ------------------------------------------------------------
    def account_status(
        self, account_id: int, status: str, reason: str, seconds: float | None = None
    ) -> None:
        target = ACCOUNT_STATUS_FROM_ERROR.get(status)
        if target is None:
            log.warning("unknown account status %r from a publisher; ignored", status)
            return
        with self.transition() as change:
            self._account_status(change, account_id, target, reason, seconds)

    def _account_status(
        self,
        change: Transition,
        account_id: int,
        status: AccountStatus,
        reason: str,
        seconds: float | None,
    ) -> None:
        account = change.session.get(Account, account_id)
        if account is None:
            return
        account.status = status.value
        account.status_reason = mask(reason)
        until = None
        if status == AccountStatus.COOLDOWN:
            until = change.now + timedelta(
                seconds=seconds if seconds else self.config.default_cooldown_seconds
            )
            if account.cooldown_until is None or account.cooldown_until < until:
                account.cooldown_until = until
            until = account.cooldown_until
        label = f"@{account.username}"
        message = f"{label} is now {status.value}: {reason}"
        if until is not None:
            message = f"{label} cools down until {until.isoformat()}: {reason}"
        change.announce(
            EventKind.ACCOUNT,
            message,
            account_id=account.id,
            status=status.value,
            data={"cooldown_until": until.isoformat() if until else None},
        )

    def _campaign_done(self, change: Transition, job: JobLike) -> None:
        if job.campaign_id is None:
            return
        campaign = change.session.get(Campaign, job.campaign_id)
        if campaign is None or campaign.status not in (
            CampaignStatus.RUNNING,
            CampaignStatus.PAUSED,
        ):
            return
        change.session.flush()
        open_jobs = change.session.scalar(
            select(func.count(Job.id)).where(
                Job.campaign_id == campaign.id,
                Job.status.not_in([s.value for s in FINAL_JOB_STATUSES]),
            )
        )
        if open_jobs == 0:
            campaign.status = CampaignStatus.COMPLETED.value
            change.announce(
                EventKind.CAMPAIGN,
                f"campaign {campaign.name!r} completed",
                campaign_id=campaign.id,
                status=campaign.status,
            )


def error_summary(error: PublishError) -> str:
    parts = [error.reason]
    if error.code and error.code not in error.reason:
        parts.append(f"[{error.code}]")
    if error.log_id:
        parts.append(f"(log_id {error.log_id})")
    return " ".join(parts)
