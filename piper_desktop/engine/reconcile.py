"""After a crash, a kill or a lost lease: settle every job left mid-flight.

Runs at start-up and on every tick. A job is taken for reconciliation when its lease ran
out, when the process holding it is gone (same host, pid no longer alive), or when it is
in flight without any lease. Then, by what we know:

- claimed (nothing sent yet) → back in the queue as it was;
- a receipt is stored → status checks resume (verifying, due now);
- submitting without a receipt → the route is asked (`publisher.reconcile`, by the
  job's idempotency key): found → its receipt, checks resume; certainly absent → back
  in the queue; the route cannot tell → needs_attention ("outcome unknown after a
  crash"). Nothing is ever posted a second time on a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update

from ..logs import get_logger
from ..routes.base import PublishError
from ..store.enums import JobStatus
from ..store.models import Account, Job, MediaItem
from .events import EventKind
from .leases import LeaseOwner, owner_is_dead
from .ledger import JobFacts, Ledger, error_summary
from .publishers import PublisherFactory

log = get_logger("engine")

UNSETTLED = (
    JobStatus.CLAIMED.value,
    JobStatus.SUBMITTING.value,
    JobStatus.SUBMITTED.value,
    JobStatus.VERIFYING.value,
)


@dataclass(frozen=True)
class Orphan:
    job_id: int
    status: str
    has_receipt: bool
    attempts: int
    previous_owner: str | None


def take_orphans(ledger: Ledger, me: LeaseOwner) -> list[Orphan]:
    """Lease every unsettled job whose holder is gone, in one write transaction."""
    owner = str(me)
    taken: list[Orphan] = []
    with ledger.transition() as change:
        now = change.now
        rows = change.session.execute(
            select(
                Job.id,
                Job.status,
                Job.receipt,
                Job.attempts,
                Job.lease_owner,
                Job.lease_expires_at,
            ).where(
                Job.status.in_(UNSETTLED),
                or_(Job.lease_owner.is_(None), Job.lease_owner != owner),
                # a verifying job without a lease is waiting for its next check: settled
                or_(Job.status != JobStatus.VERIFYING.value, Job.lease_owner.is_not(None)),
            )
        ).all()
        for job_id, status, receipt, attempts, holder, expires in rows:
            if holder is None and status == JobStatus.VERIFYING:
                continue  # waiting for its next check: nothing to settle
            gone = holder is None or expires is None or expires < now or owner_is_dead(holder, me)
            if not gone:
                continue
            done = change.session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == status)
                .where(Job.lease_owner.is_(None) if holder is None else Job.lease_owner == holder)
                .values(
                    lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=ledger.config.lease_seconds),
                )
                .execution_options(synchronize_session=False)
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                taken.append(Orphan(job_id, status, bool(receipt), attempts, holder))
    return taken


def settle(ledger: Ledger, factory: PublisherFactory, orphan: Orphan) -> str:
    """Decide one orphan's fate; returns what became of it (for the summary)."""
    now = ledger.clock.now()
    was = f"left {orphan.status} by {orphan.previous_owner or 'no process'}"
    if orphan.status == JobStatus.CLAIMED:
        back = JobStatus.RETRYING.value if orphan.attempts else JobStatus.QUEUED.value
        ledger.park(
            orphan.job_id, back, f"{was} before anything was sent; back in the queue", due_now=True
        )
        return "requeued"
    if orphan.status == JobStatus.VERIFYING or orphan.has_receipt:
        facts = ledger.facts(orphan.job_id)
        if facts is None:
            return "gone"
        ledger.verifying(facts, now, f"{was}; its receipt is kept, status checks resume")
        return "resumed"
    # submitting (or submitted) without a receipt: only the platform knows
    with ledger.db.session() as session:
        job = session.get(Job, orphan.job_id)
        account = session.get(Account, job.account_id) if job else None
        media = session.get(MediaItem, job.media_id) if job else None
    if job is None or account is None or media is None:
        return "gone"
    request = factory.request_for(job, account, media)
    try:
        publisher = factory.get(job.route)
        receipt = publisher.reconcile(request)
    except PublishError as exc:
        if exc.retryable and not exc.needs_attention:
            ledger.park(
                orphan.job_id,
                orphan.status,
                f"{was}; the platform cannot be asked right now ({error_summary(exc)}), "
                "asking again later",
            )
            return "deferred"
        ledger.attention(
            orphan.job_id,
            f"outcome unknown after a crash ({was}): {error_summary(exc)}",
            code="unknown_outcome",
        )
        return "attention"
    if receipt is not None:
        facts = JobFacts.of(job)
        ledger.record_receipt(facts, receipt)
        ledger.verifying(facts, now, f"{was}; the platform has it, status checks resume")
        return "found"
    back = JobStatus.RETRYING.value if orphan.attempts else JobStatus.QUEUED.value
    ledger.park(
        orphan.job_id,
        back,
        f"{was}; the platform certainly has nothing under its key, so it is posted again",
        due_now=True,
    )
    return "requeued"


def reconcile(ledger: Ledger, factory: PublisherFactory, me: LeaseOwner) -> dict[str, list[int]]:
    outcome: dict[str, list[int]] = {}
    for orphan in take_orphans(ledger, me):
        try:
            result = settle(ledger, factory, orphan)
        except Exception:
            log.exception("job %s: reconciliation failed; releasing it", orphan.job_id)
            ledger.park(orphan.job_id, orphan.status, "reconciliation failed; will try again")
            result = "deferred"
        outcome.setdefault(result, []).append(orphan.job_id)
    if outcome:
        with ledger.transition() as change:
            change.announce(
                EventKind.RECONCILED,
                "settled jobs left mid-flight: "
                + ", ".join(f"{len(ids)} {what}" for what, ids in sorted(outcome.items())),
                data={k: v for k, v in outcome.items()},
            )
    return outcome
