"""The claim pass: what is due now, what may run, and taking it with a lease.

One write transaction (BEGIN IMMEDIATE, so two processes on one database take turns)
reads the due jobs, applies the per-account rules and claims what may run with an atomic
`UPDATE … WHERE status IN (queued, retrying) AND next_attempt_at <= now AND (lease free
or expired)`. Rules, in order, for each due job:

1. an account already posting (claimed / submitting / submitted) is skipped for now —
   one post at a time per account;
2. a queued job later than `grace_minutes` is a missed schedule: re-slotted, marked
   missed, or handed to the operator (see `missed_action`);
3. an account cooling down holds the job until the cooldown ends; an ended cooldown
   makes the account active again;
4. the duplicate guard (same video, same account, within the window) refuses the job;
5. the daily cap (the lower of the account's and `engine.daily_post_cap`) holds the job
   until the account's next local midnight — held back, never failed;
6. automatic (not pinned) jobs keep `min_spacing_minutes` from the account's last post;
7. per-account platform rate (TikTok: 6 post inits a minute) holds the job briefly;
8. route and global worker limits.

Held jobs get a later `next_attempt_at` (and one "held" event): no attempt is spent.
Status checks of submitted posts (`verifying` jobs whose next check is due) are claimed
in the same pass and share the worker limits.

The pass runs after every finished job, so it runs plain SQL on the DB-API connection;
the rare re-slotting of a missed job needs the ORM and follows in a transaction of its
own (`reslot_missed`), which moves a job only if it is still queued, free and due at
the time the pass saw (another process, or the operator, may have moved it since).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..domain.duplicates import POSTED_STATUSES, duplicate_message
from ..domain.policy import NO_CAPS, AccountRules, Caps, PostBook, Rule, decide
from ..domain.reslot import reslot_jobs
from ..store.enums import AccountStatus, CampaignStatus, JobStatus, MissedPolicy
from ..store.models import Account, Campaign, Job
from ..store.types import time_from_db, time_to_db
from .config import EngineConfig
from .events import EventKind
from .ledger import Ledger, Transition, campaign_done, sql_list

CLAIMABLE = (JobStatus.QUEUED.value, JobStatus.RETRYING.value)
# an account with a job in one of these is posting right now
POSTING = (JobStatus.CLAIMED.value, JobStatus.SUBMITTING.value, JobStatus.SUBMITTED.value)
RUNNABLE_ACCOUNTS = (AccountStatus.ACTIVE.value, AccountStatus.COOLDOWN.value)

LEASE_FREE = "(j.lease_owner IS NULL OR j.lease_expires_at < :now)"

# verifying jobs by next check: the due ones are claimed, the first later one tells the
# engine when to look again (so passes in between skip this query)
CHECKS = f"""
SELECT j.id, j.route, j.account_id, j.next_attempt_at FROM jobs AS j
WHERE j.status = '{JobStatus.VERIFYING.value}' AND {LEASE_FREE}
ORDER BY j.next_attempt_at, j.id LIMIT :limit
"""
CLAIM_CHECK = f"""
UPDATE jobs AS j SET lease_owner = :owner, lease_expires_at = :lease_end, updated_at = :now
WHERE j.id = :job AND j.status = '{JobStatus.VERIFYING.value}' AND j.next_attempt_at <= :now
  AND {LEASE_FREE}
"""
DUE_JOBS = f"""
SELECT j.id, j.status, j.account_id, j.campaign_id, j.media_id, j.route, j.caption,
       j.pinned_time, j.allow_duplicate, j.next_attempt_at,
       a.username, a.status, a.cooldown_until, a.timezone, a.max_posts_per_day,
       a.min_spacing_minutes, a.last_post_at,
       c.status, c.missed_policy
FROM jobs AS j
JOIN accounts AS a ON a.id = j.account_id
LEFT OUTER JOIN campaigns AS c ON c.id = j.campaign_id
WHERE a.status IN {sql_list(RUNNABLE_ACCOUNTS)}
  AND (j.campaign_id IS NULL OR c.status != '{CampaignStatus.PAUSED.value}')
  -- one status per query: the (status, next_attempt_at) index then gives the order,
  -- and LIMIT stops the scan early (with IN (...) SQLite sorts every due job)
  AND j.status = :status AND j.next_attempt_at <= :now AND {LEASE_FREE}
  -- one post at a time per account: accounts posting right now wait
  AND NOT EXISTS (SELECT 1 FROM jobs AS other
                  WHERE other.account_id = j.account_id
                    AND other.status IN {sql_list(POSTING)})
ORDER BY j.next_attempt_at, j.id LIMIT :limit
"""
RECENT_POSTS = (
    "SELECT account_id, route, submitted_at FROM jobs"
    " WHERE submitted_at >= ? AND account_id IN ({accounts})"
)
DUPLICATE = f"""
SELECT id, status, published_at, submitted_at, scheduled_at FROM jobs
WHERE account_id = :account AND media_id = :media AND id != :job
  AND status IN {sql_list(POSTED_STATUSES)}
  AND coalesce(published_at, submitted_at, scheduled_at) BETWEEN :since AND :until
ORDER BY id LIMIT 1
"""
CLAIM = f"""
UPDATE jobs AS j SET status = '{JobStatus.CLAIMED.value}', lease_owner = :owner,
       lease_expires_at = :lease_end, updated_at = :now
WHERE j.id = :job AND j.status IN {sql_list(CLAIMABLE)} AND j.next_attempt_at <= :now
  AND {LEASE_FREE}
"""
HOLD = "UPDATE jobs SET next_attempt_at = :until, updated_at = :now WHERE id = :job"
FAIL = f"""
UPDATE jobs SET status = '{JobStatus.FAILED.value}', last_error = :reason,
       next_attempt_at = NULL, updated_at = :now
WHERE id = :job
"""
TO_ATTENTION = f"""
UPDATE jobs SET status = '{JobStatus.NEEDS_ATTENTION.value}', attention_reason = :reason,
       last_error = :reason, next_attempt_at = NULL, updated_at = :now
WHERE id = :job
"""
ACCOUNT_ACTIVE = f"""
UPDATE accounts SET status = '{AccountStatus.ACTIVE.value}', status_reason = NULL,
       cooldown_until = NULL, updated_at = :now
WHERE id = :account
"""
CAPTIONS = (
    "SELECT caption, account_id, submitted_at FROM jobs WHERE submitted_at >= ? AND caption != ''"
)


@dataclass(frozen=True)
class Work:
    job_id: int
    kind: str  # "publish" or "check"
    route: str
    account_id: int
    # the status the job had before the claim (to give it back untouched when parking)
    previous_status: str


@dataclass(frozen=True)
class PostedJob:
    """The earlier job a duplicate repeats (what `duplicate_message` names)."""

    id: int
    status: str
    published_at: datetime | None
    submitted_at: datetime | None
    scheduled_at: datetime | None


@dataclass(frozen=True)
class Missed:
    """A queued job a claim pass found too late to run (and to be re-slotted)."""

    job_id: int
    due: datetime  # its next_attempt_at as the pass read it
    minutes: int  # how late


@dataclass
class PassResult:
    work: list[Work] = field(default_factory=list)
    # missed jobs to move to a later slot
    reslot: list[Missed] = field(default_factory=list)
    # due jobs left waiting for a full worker pool
    waiting: int = 0
    # the next status check not yet due (None: none known); set when checks were read
    next_check: datetime | None = None
    checks_read: bool = False


@dataclass(slots=True)
class DueJob:
    """A due job as the rules see it (with its account and campaign), from one row."""

    id: int
    status: str
    account_id: int
    campaign_id: int | None
    media_id: int
    route: str
    caption: str
    pinned_time: bool
    allow_duplicate: bool
    next_attempt_at: datetime
    username: str
    account_status: str
    cooldown_until: datetime | None
    timezone: str | None
    max_posts_per_day: int
    min_spacing_minutes: int
    last_post_at: datetime | None
    campaign_status: str | None
    missed_policy: str | None

    @classmethod
    def of(cls, row: Any) -> DueJob:
        """From a DUE_JOBS row (times and flags in their stored forms)."""
        (
            id, status, account_id, campaign_id, media_id, route, caption, pinned, allow,
            next_at, username, account_status, cooldown, zone, cap, spacing, last_post,
            campaign_status, missed_policy,
        ) = row  # fmt: skip
        return cls(
            id, status, account_id, campaign_id, media_id, route, caption, bool(pinned),
            bool(allow), time_from_db(next_at), username, account_status,  # type: ignore[arg-type]
            time_from_db(cooldown), zone, cap, spacing, time_from_db(last_post),
            campaign_status, missed_policy,
        )  # fmt: skip


def _runnable(query: Any) -> Any:
    """Only jobs whose account may post and whose campaign is not paused."""
    return (
        query.join(Account, Account.id == Job.account_id)
        .outerjoin(Campaign, Campaign.id == Job.campaign_id)
        .where(Account.status.in_(RUNNABLE_ACCOUNTS))
        .where(or_(Job.campaign_id.is_(None), Campaign.status != CampaignStatus.PAUSED.value))
    )


def next_due(session: Session, now: datetime) -> datetime | None:
    """The earliest future moment something becomes due (publishing or a status check)."""
    publish = session.scalar(
        _runnable(select(func.min(Job.next_attempt_at)).select_from(Job))
        .where(Job.status.in_(CLAIMABLE))
        .where(Job.next_attempt_at > now)
    )
    check = session.scalar(
        select(func.min(Job.next_attempt_at)).where(
            Job.status == JobStatus.VERIFYING.value, Job.next_attempt_at > now
        )
    )
    moments = [m for m in (publish, check) if m is not None]
    return min(moments) if moments else None


# the cooldown rule reads no posts
NO_POSTS = PostBook()


class AccountDay:
    """One account as the account policy (domain/policy.py) sees it in a claim pass:
    its rules, from the due job's row, and its recent posts (submitted_at), kept by
    route too for the platform's rate."""

    def __init__(self, due: DueJob, posts: list[tuple[str, datetime]]) -> None:
        self.username = due.username
        self.rules = self.rules_of(due)
        self.posts = posts
        self.book = PostBook((at for _, at in posts), due.last_post_at)

    @staticmethod
    def rules_of(due: DueJob) -> AccountRules:
        return AccountRules(
            timezone=due.timezone or "UTC",
            min_spacing_minutes=due.min_spacing_minutes or 0,
            max_posts_per_day=due.max_posts_per_day,
            # a cooldown holds only while the account is in it (see _cooling_down)
            cooldown_until=(
                due.cooldown_until if due.account_status == AccountStatus.COOLDOWN else None
            ),
            username=due.username,
        )

    def recent(self, route: str, since: datetime) -> list[datetime]:
        return sorted(at for r, at in self.posts if r == route and at > since)

    def add(self, route: str, at: datetime) -> None:
        self.posts.append((route, at))
        self.book.add(at)


def missed_action(pinned_time: bool, campaign_policy: str | None) -> str:
    """What a schedule missed by more than the grace period becomes.

    - campaign jobs follow the campaign's `missed_policy` (reslot or missed);
    - jobs the operator timed explicitly (`--at`, pinned) go to the operator: posting
      hours after the chosen moment may no longer be wanted;
    - other jobs (automatic slots) are re-slotted.
    """
    if campaign_policy is not None:
        return "missed" if campaign_policy == MissedPolicy.MISSED else "reslot"
    return "attention" if pinned_time else "reslot"


class CaptionBook:
    """Which accounts posted which caption in the last day. Read from the database at
    most once a minute (another process's posts show up then) and kept up to date with
    this engine's own claims in between, so a pass does not scan the jobs table."""

    def __init__(self, ttl: float = 60.0) -> None:
        self.ttl = ttl
        self._loaded_at: float | None = None
        self._posts: dict[str, dict[int, datetime]] = defaultdict(dict)

    def refresh(self, raw: Any, now: datetime, mono: float) -> None:
        if self._loaded_at is not None and mono - self._loaded_at < self.ttl:
            return
        self._loaded_at = mono
        self._posts = defaultdict(dict)
        since = time_to_db(now - timedelta(days=1))
        for caption, account_id, at in raw.execute(CAPTIONS, (since,)):
            self.add(caption, account_id, time_from_db(at))  # type: ignore[arg-type]

    def add(self, caption: str, account_id: int, at: datetime) -> None:
        if caption:
            self._posts[caption][account_id] = at

    def others(self, caption: str, account_id: int, now: datetime) -> set[int]:
        since = now - timedelta(days=1)
        return {
            other
            for other, at in self._posts.get(caption, {}).items()
            if other != account_id and at >= since
        }


class ClaimPass:
    """One pass over the due jobs inside one write transaction."""

    def __init__(
        self,
        change: Transition,
        config: EngineConfig,
        owner: str,
        *,
        free_total: int,
        free_by_route: dict[str, int],
        captions: CaptionBook | None = None,
        mono: float = 0.0,
        scan_limit: int = 200,
        read_checks: bool = True,
    ) -> None:
        self.change = change
        self.read_checks = read_checks
        self.now = change.now
        self.now_db = change.now_db
        self.config = config
        self.owner = owner
        self.free_total = free_total
        self.free_by_route = dict(free_by_route)
        self.scan_limit = scan_limit
        self.captions = captions or CaptionBook()
        self.mono = mono
        self.result = PassResult()
        self._claimed_accounts: set[int] = set()

    # --- the pass ---------------------------------------------------------------------------
    def run(self) -> PassResult:
        if self.free_total > 0 and self.read_checks:
            self._checks()
        self._publishing()
        return self.result

    def _take(self, route: str) -> bool:
        if self.free_total <= 0 or self.free_by_route.get(route, 0) <= 0:
            return False
        self.free_total -= 1
        self.free_by_route[route] -= 1
        return True

    def _give_back(self, route: str) -> None:
        self.free_total += 1
        self.free_by_route[route] = self.free_by_route.get(route, 0) + 1

    def _lease_end(self) -> datetime:
        return self.now + timedelta(seconds=self.config.lease_seconds)

    def _params(self, **extra: object) -> dict[str, object]:
        return {
            "now": self.now_db,
            "lease_end": time_to_db(self._lease_end()),
            "owner": self.owner,
            **extra,
        }

    def _checks(self) -> None:
        rows = self.change.execute(CHECKS, {"now": self.now_db, "limit": self.scan_limit})
        rows = [(i, route, a, time_from_db(at)) for i, route, a, at in rows.fetchall()]
        self.result.checks_read = True
        for job_id, route, account_id, at in rows:
            if at is not None and at > self.now:
                self.result.next_check = at
                return
            if not self._take(route):
                self.result.waiting += 1
                # due but no room: look again at the next pass
                self.result.next_check = self.now
                continue
            claimed = self.change.execute(CLAIM_CHECK, self._params(job=job_id))
            if claimed.rowcount == 1:
                self.result.work.append(
                    Work(job_id, "check", route, account_id, JobStatus.VERIFYING.value)
                )
            else:
                self._give_back(route)
        if len(rows) >= self.scan_limit:
            self.result.next_check = self.now  # more than one page: read again next pass

    def _publishing(self) -> None:
        limit = self.free_total * 2 + 2
        seen: set[int] = set()
        # a first page is usually enough; busy accounts at its head can call for more
        while self.free_total > 0:
            # stored times sort as the times they are
            rows = sorted(
                (
                    row
                    for status in CLAIMABLE
                    for row in self.change.execute(
                        DUE_JOBS, {"now": self.now_db, "limit": limit, "status": status}
                    ).fetchall()
                ),
                key=lambda row: (row[9], row[0]),
            )[:limit]
            fresh = [DueJob.of(row) for row in rows if row[0] not in seen]
            if not fresh:
                return
            seen.update(job.id for job in fresh)
            self._consider(fresh)
            if len(rows) < limit or limit >= self.scan_limit:
                return
            limit = min(limit * 4, self.scan_limit)

    def _consider(self, jobs: list[DueJob]) -> None:
        busy = self._claimed_accounts
        days = self._account_days(jobs)
        self.captions.refresh(self.change.raw, self.now, self.mono)
        for job in jobs:
            if job.account_id in busy:
                continue  # claimed earlier in this pass
            if self._late(job):
                continue
            if self._cooling_down(job):
                continue
            if self._duplicate(job):
                continue
            day = days[job.account_id]
            if self._capped(job, day):
                continue
            if self._spacing(job, day):
                continue
            if self._rate(job, day):
                continue
            if not self._take(job.route):
                self.result.waiting += 1
                continue
            if self._claim(job):
                busy.add(job.account_id)
                # counts toward the caps of later jobs in this same pass
                day.add(job.route, self.now)
                self._caption_warning(job)
            else:
                self._give_back(job.route)

    def _account_days(self, jobs: list[DueJob]) -> dict[int, AccountDay]:
        first = {job.account_id: job for job in reversed(jobs)}
        posts: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
        accounts = sorted(first)
        sql = RECENT_POSTS.format(accounts=", ".join("?" * len(accounts)))
        since = time_to_db(self.now - timedelta(days=2))
        for account_id, route, at in self.change.execute(sql, (since, *accounts)):
            posts[account_id].append((route, time_from_db(at)))
        return {aid: AccountDay(job, posts[aid]) for aid, job in first.items()}

    # --- the rules -------------------------------------------------------------------------------
    def _hold(self, job: DueJob, until: datetime, why: str) -> None:
        self.change.execute(HOLD, {"job": job.id, "until": time_to_db(until), "now": self.now_db})
        job.next_attempt_at = until
        self.change.note(
            job,
            EventKind.HELD,
            f"{why}; waits until {until.isoformat()}",
            {"until": until.isoformat()},
        )

    def _late(self, job: DueJob) -> bool:
        if job.status != JobStatus.QUEUED:
            return False
        late = self.now - job.next_attempt_at
        if late <= timedelta(minutes=self.config.grace_minutes):
            return False
        minutes = int(late.total_seconds() // 60)
        policy = job.missed_policy if job.campaign_status is not None else None
        action = missed_action(job.pinned_time, policy)
        if action == "reslot":
            # after this pass (see reslot_missed)
            self.result.reslot.append(Missed(job.id, job.next_attempt_at, minutes))
        elif action == "missed":
            reason = f"missed: its slot passed {minutes} min ago (campaign policy: missed)"
            self.change.execute(FAIL, {"job": job.id, "reason": "missed", "now": self.now_db})
            job.status = JobStatus.FAILED.value
            self.change.note(job, EventKind.FAILED, reason, {"code": "missed"})
            campaign_done(self.change, job)
        else:
            reason = f"missed its chosen time by {minutes} min; retry it to post now, or cancel it"
            self.change.execute(TO_ATTENTION, {"job": job.id, "reason": reason, "now": self.now_db})
            job.status = JobStatus.NEEDS_ATTENTION.value
            self.change.note(job, EventKind.NEEDS_ATTENTION, reason, {"code": "missed"})
        return True

    def _cooling_down(self, job: DueJob) -> bool:
        if job.account_status != AccountStatus.COOLDOWN:
            return False
        rules = AccountDay.rules_of(job)
        held = decide(rules, NO_CAPS, NO_POSTS, self.now, claim=True, only=Rule.COOLDOWN)
        if held is not None:
            self._hold(job, held.until, held.reason)
            return True
        self.change.execute(ACCOUNT_ACTIVE, {"account": job.account_id, "now": self.now_db})
        job.account_status = AccountStatus.ACTIVE.value
        self.change.announce(
            EventKind.ACCOUNT,
            f"@{job.username}'s cooldown ended; active again",
            account_id=job.account_id,
            status=AccountStatus.ACTIVE.value,
        )
        return False

    def _duplicate(self, job: DueJob) -> bool:
        days = self.config.duplicate_window_days
        if job.allow_duplicate or days <= 0:
            return False
        window = timedelta(days=days)
        row = self.change.execute(
            DUPLICATE,
            {
                "account": job.account_id,
                "media": job.media_id,
                "job": job.id,
                "since": time_to_db(self.now - window),
                "until": time_to_db(self.now + window),
            },
        ).fetchone()
        if row is None:
            return False
        other = PostedJob(row[0], row[1], *(time_from_db(at) for at in row[2:]))
        reason = "duplicate: " + duplicate_message(other)  # type: ignore[arg-type]
        self.change.execute(FAIL, {"job": job.id, "reason": reason, "now": self.now_db})
        job.status = JobStatus.FAILED.value
        self.change.note(job, EventKind.FAILED, reason, {"code": "duplicate", "other": other.id})
        campaign_done(self.change, job)
        return True

    def _capped(self, job: DueJob, day: AccountDay) -> bool:
        caps = Caps(daily_post_cap=self.config.daily_post_cap)
        held = decide(day.rules, caps, day.book, self.now, claim=True, only=Rule.DAILY_CAP)
        if held is None:
            return False
        self._hold(job, held.until, held.reason)
        return True

    def _spacing(self, job: DueJob, day: AccountDay) -> bool:
        held = decide(
            day.rules, NO_CAPS, day.book, self.now,
            claim=True, pinned=job.pinned_time, only=Rule.SPACING,
        )  # fmt: skip
        if held is None:
            return False
        self._hold(job, held.until, held.reason)
        return True

    def _rate(self, job: DueJob, day: AccountDay) -> bool:
        rate = self.config.route_rate.get(job.route)
        if not rate:
            return False
        limit, window = rate
        recent = day.recent(job.route, self.now - timedelta(seconds=window))
        if len(recent) < limit:
            return False
        until = recent[len(recent) - limit] + timedelta(seconds=window)
        self._hold(job, until, f"{job.route} allows {limit} posts per {window:g}s per account")
        return True

    def _claim(self, job: DueJob) -> bool:
        previous = job.status
        claimed = self.change.execute(CLAIM, self._params(job=job.id))
        if claimed.rowcount != 1:
            return False
        job.status = JobStatus.CLAIMED.value
        self.change.note(job, EventKind.CLAIMED, f"claimed by {self.owner}", {"owner": self.owner})
        self.result.work.append(Work(job.id, "publish", job.route, job.account_id, previous))
        return True

    def _caption_warning(self, job: DueJob) -> None:
        if not job.caption:
            return
        others = self.captions.others(job.caption, job.account_id, self.now)
        self.captions.add(job.caption, job.account_id, self.now)
        if others:
            self.change.note(
                job,
                EventKind.WARNING,
                f"the same caption went out on {len(others)} other account(s) in the last day",
                {"code": "caption_reused", "accounts": sorted(others)},
            )


def reslot_missed(ledger: Ledger, late: list[Missed]) -> None:
    """Move missed jobs (found by a claim pass) to their account's next free slot, each
    only if it is still queued, no process holds it and it is still due when the pass
    saw it due (not re-slotted by another process or given a new time meanwhile)."""
    with ledger.transition() as change:
        for missed in late:
            job = change.session.get(Job, missed.job_id)
            if job is None or job.status != JobStatus.QUEUED or job.next_attempt_at != missed.due:
                continue
            if job.lease_owner is not None and (
                job.lease_expires_at is None or job.lease_expires_at >= change.now
            ):
                continue
            why = f"missed its slot by {missed.minutes} min"
            for _, slot in reslot_jobs(change.session, [job], change.now, why):
                change.note(
                    job,
                    EventKind.RESLOTTED,
                    f"{why}; re-slotted to {slot.isoformat()}",
                    {"scheduled_at": slot.isoformat()},
                    persist=False,  # reslot_jobs wrote the job event
                )
            change.session.flush()
