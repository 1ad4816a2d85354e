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

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..logs import get_logger, mask
from ..routes.base import CheckResult, PublishError, Receipt
from ..store.db import Database
from ..store.enums import (
    FINAL_JOB_STATUSES,
    AccountStatus,
    CampaignStatus,
    JobStatus,
)
from ..store.models import Account, Artifact, Job
from ..store.types import json_from_db, json_to_db, time_to_db
from .clock import Clock
from .config import EngineConfig
from .events import EngineEvent, EngineEvents, EventKind
from .records import JobRecord

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


# The hot path (every job passes here four times) runs plain SQL on the DB-API connection:
# the ORM's and Core's bookkeeping cost more than these small statements themselves.
# Times and JSON are bound in their stored forms (store/types.py); `updated_at` is set
# explicitly, as the models' onupdate would.


def sql_list(values: Iterable[str]) -> str:
    """Our own status constants as an SQL list literal (never data)."""
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(map(str, values))) + ")"


INSERT_EVENT = (
    "INSERT INTO job_events (job_id, at, kind, status, message, data)"
    " VALUES (:job, :at, :kind, :status, :message, :data)"
)
START_SUBMIT = f"""
UPDATE jobs SET status = '{JobStatus.SUBMITTING.value}', attempts = attempts + 1,
       lease_expires_at = :lease_end, updated_at = :now
WHERE id = :job AND lease_owner = :owner AND status = '{JobStatus.CLAIMED.value}'
"""
STORE_RECEIPT = f"""
UPDATE jobs SET receipt_kind = :kind, receipt = :value,
       post_url = coalesce(:post_url, post_url), submitted_at = :now,
       status = CASE WHEN status IN {sql_list([JobStatus.CLAIMED, JobStatus.SUBMITTING])}
                THEN '{JobStatus.SUBMITTED.value}' ELSE status END,
       updated_at = :now
WHERE id = :job AND (receipt IS NULL OR receipt != :value OR receipt_kind != :kind)
"""
LAST_POST = "UPDATE accounts SET last_post_at = :now, updated_at = :now WHERE id = :account"
INSERT_ARTIFACT = (
    "INSERT INTO artifacts (job_id, name, content_type, content, created_at)"
    " VALUES (:job, :name, :content_type, :content, :now)"
)
TO_VERIFYING = f"""
UPDATE jobs SET status = '{JobStatus.VERIFYING.value}', next_attempt_at = :next,
       lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
WHERE id = :job AND lease_owner = :owner
"""
TO_PUBLISHED = f"""
UPDATE jobs SET status = '{JobStatus.PUBLISHED.value}', published_at = :now,
       post_url = coalesce(:post_url, post_url), post_id = coalesce(:post_id, post_id),
       platform_results = coalesce(:results, platform_results), next_attempt_at = NULL,
       last_error = :error, lease_owner = NULL, lease_expires_at = NULL, updated_at = :now
WHERE id = :job AND lease_owner = :owner
"""
CAMPAIGN_STATUS = "SELECT name, status FROM campaigns WHERE id = ?"
CAMPAIGN_OPEN_JOBS = (
    "SELECT count(*) FROM jobs WHERE campaign_id = ? AND status NOT IN "
    + sql_list(FINAL_JOB_STATUSES)
)
CAMPAIGN_COMPLETED = (
    f"UPDATE campaigns SET status = '{CampaignStatus.COMPLETED.value}', updated_at = ? WHERE id = ?"
)
LAST_RECEIPT = (
    f"SELECT data FROM job_events WHERE job_id = ? AND kind = '{EventKind.RECEIPT.value}'"
    " ORDER BY id DESC LIMIT 1"
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
    """One write transaction's worth of changes and the announcements that follow it.

    A plain-SQL transition (`Ledger.quick`, the hot path) has only `raw`, the DB-API
    connection; an ORM one (`Ledger.transition`) also has `session`, and `raw` is the
    session's own connection, so both kinds of statement share the transaction."""

    def __init__(self, now: datetime, *, raw: Any = None, session: Session | None = None) -> None:
        self.now = now
        self._raw = raw
        self._session = session
        self.events: list[EngineEvent] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("a plain-SQL transition has no ORM session")
        return self._session

    @cached_property
    def connection(self) -> Connection:
        """The session's Core connection, looked up once (the lookup is not free)."""
        return self.session.connection()

    @cached_property
    def raw(self) -> Any:
        """The DB-API connection the transaction runs on."""
        if self._raw is None:
            self._raw = self.connection.connection.driver_connection
        return self._raw

    @cached_property
    def now_db(self) -> str:
        return time_to_db(self.now)

    def execute(self, sql: str, params: Any = ()) -> Any:
        """Plain SQL in this transaction (named or positional parameters)."""
        if self._session is not None:
            self._session.flush()  # pending ORM changes first, in the order they were made
        return self.raw.execute(sql, params)

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
            self.raw.execute(
                INSERT_EVENT,
                {
                    "job": job.id,
                    "at": self.now_db,
                    "kind": kind.value,
                    "status": status,
                    "message": message,
                    "data": json_to_db(data),
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
        """A write transaction with an ORM session; its events are emitted only after it
        committed."""
        with self.db.write() as session:
            change = Transition(self.clock.now(), session=session)
            yield change
        self._announce(change)

    @contextmanager
    def quick(self) -> Iterator[Transition]:
        """A plain-SQL write transaction (the hot path); events follow the commit."""
        with self.db.raw_write() as raw:
            change = Transition(self.clock.now(), raw=raw)
            yield change
        self._announce(change)

    def _announce(self, change: Transition) -> None:
        for event in change.events:
            self.events.emit(event, masked=True)  # Transition masked every message

    def held(self, job: Job | JobRecord) -> bool:
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
    def start_submit(self, job: JobRecord) -> JobRecord | None:
        """claimed → submitting, one attempt more. None if the job is no longer ours."""
        with self.quick() as change:
            done = change.execute(
                START_SUBMIT,
                {
                    "job": job.id,
                    "owner": self.owner,
                    "now": change.now_db,
                    "lease_end": time_to_db(
                        change.now + timedelta(seconds=self.config.lease_seconds)
                    ),
                },
            )
            if done.rowcount != 1:
                return None
            started = job.but(attempts=job.attempts + 1, status=JobStatus.SUBMITTING.value)
            change.note(
                started,
                EventKind.SUBMITTING,
                f"attempt {started.attempts} of {job.max_attempts} on route {job.route}",
                {"attempt": started.attempts, "route": job.route},
            )
        return started

    def record_receipt(self, job: JobLike, receipt: Receipt) -> None:
        """Keep the platform's receipt at once — before anything else happens. Kept even
        if this engine's lease lapsed: it is the platform's word."""
        with self.quick() as change:
            stored = change.execute(
                STORE_RECEIPT,
                {
                    "job": job.id,
                    "kind": receipt.kind,
                    "value": receipt.value,
                    "post_url": receipt.post_url,
                    "now": change.now_db,
                },
            )
            if stored.rowcount != 1:
                return  # the same receipt was already kept
            change.execute(LAST_POST, {"account": job.account_id, "now": change.now_db})
            evidence = receipt.extra.get("evidence_png") if receipt.extra else None
            if isinstance(evidence, bytes | bytearray) and evidence:
                change.execute(
                    INSERT_ARTIFACT,
                    {
                        "job": job.id,
                        "name": "evidence.png",
                        "content_type": "image/png",
                        "content": bytes(evidence),
                        "now": change.now_db,
                    },
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

    def last_receipt_extra(self, job_id: int, value: str) -> dict[str, Any]:
        """The extra fields the platform gave with receipt `value` (from its event)."""
        with self.db.raw_read() as raw:
            row = raw.execute(LAST_RECEIPT, (job_id,)).fetchone()
        data = json_from_db(row[0]) if row is not None else None
        if isinstance(data, dict) and data.get("value") == value:
            return dict(data.get("extra") or {})
        return {}

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
        with self.quick() as change:
            done = change.execute(
                TO_VERIFYING,
                {
                    "job": job.id,
                    "owner": self.owner,
                    "now": change.now_db,
                    "next": time_to_db(next_check),
                },
            )
            if done.rowcount != 1:
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
        with self.quick() as change:
            url = result.post_url or post_url
            done = change.execute(
                TO_PUBLISHED,
                {
                    "job": job.id,
                    "owner": self.owner,
                    "now": change.now_db,
                    "post_url": url,
                    "post_id": result.post_id,
                    "results": json_to_db(result.platform_results or None),
                    "error": mask(result.reason) if result.reason else None,
                },
            )
            if done.rowcount != 1:
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
            campaign_done(change, job)

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
        campaign_done(change, job)

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


def error_summary(error: PublishError) -> str:
    parts = [error.reason]
    if error.code and error.code not in error.reason:
        parts.append(f"[{error.code}]")
    if error.log_id:
        parts.append(f"(log_id {error.log_id})")
    return " ".join(parts)


def campaign_done(change: Transition, job: JobLike) -> None:
    """After `job` reached a final state: complete its campaign if nothing is left open."""
    if job.campaign_id is None:
        return
    row = change.execute(CAMPAIGN_STATUS, (job.campaign_id,)).fetchone()
    if row is None or row[1] not in (CampaignStatus.RUNNING, CampaignStatus.PAUSED):
        return
    (open_jobs,) = change.execute(CAMPAIGN_OPEN_JOBS, (job.campaign_id,)).fetchone()
    if open_jobs == 0:
        change.execute(CAMPAIGN_COMPLETED, (change.now_db, job.campaign_id))
        change.announce(
            EventKind.CAMPAIGN,
            f"campaign {row[0]!r} completed",
            campaign_id=job.campaign_id,
            status=CampaignStatus.COMPLETED.value,
        )
