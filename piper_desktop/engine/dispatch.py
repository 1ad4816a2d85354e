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
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..domain.duplicates import POSTED_STATUSES, duplicate_message, find_duplicate
from ..domain.reslot import reslot_jobs
from ..store.enums import AccountStatus, CampaignStatus, JobStatus, MissedPolicy
from ..store.models import Account, Campaign, Job
from .config import EngineConfig
from .events import EventKind
from .ledger import Transition

CLAIMABLE = (JobStatus.QUEUED.value, JobStatus.RETRYING.value)
# an account with a job in one of these is posting right now
POSTING = (JobStatus.CLAIMED.value, JobStatus.SUBMITTING.value, JobStatus.SUBMITTED.value)
RUNNABLE_ACCOUNTS = (AccountStatus.ACTIVE.value, AccountStatus.COOLDOWN.value)


@dataclass(frozen=True)
class Work:
    job_id: int
    kind: str  # "publish" or "check"
    route: str
    account_id: int
    # the status the job had before the claim (to give it back untouched when parking)
    previous_status: str


@dataclass
class PassResult:
    work: list[Work] = field(default_factory=list)
    # due jobs left waiting for a busy account or a full worker pool
    waiting: int = 0


def _lease_free(now: datetime) -> object:
    return or_(Job.lease_owner.is_(None), Job.lease_expires_at < now)


def _runnable(query: object) -> object:
    """Only jobs whose account may post and whose campaign is not paused."""
    return (
        query.join(Account, Account.id == Job.account_id)  # type: ignore[attr-defined]
        .outerjoin(Campaign, Campaign.id == Job.campaign_id)
        .where(Account.status.in_(RUNNABLE_ACCOUNTS))
        .where(or_(Job.campaign_id.is_(None), Campaign.status != CampaignStatus.PAUSED.value))
    )


def next_due(session: Session, now: datetime) -> datetime | None:
    """The earliest future moment something becomes due (publishing or a status check)."""
    publish = session.scalar(
        _runnable(select(func.min(Job.next_attempt_at)).select_from(Job))  # type: ignore[arg-type]
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


class AccountDay:
    """What one account did recently, for the caps: post times (submitted_at) by route."""

    def __init__(self, account: Account, posts: list[tuple[str, datetime]]) -> None:
        self.account = account
        self.zone = ZoneInfo(account.timezone or "UTC")
        self.posts = posts

    def day_bounds(self, now: datetime) -> tuple[datetime, datetime]:
        local = now.astimezone(self.zone).date()
        start = datetime.combine(local, time(0), tzinfo=self.zone)
        end = datetime.combine(local + timedelta(days=1), time(0), tzinfo=self.zone)
        return start.astimezone(now.tzinfo), end.astimezone(now.tzinfo)

    def posts_today(self, now: datetime) -> int:
        start, end = self.day_bounds(now)
        return sum(1 for _, at in self.posts if start <= at < end)

    def last_post(self) -> datetime | None:
        times = [at for _, at in self.posts]
        if self.account.last_post_at is not None:
            times.append(self.account.last_post_at)
        return max(times) if times else None

    def recent(self, route: str, since: datetime) -> list[datetime]:
        return sorted(at for r, at in self.posts if r == route and at > since)

    def add(self, route: str, at: datetime) -> None:
        self.posts.append((route, at))


def missed_action(job: Job, campaign: Campaign | None) -> str:
    """What a schedule missed by more than the grace period becomes.

    - campaign jobs follow the campaign's `missed_policy` (reslot or missed);
    - jobs the operator timed explicitly (`--at`, pinned) go to the operator: posting
      hours after the chosen moment may no longer be wanted;
    - other jobs (automatic slots) are re-slotted.
    """
    if campaign is not None:
        return "missed" if campaign.missed_policy == MissedPolicy.MISSED else "reslot"
    return "attention" if job.pinned_time else "reslot"


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
        scan_limit: int = 200,
    ) -> None:
        self.change = change
        self.session = change.session
        self.now = change.now
        self.config = config
        self.owner = owner
        self.free_total = free_total
        self.free_by_route = dict(free_by_route)
        self.scan_limit = scan_limit
        self.result = PassResult()

    # --- the pass ---------------------------------------------------------------------------
    def run(self) -> PassResult:
        if self.free_total > 0:
            self._checks()
        self._publishing()
        return self.result

    def _take(self, route: str) -> bool:
        if self.free_total <= 0 or self.free_by_route.get(route, 0) <= 0:
            return False
        self.free_total -= 1
        self.free_by_route[route] -= 1
        return True

    def _checks(self) -> None:
        due = self.session.execute(
            select(Job.id, Job.route, Job.account_id)
            .where(Job.status == JobStatus.VERIFYING.value)
            .where(Job.next_attempt_at <= self.now)
            .where(_lease_free(self.now))
            .order_by(Job.next_attempt_at, Job.id)
            .limit(self.scan_limit)
        ).all()
        for job_id, route, account_id in due:
            if not self._take(route):
                self.result.waiting += 1
                continue
            claimed = self.session.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    Job.status == JobStatus.VERIFYING.value,
                    Job.next_attempt_at <= self.now,
                    _lease_free(self.now),
                )
                .values(lease_owner=self.owner, lease_expires_at=self._lease_end())
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                self.result.work.append(
                    Work(job_id, "check", route, account_id, JobStatus.VERIFYING.value)
                )
            else:
                self._give_back(route)

    def _give_back(self, route: str) -> None:
        self.free_total += 1
        self.free_by_route[route] = self.free_by_route.get(route, 0) + 1

    def _lease_end(self) -> datetime:
        return self.now + timedelta(seconds=self.config.lease_seconds)

    def _publishing(self) -> None:
        if self.free_total <= 0:
            return
        rows = self.session.execute(
            _runnable(select(Job, Account, Campaign))  # type: ignore[arg-type]
            .where(Job.status.in_(CLAIMABLE))
            .where(Job.next_attempt_at <= self.now)
            .where(_lease_free(self.now))
            .order_by(Job.next_attempt_at, Job.id)
            .limit(self.scan_limit)
        ).all()
        if not rows:
            return
        accounts = {account.id: account for _, account, _ in rows}
        busy = set(
            self.session.scalars(
                select(Job.account_id).where(
                    Job.status.in_(POSTING), Job.account_id.in_(list(accounts))
                )
            )
        )
        days = self._account_days(accounts)
        captions = self._captions_in_use([job for job, _, _ in rows])
        for job, account, campaign in rows:
            if account.id in busy:
                self.result.waiting += 1
                continue
            if self._late(job, campaign):
                continue
            if self._cooling_down(job, account):
                continue
            if self._duplicate(job):
                continue
            day = days[account.id]
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
                busy.add(account.id)
                # counts toward the caps of later jobs in this same pass
                day.add(job.route, self.now)
                self._caption_warning(job, account, captions)
            else:
                self._give_back(job.route)

    # --- account facts --------------------------------------------------------------------------
    def _account_days(self, accounts: dict[int, Account]) -> dict[int, AccountDay]:
        since = self.now - timedelta(days=2)
        posts: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
        for account_id, route, at in self.session.execute(
            select(Job.account_id, Job.route, Job.submitted_at).where(
                Job.account_id.in_(list(accounts)), Job.submitted_at >= since
            )
        ):
            posts[account_id].append((route, at))
        return {aid: AccountDay(account, posts[aid]) for aid, account in accounts.items()}

    def _captions_in_use(self, jobs: list[Job]) -> dict[str, set[int]]:
        """For each caption of these jobs, the accounts that posted it in the last day."""
        wanted = {job.caption for job in jobs if job.caption}
        if not wanted:
            return {}
        used: dict[str, set[int]] = defaultdict(set)
        for caption, account_id in self.session.execute(
            select(Job.caption, Job.account_id).where(
                Job.caption.in_(list(wanted)),
                Job.submitted_at >= self.now - timedelta(days=1),
            )
        ):
            used[caption].add(account_id)
        return used

    # --- the rules -------------------------------------------------------------------------------
    def _hold(self, job: Job, until: datetime, why: str) -> None:
        job.next_attempt_at = until
        self.change.note(
            job,
            EventKind.HELD,
            f"{why}; waits until {until.isoformat()}",
            {"until": until.isoformat()},
        )

    def _late(self, job: Job, campaign: Campaign | None) -> bool:
        if job.status != JobStatus.QUEUED or job.next_attempt_at is None:
            return False
        late = self.now - job.next_attempt_at
        if late <= timedelta(minutes=self.config.grace_minutes):
            return False
        minutes = int(late.total_seconds() // 60)
        action = missed_action(job, campaign)
        if action == "reslot":
            moved = reslot_jobs(self.session, [job], self.now, f"missed its slot by {minutes} min")
            for moved_job, slot in moved:
                self.change.note(
                    moved_job,
                    EventKind.RESLOTTED,
                    f"missed its slot by {minutes} min; re-slotted to {slot.isoformat()}",
                    {"scheduled_at": slot.isoformat()},
                    persist=False,  # reslot_jobs wrote the job event
                )
        elif action == "missed":
            job.status = JobStatus.FAILED.value
            job.last_error = "missed"
            job.next_attempt_at = None
            self.change.note(
                job,
                EventKind.FAILED,
                f"missed: its slot passed {minutes} min ago (campaign policy: missed)",
                {"code": "missed"},
            )
        else:
            job.status = JobStatus.NEEDS_ATTENTION.value
            job.attention_reason = (
                f"missed its chosen time by {minutes} min; retry it to post now, or cancel it"
            )
            job.next_attempt_at = None
            self.change.note(
                job, EventKind.NEEDS_ATTENTION, job.attention_reason, {"code": "missed"}
            )
        return True

    def _cooling_down(self, job: Job, account: Account) -> bool:
        if account.status != AccountStatus.COOLDOWN:
            return False
        until = account.cooldown_until
        if until is not None and until > self.now:
            self._hold(job, until, f"@{account.username} is cooling down")
            return True
        account.status = AccountStatus.ACTIVE.value
        account.status_reason = None
        account.cooldown_until = None
        self.change.announce(
            EventKind.ACCOUNT,
            f"@{account.username}'s cooldown ended; active again",
            account_id=account.id,
            status=account.status,
        )
        return False

    def _duplicate(self, job: Job) -> bool:
        if job.allow_duplicate or self.config.duplicate_window_days <= 0:
            return False
        other = find_duplicate(
            self.session,
            account_id=job.account_id,
            media_id=job.media_id,
            around=self.now,
            days=self.config.duplicate_window_days,
            statuses=POSTED_STATUSES,
            exclude_job_id=job.id,
        )
        if other is None:
            return False
        reason = "duplicate: " + duplicate_message(other)
        job.status = JobStatus.FAILED.value
        job.last_error = reason
        job.next_attempt_at = None
        self.change.note(job, EventKind.FAILED, reason, {"code": "duplicate", "other": other.id})
        return True

    def _capped(self, job: Job, day: AccountDay) -> bool:
        cap = min(day.account.max_posts_per_day, self.config.daily_post_cap)
        if day.posts_today(self.now) < cap:
            return False
        _, next_day = day.day_bounds(self.now)
        self._hold(job, next_day, f"daily cap of {cap} posts reached for @{day.account.username}")
        return True

    def _spacing(self, job: Job, day: AccountDay) -> bool:
        spacing = timedelta(minutes=day.account.min_spacing_minutes or 0)
        if job.pinned_time or not spacing:
            return False
        last = day.last_post()
        if last is None or last + spacing <= self.now:
            return False
        self._hold(
            job,
            last + spacing,
            f"keeps {day.account.min_spacing_minutes} min from @{day.account.username}'s last post",
        )
        return True

    def _rate(self, job: Job, day: AccountDay) -> bool:
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

    def _claim(self, job: Job) -> bool:
        previous = job.status
        claimed = self.session.execute(
            update(Job)
            .where(
                Job.id == job.id,
                Job.status.in_(CLAIMABLE),
                Job.next_attempt_at <= self.now,
                _lease_free(self.now),
            )
            .values(
                status=JobStatus.CLAIMED.value,
                lease_owner=self.owner,
                lease_expires_at=self._lease_end(),
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        # keep the loaded row in step with what the UPDATE wrote
        self.session.expire(job)
        self.change.note(job, EventKind.CLAIMED, f"claimed by {self.owner}", {"owner": self.owner})
        self.result.work.append(Work(job.id, "publish", job.route, job.account_id, previous))
        return True

    def _caption_warning(self, job: Job, account: Account, used: dict[str, set[int]]) -> None:
        if not job.caption:
            return
        others = used.get(job.caption, set()) - {account.id}
        used.setdefault(job.caption, set()).add(account.id)
        if others:
            self.change.note(
                job,
                EventKind.WARNING,
                f"the same caption went out on {len(others)} other account(s) in the last day",
                {"code": "caption_reused", "accounts": sorted(others)},
            )


def count_by_route(work: list[Work]) -> Counter[str]:
    return Counter(w.route for w in work)
