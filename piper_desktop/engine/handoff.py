"""The operator's "resolve" of a job stopped by a captcha or a login, on a route that
offers a hand-off (`RouteSpec.handoff`: the web route's visible browser window).

One path for the CLI (`piper browser open ACCOUNT --job ID`) and the GUI: the job is
claimed with a lease (so no `piper run` elsewhere runs it meanwhile) and counted as an
attempt, the account's window opens on the upload page with the job's form filled as far
as the site lets, the operator solves what blocked it, and then the publisher carries on
in that window — or, the window gone, looks at the content page and publishes anew only
when it is certain nothing went out. The receipt and every status after it go through the
same ledger and runner code as an engine run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from ..domain.errors import Conflict, NotFound, ValidationError
from ..domain.events import EngineEvents
from ..domain.leases import LeaseOwner
from ..domain.lifecycle import Actor
from ..domain.services import Services
from ..logs import get_logger
from ..routes.base import Publisher, PublishError, Receipt
from ..routes.spec import Handoff, OperatorHandoff
from ..store import statements as sql
from ..store.enums import JobStatus
from .clock import SystemClock
from .config import EngineConfig
from .ledger import Ledger
from .publishers import PublisherFactory
from .runner import JobRunner

log = get_logger("engine")


def resolve_job(
    services: Services,
    job_id: int,
    *,
    wait_for_operator: Callable[[Handoff], None],
    factory: PublisherFactory | None = None,
    events: EngineEvents | None = None,
) -> dict[str, Any]:
    """Hand a job that needs attention to the operator, then finish it.

    `wait_for_operator(handoff)` returns when the operator is done (the Handoff's window
    may still be open, or closed). Returns the job's id, final status and post URL."""
    events = events or services.events
    clock = SystemClock()
    config = EngineConfig.from_settings(services.settings)
    owner = str(LeaseOwner.new(getattr(services.db, "desktop_id", None)))
    # the operator's moves: the hand-off itself, and what the publisher finds after it
    ledger = Ledger(services.db, clock, owner, config, events, Actor.OPERATOR)
    own_factory = factory is None
    factory = factory or PublisherFactory(services, clock)
    runner = JobRunner(services.db, ledger, factory, clock, config, events, threading.Event())
    try:
        _offers_handoff(services, factory, job_id)
        _take(ledger, job_id, owner, config)
        # the operator may take longer than a lease: keep it, as the engine does its own
        with _LeaseKeeper(ledger, job_id, config):
            _run(runner, ledger, factory, job_id, wait_for_operator)
    finally:
        if own_factory:
            factory.close()
    job = services.jobs.get(job_id)
    return {"job": job.id, "status": job.status, "post_url": job.post_url}


class _LeaseKeeper:
    """Renews this job's lease every quarter lease while the operator works."""

    def __init__(self, ledger: Ledger, job_id: int, config: EngineConfig) -> None:
        self.ledger = ledger
        self.job_id = job_id
        self.seconds = config.lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="piper-resolve-lease", daemon=True)

    def __enter__(self) -> _LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(max(self.seconds / 4, 1.0)):
            try:
                now = self.ledger.clock.now()
                with self.ledger.db.transaction() as tx:
                    tx.run(
                        sql.RENEW_LEASE,
                        job=self.job_id,
                        owner=self.ledger.owner,
                        lease_end=now + timedelta(seconds=self.seconds),
                    )
            except Exception:
                log.exception("job %s: could not renew the lease", self.job_id)


def _offers_handoff(services: Services, factory: PublisherFactory, job_id: int) -> None:
    """Refuse a job whose route cannot hand a job to the operator."""
    route = services.jobs.get(job_id).route  # NotFound for an unknown job
    spec = factory.routes.find(route)
    if spec is None or spec.handoff is None:
        raise ValidationError("job", f"job {job_id} is on route {route}, which offers no hand-off")


def _take(ledger: Ledger, job_id: int, owner: str, config: EngineConfig) -> None:
    """needs_attention → claimed under our lease, or a clear refusal."""
    with ledger.change() as change:
        state = change.state(job_id)
        if state is None:
            raise NotFound("job", job_id)
        if state.status != JobStatus.NEEDS_ATTENTION.value:
            holder = f" (held by {state.lease_owner})" if state.lease_owner else ""
            raise Conflict(
                f"job {job_id} is {state.status}{holder}, not needs_attention: nothing to resolve"
            )
        taken = ledger.move(change, state, "hand_off", f"taken by the operator ({owner})",
                             data={"owner": owner})  # fmt: skip
        if taken is None:
            raise Conflict(f"job {job_id} is held by another process ({state.lease_owner})")


def _run(
    runner: JobRunner,
    ledger: Ledger,
    factory: PublisherFactory,
    job_id: int,
    wait_for_operator: Callable[[Handoff], None],
) -> None:
    loaded = runner.load(job_id)
    if loaded is None:
        return
    job, account, media = loaded.job, loaded.account, loaded.media
    request = factory.request_for(job, account, media)
    offer: OperatorHandoff | None = factory.routes.get(job.route).handoff
    assert offer is not None  # checked before the job was taken
    try:
        publisher: Publisher = factory.get(job.route)
    except PublishError as exc:
        runner.error(job, account, exc)
        return
    # from here on a post may go out (the operator can press Post in the window)
    started = ledger.start_submit(job)
    if started is None:
        return
    receipts: list[Receipt] = []

    current = started  # the job as the hand-off last moved it

    def on_receipt(receipt: Receipt) -> None:
        nonlocal current
        current = ledger.record_receipt(current, receipt)
        receipts.append(receipt)

    try:
        handoff = offer.begin(publisher, request)
        wait_for_operator(handoff)
        receipt = offer.resume(publisher, request, on_receipt, handoff)
    except PublishError as exc:
        runner.error(started, account, exc)
        return
    except BaseException as exc:
        if not receipts:
            ledger.attention(
                job.id,
                f"resolve stopped ({type(exc).__name__}: {exc}); the outcome is unknown, "
                "look at the account before retrying",
                code="unknown_outcome",
            )
        if isinstance(exc, Exception):
            log.exception("job %s: resolve failed unexpectedly", job.id)
            return
        raise
    if not receipts or receipts[-1] != receipt:
        on_receipt(receipt)
    runner.follow(current, request, receipt, publisher)


def until_window_closed(timeout: float | None = None) -> Callable[[Handoff], None]:
    """A `wait_for_operator` for callers without a prompt (the GUI): the operator is done
    when they close the window; after `timeout` seconds the window is closed for them."""

    def wait(handoff: Handoff) -> None:
        if not handoff.wait_closed(timeout):
            handoff.close()

    return wait
