"""The engine's moves of jobs, each in its own write transaction.

Every status change goes through the job life cycle (`domain/lifecycle.py`): this module
only says which move the engine (or reconciliation, or the operator's hand-off) makes,
with what reason, and announces the engine events once the transaction has committed.
Moves made by a worker apply only while this engine still holds the job's lease —
except the receipt, which is the platform's word and is kept whatever happens.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from ..domain.events import EngineEvents, EventKind
from ..domain.lifecycle import TABLE, Actor, Change, JobRef, JobState
from ..logs import get_logger, mask
from ..routes.base import CheckResult, PublishError, Receipt, UploadPlan
from ..store import statements as sql
from ..store.db import Database
from ..store.enums import AccountStatus, JobStatus
from .clock import Clock
from .config import EngineConfig
from .leases import LeaseOwner, owner_is_dead
from .records import JobRecord

log = get_logger("engine")


class LostUpload(Exception):
    """Another process took this job's upload over: stop sending its bytes."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"job {job_id}: another process took the upload over")
        self.job_id = job_id

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


class Ledger:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        owner: str,
        config: EngineConfig,
        events: EngineEvents,
        actor: Actor = Actor.ENGINE,
    ) -> None:
        self.db = db
        self.clock = clock
        self.owner = owner
        self.config = config
        self.events = events
        # who makes the moves of this ledger (the operator's hand-off has its own)
        self.actor = actor
        # told of every status check this ledger plans (the engine's dispatch hint)
        self.on_verifying: Callable[[datetime], None] | None = None

    def acting(self, actor: Actor) -> Ledger:
        """This ledger (same owner, same hint), making its moves as `actor`."""
        other = copy.copy(self)
        other.actor = actor
        return other

    @contextmanager
    def change(self) -> Iterator[Change]:
        """A write transaction; its engine events are emitted once it has committed."""
        with self.db.transaction() as tx:
            change = Change(tx, self.clock.now())
            yield change
        self.announce(change)

    def announce(self, change: Change) -> None:
        """Emit a committed change's engine events."""
        for event in change.events:
            self.events.emit(event, masked=True)  # the life cycle masked every message

    def held(self, job: JobRecord) -> bool:
        return job.lease_owner == self.owner

    @staticmethod
    def _known(job: JobRef) -> int | JobState:
        """A worker's record is the job as it last read or moved it (the write applies
        only if the job is still so); anything else is read afresh."""
        return job.state() if isinstance(job, JobRecord) else job.id

    def move(
        self,
        change: Change,
        job: int | JobState,
        name: str,
        message: str,
        *,
        actor: Actor | None = None,
        **values: Any,
    ) -> JobState | None:
        return change.move(
            job,
            name,
            actor or self.actor,
            message,
            owner=self.owner,
            lease_seconds=self.config.lease_seconds,
            **values,
        )

    # --- the publishing path ------------------------------------------------------------
    def start_submit(self, job: JobRecord) -> JobRecord | None:
        """claimed → submitting, one attempt more. None if the job is no longer ours."""
        with self.change() as change:
            attempt = job.attempts + 1
            moved = self.move(
                change,
                # the worker just read it: the write applies only if it is still so
                job.state(),
                "submit",
                f"attempt {attempt} of {job.max_attempts} on route {job.route}",
                data={"attempt": attempt, "route": job.route},
            )
        if moved is None:
            return None
        return job.but(attempts=moved.attempts, status=moved.status)

    def record_receipt(
        self, job: JobRecord, receipt: Receipt, actor: Actor | None = None
    ) -> JobRecord:
        """Keep the platform's receipt at once — before anything else happens — with the
        plan of the upload it opened (`receipt.upload`), in the same transaction. Kept
        even if this engine's lease lapsed: it is the platform's word. The same receipt
        again with its upload's progress records the acknowledged chunks. Returns the
        job as it is now (submitted, when it was claimed or submitting as `job` says)."""
        if receipt.upload is not None and job.receipt == receipt.value:
            self.upload_progress(job.id, receipt.value, receipt.upload)
            return job
        with self.change() as change:
            data: dict[str, Any] = {
                k: v
                for k, v in (receipt.extra or {}).items()
                if isinstance(v, str | int | float | bool) or v is None
            }
            plan = receipt.upload
            message = None
            if plan is not None:
                data["upload"] = {
                    "bytes": plan.total_bytes,
                    "chunk_size": plan.chunk_size,
                    "chunks": plan.chunk_count,
                }
                message = plan.note
            kept = change.receipt(
                job,
                actor or self.actor,
                receipt.kind,
                receipt.value,
                receipt.post_url,
                {"kind": receipt.kind, "value": receipt.value, "post_url": receipt.post_url}
                | {"extra": data},
                message=message,
            )
            if not kept:
                return job  # the same receipt was already kept
            if plan is not None:
                self._open_upload(change, job.id, receipt.value, plan)
            evidence = receipt.extra.get("evidence_png") if receipt.extra else None
            if isinstance(evidence, bytes | bytearray) and evidence:
                change.tx.run(
                    sql.INSERT_ARTIFACT,
                    job=job.id,
                    name="evidence.png",
                    content_type="image/png",
                    content=bytes(evidence),
                    now=change.now,
                )
        moved = job.status in TABLE["receipt"].sources
        return job.but(
            status=JobStatus.SUBMITTED.value if moved else job.status,
            receipt_kind=receipt.kind,
            receipt=receipt.value,
            post_url=receipt.post_url or job.post_url,
            submitted_at=change.now,
        )

    # --- resumable uploads ----------------------------------------------------------------
    def _open_upload(self, change: Change, job_id: int, receipt: str, plan: UploadPlan) -> None:
        """The job's upload is now this one (a fresh publish replaces an abandoned one,
        whose count is kept for the job's details)."""
        before = change.tx.run(sql.UPLOAD_OF, job=job_id).first()
        abandoned = 0
        if before is not None:
            abandoned = before.abandoned + (0 if before.receipt == receipt else 1)
        change.tx.run(sql.UPLOAD_FORGET, job=job_id)
        change.tx.run(
            sql.UPLOAD_OPEN,
            job=job_id,
            receipt=receipt,
            owner=self.owner,
            url=plan.url,
            expires_at=datetime.fromtimestamp(plan.expires_at, UTC),
            total_bytes=plan.total_bytes,
            chunk_size=plan.chunk_size,
            chunk_count=plan.chunk_count,
            chunks_acked=plan.chunks_acked,
            bytes_acked=plan.bytes_acked,
            resumes=plan.resumes,
            abandoned=abandoned,
            now=change.now,
        )

    def upload_progress(self, job_id: int, receipt: str, plan: UploadPlan) -> None:
        """The platform acknowledged chunks of the job's upload (one transaction per
        chunk: what a crash right after it leaves is what the platform has). The URL is
        forgotten once the upload is complete; a `note` goes into the job's history.
        Raises LostUpload when another process took the upload over (this one's lease
        ran out, say after a long suspend): this sender must stop at once."""
        with self.change() as change:
            done = change.tx.run(
                sql.UPLOAD_ACK,
                job=job_id,
                receipt=receipt,
                owner=self.owner,
                chunks_acked=plan.chunks_acked,
                bytes_acked=plan.bytes_acked,
                resumes=plan.resumes,
                complete=plan.complete,
                now=change.now,
            )
            if done.rowcount != 1:
                raise LostUpload(job_id)
            if plan.note:
                state = change.state(job_id)
                if state is not None:
                    change.note(
                        state,
                        EventKind.UPLOAD,
                        plan.note,
                        {"chunks_acked": plan.chunks_acked, "bytes_acked": plan.bytes_acked},
                    )

    def upload_of(self, job_id: int, receipt: str | None) -> UploadPlan | None:
        """The stored plan of the upload that receipt `receipt` opened, if any."""
        if receipt is None:
            return None
        with self.db.reading() as tx:
            row = tx.run(sql.UPLOAD_OF, job=job_id).first()
        if row is None or row.receipt != receipt:
            return None
        return UploadPlan(
            url=row.url,
            expires_at=row.expires_at.timestamp(),
            total_bytes=row.total_bytes,
            chunk_size=row.chunk_size,
            chunk_count=row.chunk_count,
            chunks_acked=row.chunks_acked,
            bytes_acked=row.bytes_acked,
            resumes=row.resumes,
        )

    def take_upload(self, job_id: int, receipt: str) -> str | None:
        """Become the sender of the job's upload; None when that is safe, else why not.
        Safe: no plan was kept (nobody can be sending), the holder is this engine or a
        process that is gone, or the URL's hour is over (nobody can send any more).
        Otherwise another process may still be sending — possibly only its lease ran
        out (a long suspend) — and two senders could end in two posts."""
        me = LeaseOwner.parse(self.owner)
        with self.change() as change:
            row = change.tx.run(sql.UPLOAD_OF, job=job_id).first()
            if row is None or row.receipt != receipt:
                return None
            holder = row.holder
            gone = (
                holder is None
                or holder == self.owner
                or (me is not None and owner_is_dead(holder, me))
                or row.expires_at <= change.now
            )
            if not gone:
                return f"another process ({holder}) may still be sending it"
            change.tx.run(
                sql.UPLOAD_TAKE,
                job=job_id,
                receipt=receipt,
                holder=holder,
                owner=self.owner,
                now=change.now,
            )
        return None

    def resume_upload(self, job: JobRecord, message: str) -> JobRecord | None:
        """verifying → submitted, lease renewed: the platform holds an upload of this
        job that nobody is sending, and this worker continues it."""
        with self.change() as change:
            moved = self.move(change, job.state(), "resume_upload", message)
        if moved is None:
            return None
        return job.but(status=moved.status)

    def last_receipt_extra(self, job_id: int, value: str) -> dict[str, Any]:
        """The extra fields the platform gave with receipt `value` (from its event)."""
        with self.db.reading() as tx:
            row = tx.run(sql.LAST_RECEIPT, job=job_id).first()
        data = row.data if row is not None else None
        if isinstance(data, dict) and data.get("value") == value:
            return dict(data.get("extra") or {})
        return {}

    def verifying(
        self,
        job: JobRef,
        next_check: datetime,
        note: str | None = None,
        *,
        first: bool = True,
        actor: Actor | None = None,
    ) -> None:
        """Waiting for the platform: release the lease, check again at `next_check`.
        `first`: the job just arrived here (its history says so once)."""
        with self.change() as change:
            moved = self.move(
                change,
                self._known(job),
                "verify",
                note or f"the platform is processing it; next check {next_check.isoformat()}",
                actor=actor,
                next_at=next_check,
                persist=first or note is not None,
                announce=first or note is not None,
            )
            if moved is not None and self.on_verifying is not None:
                self.on_verifying(next_check)

    def published(self, job: JobRef, result: CheckResult, post_url: str | None = None) -> None:
        url = result.post_url or post_url
        message = url or "published"
        if result.reason:
            message += f" ({result.reason})"
        with self.change() as change:
            self.move(
                change,
                self._known(job),
                "publish",
                message,
                data={"post_url": url, "post_id": result.post_id},
                post_url=url,
                post_id=result.post_id,
                results=result.platform_results or None,
                error=mask(result.reason) if result.reason else None,
            )

    def retry(
        self, job_id: int, reason: str, delay: float, *, code: str | None = None
    ) -> datetime | None:
        """A transient failure: try again after `delay` seconds (a new submit)."""
        with self.change() as change:
            state = change.state(job_id)
            if state is None:
                return None
            at = change.now + timedelta(seconds=delay)
            moved = self.move(
                change,
                state,
                "retry",
                f"{reason}; attempt {state.attempts + 1} of {state.max_attempts} at {at.isoformat()}",
                data={
                    "delay_seconds": round(delay, 3),
                    "code": code,
                    "next_attempt_at": at.isoformat(),
                },
                next_at=at,
                reason=mask(reason),
            )
        return at if moved is not None else None

    def failed(self, job_id: int, reason: str, *, code: str | None = None) -> None:
        with self.change() as change:
            self.move(change, job_id, "fail", reason, data={"code": code}, reason=mask(reason))

    def attention(
        self,
        job_id: int,
        reason: str,
        *,
        code: str | None = None,
        account_reason: str | None = None,
        actor: Actor | None = None,
    ) -> None:
        """A person must look: the job (and, with account_reason, its account) waits."""
        with self.change() as change:
            moved = self.move(
                change,
                job_id,
                "attention",
                reason,
                actor=actor,
                data={"code": code},
                reason=mask(reason),
            )
            if moved is not None and account_reason:
                change.account_status(
                    moved.account_id, AccountStatus.NEEDS_ATTENTION, account_reason
                )

    def flag_not_ready(self, job_id: int, reason: str, *, account_reason: str | None) -> bool:
        """The readiness check failed: a job not yet running waits for a person (and
        its account, when the problem is the account's)."""
        with self.change() as change:
            state = change.state(job_id)
            if state is None or state.lease_owner is not None:
                return False
            if state.status not in TABLE["hold_for_operator"].sources:
                return False
            moved = change.move(
                state,
                "hold_for_operator",
                self.actor,
                reason,
                data={"code": "not_ready"},
                reason=mask(reason),
            )
            if moved is not None and account_reason:
                change.account_status(
                    moved.account_id, AccountStatus.NEEDS_ATTENTION, account_reason
                )
            return moved is not None

    def fallback(self, job_id: int, new_route: str, reason: str) -> None:
        """The route certainly did not post: the same job goes to the next route."""
        with self.change() as change:
            state = change.state(job_id)
            if state is None:
                return
            if state.receipt is not None:
                # the route says nothing went out, yet it gave a receipt: not on a guess
                why = (
                    f"{state.route} said nothing was posted ({reason}) after giving receipt "
                    f"{state.receipt}; look at the account before retrying"
                )
                self.move(
                    change,
                    state,
                    "attention",
                    why,
                    data={"code": "unknown_outcome"},
                    reason=mask(why),
                )
                return
            self.move(
                change,
                state,
                "fallback",
                f"{state.route} did not post it ({reason}); trying {new_route}",
                data={"from": state.route, "to": new_route},
                route=new_route,
                reason=mask(reason),
            )

    def park(
        self,
        job_id: int,
        status: str | None,
        message: str,
        *,
        due_now: bool = False,
        actor: Actor | None = None,
    ) -> None:
        """Give a job back with `status` and no lease (engine stopping, reconciliation).
        `status` None: the one it has now. `due_now`: it runs at once, not as a missed
        schedule."""
        with self.change() as change:
            state = change.state(job_id)
            if state is None:
                return
            status = status or state.status
            self.move(
                change,
                state,
                "release"
                if status == state.status
                else "requeue_unsent"
                if state.status == JobStatus.SUBMITTING
                else "requeue",
                message,
                actor=actor,
                to=JobStatus(status),
                next_at=change.now if due_now else None,
            )

    def artifacts(self, job_id: int, artifacts: dict[str, bytes]) -> None:
        if not artifacts:
            return
        with self.db.transaction() as tx:
            now = self.clock.now()
            for name, content in artifacts.items():
                if not isinstance(content, bytes | bytearray):
                    continue
                tx.run(
                    sql.INSERT_ARTIFACT,
                    job=job_id,
                    name=name[:200],
                    content_type=content_type_for(name),
                    content=bytes(content),
                    now=now,
                )

    # --- accounts ------------------------------------------------------------------------
    def account_status(
        self, account_id: int, status: str, reason: str, seconds: float | None = None
    ) -> None:
        target = ACCOUNT_STATUS_FROM_ERROR.get(status)
        if target is None:
            log.warning("unknown account status %r from a publisher; ignored", status)
            return
        with self.change() as change:
            change.account_status(
                account_id,
                target,
                reason,
                cooldown_seconds=seconds if seconds else self.config.default_cooldown_seconds,
            )


def error_summary(error: PublishError) -> str:
    parts = [error.reason]
    if error.code and error.code not in error.reason:
        parts.append(f"[{error.code}]")
    if error.log_id:
        parts.append(f"(log_id {error.log_id})")
    return " ".join(parts)
