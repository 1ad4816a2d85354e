"""Running one claimed job on a worker thread: a publish attempt or a status check.

publish: preflight (the file is there, unchanged in size) → submitting (one attempt
more) → `publisher.submit`, whose receipt is committed the moment it arrives → a first
status check right away → published, or verifying with the next check planned (the
worker is freed; the check is claimed again when due).

Errors, by what the publisher says (PublishError):
- certainly_not_posted and not worth retrying on this route → the account's next route
  (`account.routes`), if there is one — never after an unknown outcome;
- needs_attention → the operator; retryable → again after base·2^(n-1)·(1+jitter) until
  `max_attempts`; anything else → failed with the platform's reason;
- account_status → the account cools down (until a time) or needs a new login.
"""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from datetime import datetime, timedelta

from ..domain.events import EngineEvent, EngineEvents, EventKind
from ..domain.session_leases import SESSION_WAIT, SessionLeases
from ..logs import get_logger
from ..routes.base import (
    CheckResult,
    CheckState,
    Publisher,
    PublishError,
    PublishRequest,
    Receipt,
)
from ..store.db import Database
from ..store.enums import AccountStatus, JobStatus
from .clock import Clock
from .config import EngineConfig
from .dispatch import Work
from .ledger import Ledger, LostUpload, error_summary
from .publishers import PublisherFactory
from .records import AccountRecord, JobRecord, LoadedJob, load_job

log = get_logger("engine")


def retry_delay(
    attempt: int,
    base: float,
    *,
    jitter: float = 0.25,
    rng: random.Random | None = None,
    retry_after: float | None = None,
) -> float:
    """Exponential backoff with jitter: base·2^(attempt-1)·(1 + jitter·U[0,1))."""
    rng = rng or random.Random()
    delay = base * (2.0 ** max(attempt - 1, 0)) * (1.0 + jitter * rng.random())
    return max(delay, retry_after or 0.0)


def next_route(routes: list[str] | None, current: str) -> str | None:
    """The route after `current` in the account's order of preference."""
    routes = list(routes or [])
    if current not in routes:
        return None
    index = routes.index(current)
    return routes[index + 1] if index + 1 < len(routes) else None


def media_problem(request: PublishRequest) -> str | None:
    """Cheap preflight before any upload; the readiness check also compares sha256."""
    if request.options.source == "url" or request.photos:  # photos: readiness checks each
        return None
    try:
        size = request.media_path.stat().st_size
    except OSError:
        return f"the video file is missing: {request.media_path}"
    if size != request.media_size:
        return f"the video file changed since it was added (size {size} != {request.media_size})"
    return None


class JobRunner:
    def __init__(
        self,
        db: Database,
        ledger: Ledger,
        factory: PublisherFactory,
        clock: Clock,
        config: EngineConfig,
        events: EngineEvents,
        stopping: threading.Event,
        rng: random.Random | None = None,
    ) -> None:
        self.db = db
        self.ledger = ledger
        self.factory = factory
        self.clock = clock
        self.config = config
        self.events = events
        self.stopping = stopping
        self.rng = rng or random.Random()
        self._check_failures: dict[int, int] = {}
        self._lock = threading.Lock()

    # --- entry ------------------------------------------------------------------------------
    def run(self, work: Work) -> None:
        try:
            if work.kind == "check":
                self.check(work)
            else:
                self.publish(work)
        except Exception as exc:  # a bug or a database error: never guess about a post
            log.exception("job %s: unexpected error", work.job_id)
            self._unexpected(work, exc)

    def _unexpected(self, work: Work, exc: Exception) -> None:
        try:
            self.ledger.attention(
                work.job_id,
                f"internal error while {'checking' if work.kind == 'check' else 'posting'}: "
                f"{type(exc).__name__}: {exc}; look at the account before retrying",
                code="internal_error",
            )
        except Exception:
            log.exception("job %s: could not record the internal error", work.job_id)

    def load(self, job_id: int) -> LoadedJob | None:
        """The job with its account (and proxy) and media, in one query."""
        with self.db.reading() as tx:
            return load_job(tx, job_id)

    # --- publishing -------------------------------------------------------------------------
    def publish(self, work: Work) -> None:
        loaded = self.load(work.job_id)
        if loaded is None:
            return
        job, account, media = loaded.job, loaded.account, loaded.media
        if not self.ledger.held(job) or job.status != JobStatus.CLAIMED:
            return
        if self.stopping.is_set():
            self.ledger.park(job.id, work.previous_status, "engine stopping; back in the queue")
            return
        request = self.factory.request_for(job, account, media)
        problem = media_problem(request)
        if problem:
            self.ledger.attention(job.id, problem, code="media")
            return
        try:
            publisher = self.factory.get(job.route)
        except PublishError as exc:
            self.error(job, account, exc)
            return
        if self._session_elsewhere(job, account, work):
            return
        started = self.ledger.start_submit(job)
        if started is None:
            return
        self.send(started, account, request, publisher)

    def _session_elsewhere(self, job: JobRecord, account: AccountRecord, work: Work) -> bool:
        """Another desktop has the account's browser session open: the job waits (back
        in the queue, no attempt spent) and is tried again a little later."""
        spec = self.factory.routes.find(job.route)
        if spec is None or not spec.browser_session:
            return False
        holder = SessionLeases(self.db).holder(account.id)
        if holder is None:
            return False
        self.ledger.park(
            job.id,
            work.previous_status,
            f"{holder.line(account.username)}; tried again in {SESSION_WAIT:.0f} s",
            later=SESSION_WAIT,
        )
        return True

    def send(
        self,
        job: JobRecord,
        account: AccountRecord,
        request: PublishRequest,
        publisher: Publisher,
    ) -> None:
        """`publisher.submit`, each receipt (and its upload's progress) committed the
        moment it arrives, then the first status check. `job` is submitting (a new
        attempt) or submitted (an upload continued after a crash)."""
        receipts: list[Receipt] = []
        current = job  # the job as this worker last moved it

        def on_receipt(receipt: Receipt) -> None:
            nonlocal current
            current = self.ledger.record_receipt(current, receipt)
            receipts.append(receipt)

        def on_progress(stage: str, fraction: float | None) -> None:
            self.events.emit(
                EngineEvent(
                    kind=EventKind.PROGRESS,
                    message=stage if fraction is None else f"{stage} {fraction:.0%}",
                    job_id=job.id,
                    status=current.status,
                    timestamp=self.clock.now(),
                    account_id=job.account_id,
                    campaign_id=job.campaign_id,
                    data={"stage": stage, "fraction": fraction},
                )
            )

        try:
            receipt = publisher.submit(request, on_receipt, on_progress)
        except LostUpload:
            log.warning("job %s: another process took its upload over; this one stops", job.id)
            return
        except PublishError as exc:
            opened = request.resume is not None or any(r.upload for r in receipts)
            if opened and exc.retryable and not exc.needs_attention:
                # bytes may have reached the platform under this receipt: never a new
                # attempt on a guess; the status check continues the same upload, or
                # publishes afresh once the platform says it is short
                self.ledger.verifying(
                    current,
                    self.clock.now() + timedelta(seconds=self.config.check_seconds),
                    f"the upload was interrupted ({error_summary(exc)}); its status decides",
                )
                return
            self.error(current, account, exc)
            return
        except Exception as exc:
            log.exception("job %s: publisher failed unexpectedly", job.id)
            self.ledger.attention(
                job.id,
                f"outcome unknown: the {job.route} route failed unexpectedly while posting "
                f"({type(exc).__name__}: {exc}); look at the account before retrying",
                code="unknown_outcome",
            )
            return
        if not receipts or receipts[-1] != receipt:
            on_receipt(receipt)
        if self.stopping.is_set():
            self.ledger.verifying(
                current, self.clock.now(), "engine stopping; status checks resume at the next start"
            )
            return
        self.follow(current, replace(request, resume=None), receipt, publisher, sent=True)

    def error(self, job: JobRecord, account: AccountRecord, exc: PublishError) -> None:
        self.ledger.artifacts(job.id, exc.artifacts)
        reason = error_summary(exc)
        attempts = job.attempts
        worth_retrying = exc.retryable and attempts < job.max_attempts
        fallback = None
        if exc.certainly_not_posted and not worth_retrying and exc.account_status != "cooldown":
            fallback = next_route(account.routes, job.route)
        if fallback is not None:
            if exc.account_status or exc.needs_attention:
                # the route's own problem (e.g. its login): tell the operator, post anyway
                self.events.emit(
                    EngineEvent(
                        kind=EventKind.WARNING,
                        message=f"@{account.username} on {job.route}: {reason}",
                        job_id=job.id,
                        timestamp=self.clock.now(),
                        account_id=account.id,
                        data={"code": exc.code, "route": job.route},
                    )
                )
            self.ledger.fallback(job.id, fallback, reason)
            return
        if exc.account_status:
            self.ledger.account_status(account.id, exc.account_status, reason, exc.cooldown_seconds)
        if exc.needs_attention:
            self.ledger.attention(job.id, reason, code=exc.code)
        elif worth_retrying:
            delay = retry_delay(
                max(attempts, 1),
                self.config.retry_base_seconds,
                jitter=self.config.jitter,
                rng=self.rng,
                retry_after=exc.retry_after,
            )
            self.ledger.retry(job.id, reason, delay, code=exc.code)
        elif exc.retryable:
            self.ledger.failed(
                job.id, f"gave up after {attempts} attempts: {reason}", code=exc.code
            )
        else:
            self.ledger.failed(job.id, reason, code=exc.code)

    # --- status checks ----------------------------------------------------------------------
    def check(self, work: Work) -> None:
        loaded = self.load(work.job_id)
        if loaded is None:
            return
        job, account, media = loaded.job, loaded.account, loaded.media
        if not self.ledger.held(job) or job.status != JobStatus.VERIFYING:
            return
        if not job.receipt or not job.receipt_kind:
            self.ledger.attention(
                job.id, "waiting for a status without a receipt; look at the account"
            )
            return
        request = self.factory.request_for(job, account, media)
        try:
            publisher = self.factory.get(job.route)
        except PublishError as exc:
            self._check_failed(job, exc)
            return
        self.follow(job, request, self.stored_receipt(job), publisher, account=account)

    def stored_receipt(self, job: JobRecord) -> Receipt:
        """The receipt as the platform gave it, extra fields from its event included,
        with the plan and progress of the upload it opened, if any."""
        return Receipt(
            kind=str(job.receipt_kind),
            value=str(job.receipt),
            post_url=job.post_url,
            extra=self.ledger.last_receipt_extra(job.id, str(job.receipt)),
            upload=self.ledger.upload_of(job.id, job.receipt),
        )

    def follow(
        self,
        job: JobRecord,
        request: PublishRequest,
        receipt: Receipt,
        publisher: Publisher,
        *,
        sent: bool = False,
        account: AccountRecord | None = None,
    ) -> None:
        """The first status check right after a submission (`sent`), and every later
        one. An upload the platform holds short of its bytes is continued here: the
        job's sender died (a check runs only once a submit has returned)."""
        try:
            result = publisher.check(request, receipt)
        except PublishError as exc:
            self._check_failed(job, exc)
            return
        with self._lock:
            self._check_failures.pop(job.id, None)
        if result.state == CheckState.UPLOAD_STALLED:
            if sent or account is None:
                # this worker's own submit just returned: the platform's status lags
                result = CheckResult(CheckState.PENDING, reason=result.reason)
            else:
                self.resume(job, account, request, receipt, publisher, result)
                return
        self._apply(job, result, receipt)

    def resume(
        self,
        job: JobRecord,
        account: AccountRecord,
        request: PublishRequest,
        receipt: Receipt,
        publisher: Publisher,
        result: CheckResult,
    ) -> None:
        """Continue an upload a dead process left short (the route starts a fresh
        publish where it cannot): no attempt is spent, the lease is this worker's."""
        plan = receipt.upload
        have = result.uploaded_bytes
        if have is None and plan is not None:
            have = plan.bytes_acked
        size = plan.total_bytes if plan is not None else request.media_size
        share = f"{have / size:.0%}" if have is not None and size else "?"
        # beyond run_once's horizon: a run does not wait on what it cannot do now
        later = self.clock.now() + timedelta(seconds=max(self.config.check_seconds * 12, 120.0))
        if self.stopping.is_set():
            self.ledger.verifying(
                job, self.clock.now(), "engine stopping; resumed at the next start"
            )
            return
        if account.status != AccountStatus.ACTIVE:
            self.ledger.verifying(
                job, later, f"the upload stopped at {share}; it resumes once the account is active"
            )
            return
        changed = media_problem(request)
        if changed is None and plan is not None and request.media_size != plan.total_bytes:
            changed = (
                f"the video file is {request.media_size} bytes; its upload began with "
                f"{plan.total_bytes}"
            )
        if changed:
            self.ledger.attention(
                job.id, f"{changed}: its upload cannot be finished with other bytes", code="media"
            )
            return
        busy = self.ledger.take_upload(job.id, receipt.value)
        if busy:
            self.ledger.verifying(job, later, f"the upload stopped at {share}, but {busy}")
            return
        moved = self.ledger.resume_upload(
            job, f"the upload stopped at {share} and nobody is sending it (its process died)"
        )
        if moved is None:
            return
        self.send(moved, account, replace(request, resume=receipt), publisher)

    def _check_failed(self, job: JobRecord, exc: PublishError) -> None:
        if not exc.retryable:
            self.ledger.attention(
                job.id,
                f"cannot tell where the post stands: {error_summary(exc)}",
                code=exc.code,
            )
            return
        with self._lock:
            failures = self._check_failures.get(job.id, 0) + 1
            self._check_failures[job.id] = failures
        wait = min(self.config.check_seconds * (2 ** (failures - 1)), 900.0)
        wait = max(wait, exc.retry_after or 0.0)
        if self._verify_timed_out(job):
            self.ledger.attention(
                job.id, f"no status from the platform for too long: {error_summary(exc)}"
            )
            return
        self.ledger.verifying(
            job,
            self.clock.now() + timedelta(seconds=wait),
            f"status check failed ({error_summary(exc)}); trying again in {wait:.0f}s",
            first=job.status != JobStatus.VERIFYING,
        )

    def _verify_timed_out(self, job: JobRecord) -> bool:
        since: datetime | None = job.submitted_at
        if since is None:
            return False
        return (self.clock.now() - since).total_seconds() > self.config.verify_timeout_seconds

    def _apply(self, job: JobRecord, result: CheckResult, receipt: Receipt) -> None:
        if result.state == CheckState.PENDING:
            if self._verify_timed_out(job):
                hours = self.config.verify_timeout_seconds / 3600
                self.ledger.attention(
                    job.id,
                    f"still processing on the platform after {hours:g} h; look at the account",
                    code="verify_timeout",
                )
                return
            wait = min(result.next_check_in or self.config.check_seconds, self.config.check_seconds)
            self.ledger.verifying(
                job,
                self.clock.now() + timedelta(seconds=max(wait, 0.0)),
                first=job.status != JobStatus.VERIFYING,
            )
        elif result.state == CheckState.PUBLISHED:
            self.ledger.published(job, result, receipt.post_url)
        elif result.state == CheckState.NEEDS_ATTENTION:
            self.ledger.attention(job.id, result.reason or "the platform needs a person")
        else:
            reason = result.reason or "the platform could not publish it"
            if result.account_status:
                self.ledger.account_status(job.account_id, result.account_status, reason)
            if result.retryable and job.attempts < job.max_attempts:
                delay = retry_delay(
                    max(job.attempts, 1),
                    self.config.retry_base_seconds,
                    jitter=self.config.jitter,
                    rng=self.rng,
                )
                self.ledger.retry(job.id, reason, delay)
            elif result.retryable:
                self.ledger.failed(job.id, f"gave up after {job.attempts} attempts: {reason}")
            else:
                self.ledger.failed(job.id, reason)
