"""The claim pass: what is due now, what may run, and taking it with a lease.

One write transaction (the store's, in which two processes on one database take turns)
reads the due jobs (queued or retrying, due, lease free or expired), applies the
per-account rules and claims what may run (the life cycle's `claim`, which applies only
if the job is still as the pass read it). Rules, in order, for each due job:

1. an account already posting (claimed / submitting / submitted) is skipped for now —
   one post at a time per account;
2. a queued job later than `grace_minutes` is a missed schedule: re-slotted, marked
   missed, or handed to the operator (see `missed_action`);
3. an account cooling down holds the job until the cooldown ends; an ended cooldown
   makes the account active again;
4. the duplicate guard (same video, same account, within the window) refuses the job;
5. the daily cap (the lower of the account's and `engine.daily_post_cap`) holds the job
   until the account's next local midnight — held back, never failed; a route's own
   daily cap (its posts alone, `policy.ROUTE_DAILY_CAP_KEYS`) holds it to the next day's
   window;
6. automatic (not pinned) jobs keep `min_spacing_minutes` from the account's last post;
7. per-account platform rate (TikTok: 6 post inits a minute) holds the job briefly;
8. route and global worker limits.

Held jobs get a later `next_attempt_at` (and one "held" event): no attempt is spent.
Status checks of submitted posts (`verifying` jobs whose next check is due) are claimed
in the same pass and share the worker limits.

The pass runs after every finished job, so its statements are compiled once
(store/statements.py); every status it writes is a move of the job life cycle
(domain/lifecycle.py). The rare re-slotting of a missed job needs the ORM and follows in a transaction of its
own (`reslot_missed`), which moves a job only if it is still queued, free and due at
the time the pass saw (another process, or the operator, may have moved it since).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ..domain.duplicates import duplicate_message
from ..domain.events import EventKind
from ..domain.lifecycle import Actor, Change, JobState
from ..domain.policy import NO_CAPS, AccountRules, Caps, PostBook, Rule, decide
from ..domain.reslot import reslot_jobs
from ..store import statements as sql
from ..store.db import Tx
from ..store.enums import (
    CLAIMABLE_JOB_STATUSES,
    RUNNABLE_ACCOUNT_STATUSES,
    AccountStatus,
    CampaignStatus,
    JobStatus,
    MissedPolicy,
)
from ..store.models import Account, Campaign, Job
from ..store.statements import Row
from .config import EngineConfig
from .ledger import Ledger

# one query per status, in this order (see store/statements.DUE_JOBS)
CLAIMABLE = tuple(sorted(CLAIMABLE_JOB_STATUSES))


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


def _time(value: object) -> time | None:
    # SQLite hands a TIME column back as its text
    if value is None or isinstance(value, time):
        return value
    return time.fromisoformat(str(value))


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
    account_status: AccountStatus
    cooldown_until: datetime | None
    timezone: str | None
    max_posts_per_day: int
    min_spacing_minutes: int
    last_post_at: datetime | None
    campaign_status: str | None
    missed_policy: str | None
    row: Row  # as read (the life cycle's view of the job comes from it when needed)

    @property
    def window(self) -> tuple[bool, time | None, time | None]:
        row = self.row
        return bool(row.window_enabled), _time(row.window_start), _time(row.window_end)

    def state(self) -> JobState:
        """The job as the life cycle reads it (status, lease, attempts)."""
        return JobState.of(self.row)

    @classmethod
    def of(cls, row: Row) -> DueJob:
        """From a DUE_JOBS row."""
        return cls(
            row.id, row.status, row.account_id, row.campaign_id, row.media_id, row.route,
            row.caption, bool(row.pinned_time), bool(row.allow_duplicate), row.next_attempt_at,
            row.username, AccountStatus(row.account_status), row.cooldown_until, row.timezone,
            row.max_posts_per_day, row.min_spacing_minutes, row.last_post_at,
            row.campaign_status, row.missed_policy, row,
        )  # fmt: skip


def _runnable(query: Select[Any]) -> Select[Any]:
    """Only jobs whose account may post and whose campaign is not paused."""
    return (
        query.join(Account, Account.id == Job.account_id)
        .outerjoin(Campaign, Campaign.id == Job.campaign_id)
        .where(Account.status.in_([s.value for s in RUNNABLE_ACCOUNT_STATUSES]))
        .where(or_(Job.campaign_id.is_(None), Campaign.status != CampaignStatus.PAUSED.value))
    )


def next_due(session: Session, now: datetime) -> datetime | None:
    """The earliest future moment something becomes due (publishing or a status check)."""
    publish = session.scalar(
        _runnable(select(func.min(Job.next_attempt_at)).select_from(Job))
        .where(Job.status.in_([s.value for s in CLAIMABLE]))
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
        # per route, for a route's own daily cap
        self.route_books: dict[str, PostBook] = {}

    def route_book(self, route: str) -> PostBook:
        book = self.route_books.get(route)
        if book is None:
            book = PostBook(at for r, at in self.posts if r == route)
            self.route_books[route] = book
        return book

    @staticmethod
    def rules_of(due: DueJob) -> AccountRules:
        enabled, start, end = due.window
        return AccountRules(
            timezone=due.timezone or "UTC",
            # the claim never asks the window itself (policy.ASKED); a route's daily
            # cap holds a job to the next day's window
            window_enabled=enabled,
            window_start=start,
            window_end=end,
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
        if route in self.route_books:
            self.route_books[route].add(at)


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

    def refresh(self, tx: Tx, now: datetime, mono: float) -> None:
        if self._loaded_at is not None and mono - self._loaded_at < self.ttl:
            return
        self._loaded_at = mono
        self._posts = defaultdict(dict)
        for row in tx.run(sql.CAPTIONS, since=now - timedelta(days=1)):
            self.add(row.caption, row.account_id, row.submitted_at)

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
        change: Change,
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
        self.tx = change.tx
        self.now = change.now
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
        if self.tx.dialect_name == "postgresql":
            self.tx.run(sql.claim_turn())  # one desktop's pass at a time (statements.py)
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

    def _checks(self) -> None:
        rows = self.tx.run(sql.CHECKS, now=self.now, limit=self.scan_limit).all()
        self.result.checks_read = True
        for row in rows:
            at = row.next_attempt_at
            if at is not None and at > self.now:
                self.result.next_check = at
                return
            if not self._take(row.route):
                self.result.waiting += 1
                # due but no room: look again at the next pass
                self.result.next_check = self.now
                continue
            if self._lease(JobState.of(row), "take_check"):
                self.result.work.append(
                    Work(row.id, "check", row.route, row.account_id, JobStatus.VERIFYING.value)
                )
            else:
                self._give_back(row.route)
        if len(rows) >= self.scan_limit:
            self.result.next_check = self.now  # more than one page: read again next pass

    def _lease(self, state: JobState, move: str) -> bool:
        taken = self.change.move(
            state,
            move,
            Actor.ENGINE,
            f"claimed by {self.owner}",
            owner=self.owner,
            lease_seconds=self.config.lease_seconds,
            data={"owner": self.owner},
            # a status check's claim is not worth a history row (as before)
            announce=move == "claim",
        )
        return taken is not None

    def _publishing(self) -> None:
        limit = self.free_total * 2 + 2
        seen: set[int] = set()
        # a first page is usually enough; busy accounts at its head can call for more
        while self.free_total > 0:
            rows = sorted(
                (
                    row
                    for status in CLAIMABLE
                    for row in self.tx.run(
                        sql.DUE_JOBS, now=self.now, limit=limit, status=status.value
                    )
                ),
                key=lambda row: (row.next_attempt_at, row.id),
            )[:limit]
            fresh = [DueJob.of(row) for row in rows if row.id not in seen]
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
        self.captions.refresh(self.tx, self.now, self.mono)
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
        since = self.now - timedelta(days=2)
        for start in range(0, len(accounts), sql.RECENT_POSTS_MAX):
            page = accounts[start : start + sql.RECENT_POSTS_MAX]
            named = {f"account_{i}": account for i, account in enumerate(page)}
            for row in self.tx.run(sql.recent_posts(len(page)), since=since, **named):
                posts[row.account_id].append((row.route, row.submitted_at))
        return {aid: AccountDay(job, posts[aid]) for aid, job in first.items()}

    # --- the rules -------------------------------------------------------------------------------
    def _hold(self, job: DueJob, until: datetime, why: str) -> None:
        self.tx.run(sql.HOLD, job=job.id, until=until, now=self.now)
        job.next_attempt_at = until
        self.change.note(
            job,
            EventKind.HELD,
            f"{why}; waits until {until.isoformat()}",
            {"until": until.isoformat()},
        )

    def _refuse(
        self, job: DueJob, move: str, message: str, reason: str, data: dict[str, Any]
    ) -> None:
        """The claim pass moves a due job elsewhere (failed, or to the operator)."""
        moved = self.change.move(job.state(), move, Actor.ENGINE, message, data=data, reason=reason)
        if moved is not None:
            job.status = moved.status

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
            self._refuse(job, "refuse", reason, "missed", {"code": "missed"})
        else:
            reason = f"missed its chosen time by {minutes} min; retry it to post now, or cancel it"
            self._refuse(job, "hold_for_operator", reason, reason, {"code": "missed"})
        return True

    def _cooling_down(self, job: DueJob) -> bool:
        if job.account_status != AccountStatus.COOLDOWN:
            return False
        rules = AccountDay.rules_of(job)
        held = decide(rules, NO_CAPS, NO_POSTS, self.now, claim=True, only=Rule.COOLDOWN)
        if held is not None:
            self._hold(job, held.until, held.reason)
            return True
        self.change.account_status(job.account_id, AccountStatus.ACTIVE, None)
        job.account_status = AccountStatus.ACTIVE
        return False

    def _duplicate(self, job: DueJob) -> bool:
        days = self.config.duplicate_window_days
        if job.allow_duplicate or days <= 0:
            return False
        window = timedelta(days=days)
        row = self.tx.run(
            sql.DUPLICATE,
            account=job.account_id,
            media=job.media_id,
            job=job.id,
            since=self.now - window,
            until=self.now + window,
        ).first()
        if row is None:
            return False
        other = PostedJob(row.id, row.status, row.published_at, row.submitted_at, row.scheduled_at)
        reason = "duplicate: " + duplicate_message(other)
        self._refuse(job, "refuse", reason, reason, {"code": "duplicate", "other": other.id})
        return True

    def _capped(self, job: DueJob, day: AccountDay) -> bool:
        caps = Caps(
            daily_post_cap=self.config.daily_post_cap,
            route_daily_caps=tuple(self.config.route_daily_caps.items()),
        )
        route_book = day.route_book(job.route) if caps.route_cap(job.route) else None
        held = decide(
            day.rules, caps, day.book, self.now,
            claim=True, only=Rule.DAILY_CAP, route=job.route, route_book=route_book,
        )  # fmt: skip
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
        if not self._lease(job.state(), "claim"):
            return False
        job.status = JobStatus.CLAIMED.value
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
    with ledger.db.write() as session:
        change = Change(Tx.of_session(session), ledger.clock.now())
        for missed in late:
            job = session.get(Job, missed.job_id)
            if job is None or job.status != JobStatus.QUEUED or job.next_attempt_at != missed.due:
                continue
            if job.lease_owner is not None and (
                job.lease_expires_at is None or job.lease_expires_at >= change.now
            ):
                continue
            why = f"missed its slot by {missed.minutes} min"
            for _, slot in reslot_jobs(session, [job], change.now, why):
                change.note(
                    job,
                    EventKind.RESLOTTED,
                    f"{why}; re-slotted to {slot.isoformat()}",
                    {"scheduled_at": slot.isoformat()},
                    persist=False,  # reslot_jobs wrote the job event
                )
            session.flush()
    ledger.announce(change)
