"""After a crash, a kill or a lost lease: settle every job left mid-flight.

Runs at start-up and on every tick. A job is taken for reconciliation when its lease ran
out, when the process holding it is gone (same host, pid no longer alive), or when it is
in flight without any lease. Then, by what we know:

- claimed (nothing sent yet) → back in the queue as it was;
- a receipt is stored → status checks resume (verifying, due now);
- submitting without a receipt → the route says what it can be certain of
  (`publisher.reconcile`: by the job's idempotency key, its page, or its protocol —
  TikTok's FILE_UPLOAD cannot go live without the upload URL the lost answer held), and
  the life cycle's `AFTER_CRASH` applies it: found → its receipt, checks resume;
  certainly not posted → back in the queue at once, with the route's reason; the route
  cannot tell → needs_attention ("outcome unknown after a crash"). Nothing is ever
  posted a second time on a guess.

An upload left short by the crash (a receipt whose plan has chunks to go) resumes
through its status check: the route answers UPLOAD_STALLED and the runner continues it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.events import EventKind
from ..domain.lifecycle import AFTER_CRASH, Actor, JobState
from ..logs import get_logger
from ..routes.base import NotPosted, PublishError, Receipt
from ..store import statements as sql
from ..store.enums import JobStatus
from .leases import LeaseOwner, holder_is_live
from .ledger import Ledger, error_summary
from .publishers import PublisherFactory
from .records import load_job

log = get_logger("engine")


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
    with ledger.change() as change:
        now = change.now
        for row in change.tx.run(sql.ORPHANS, owner=owner):
            holder, expires = row.lease_owner, row.lease_expires_at
            if holder is None and row.status == JobStatus.VERIFYING:
                continue  # waiting for its next check: nothing to settle
            if holder_is_live(holder, expires, me, now):
                continue
            state = JobState(
                row.id, row.status, row.account_id, row.campaign_id, row.route, holder,
                expires, row.attempts, row.max_attempts, row.receipt, row.submitted_at,
            )  # fmt: skip
            adopted = change.move(
                state,
                "adopt",
                Actor.RECONCILIATION,
                f"taken by {owner} to settle",
                owner=owner,
                lease_seconds=ledger.config.lease_seconds,
                announce=False,
            )
            if adopted is not None:
                taken.append(Orphan(row.id, row.status, bool(row.receipt), row.attempts, holder))
    return taken


def settle(ledger: Ledger, factory: PublisherFactory, orphan: Orphan) -> str:
    """Decide one orphan's fate; returns what became of it (for the summary). `ledger`
    makes its moves as reconciliation."""
    now = ledger.clock.now()
    was = f"left {orphan.status} by {orphan.previous_owner or 'no process'}"
    if orphan.status == JobStatus.CLAIMED:
        back = JobStatus.RETRYING.value if orphan.attempts else JobStatus.QUEUED.value
        ledger.park(
            orphan.job_id, back, f"{was} before anything was sent; back in the queue", due_now=True
        )
        return "requeued"
    if orphan.status == JobStatus.VERIFYING or orphan.has_receipt:
        with ledger.db.reading() as tx:
            found = load_job(tx, orphan.job_id)
        if found is None:
            return "gone"
        ledger.verifying(found.job, now, f"{was}; its receipt is kept, status checks resume")
        return "resumed"
    # submitting (or submitted) without a receipt: only the platform knows
    with ledger.db.reading() as tx:
        loaded = load_job(tx, orphan.job_id)
    if loaded is None:
        return "gone"
    job = loaded.job
    request = factory.request_for(job, loaded.account, loaded.media)
    answer: Receipt | NotPosted | PublishError | None
    try:
        publisher = factory.get(job.route)
        answer = publisher.reconcile(request)
    except PublishError as exc:
        if exc.retryable and not exc.needs_attention:
            ledger.park(
                orphan.job_id,
                orphan.status,
                f"{was}; the platform cannot be asked right now ({error_summary(exc)}), "
                "asking again later",
            )
            return "deferred"
        answer = exc
    kind = (
        "found"
        if isinstance(answer, Receipt)
        else "unknown"
        if isinstance(answer, PublishError)
        else "not_posted"
    )
    move = AFTER_CRASH[kind]
    if move == "verify" and isinstance(answer, Receipt):
        job = ledger.record_receipt(job, answer)
        ledger.verifying(job, now, f"{was}; the platform has it, status checks resume")
        return "found"
    if move == "requeue_unsent" and not isinstance(answer, PublishError | Receipt):
        why = answer.why if answer is not None else "the platform certainly has nothing under its key"
        # the move gives back the attempt the platform never saw
        back = JobStatus.RETRYING.value if orphan.attempts > 1 else JobStatus.QUEUED.value
        ledger.park(orphan.job_id, back, f"{was}; {why}, so it is posted again", due_now=True)
        return "requeued"
    reason = error_summary(answer) if isinstance(answer, PublishError) else "no certain answer"
    ledger.attention(
        orphan.job_id, f"outcome unknown after a crash ({was}): {reason}", code="unknown_outcome"
    )
    return "attention"


def reconcile(ledger: Ledger, factory: PublisherFactory, me: LeaseOwner) -> dict[str, list[int]]:
    ledger = ledger.acting(Actor.RECONCILIATION)
    outcome: dict[str, list[int]] = {}
    for orphan in take_orphans(ledger, me):
        try:
            result = settle(ledger, factory, orphan)
        except Exception:
            log.exception("job %s: reconciliation failed; releasing it", orphan.job_id)
            # as it is now: settling may have moved it (a receipt kept) before failing
            ledger.park(orphan.job_id, None, "reconciliation failed; will try again")
            result = "deferred"
        outcome.setdefault(result, []).append(orphan.job_id)
    if outcome:
        with ledger.change() as change:
            change.announce(
                EventKind.RECONCILED,
                "settled jobs left mid-flight: "
                + ", ".join(f"{len(ids)} {what}" for what, ids in sorted(outcome.items())),
                data={k: v for k, v in outcome.items()},
            )
    return outcome
