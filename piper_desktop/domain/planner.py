"""What the dashboard shows and changes: upcoming posts, what needs the operator, today's
results, a week of scheduled posts, moving a post to another free slot, and a campaign's
slots before it is saved.

Moving a post keeps the account policy (domain/policy.py): the new time must be the time
the account's calendar (window, spacing, the account's and the global daily cap,
cooldown) would give for it, with the moved post's own slot taken out first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from ..store.db import Database
from ..store.enums import (
    CLAIMABLE_JOB_STATUSES,
    IN_FLIGHT_JOB_STATUSES,
    AccountStatus,
    CampaignStrategy,
    JobStatus,
)
from ..store.models import Account, Campaign, Job, JobEvent, MediaItem
from . import campaigns as camp
from . import fields as f
from .errors import DomainError, NotFound, ValidationError
from .slots import AccountCalendar, NoSlot, account_calendar, global_caps

MOVABLE = tuple(s.value for s in CLAIMABLE_JOB_STATUSES)
# more waiting posts than this in a week of all accounts: the calendar shows density
WEEK_POST_LIMIT = 400


@dataclass(frozen=True)
class AttentionItem:
    """One thing the operator should look at, with the action that resolves it."""

    # captcha | login | not_connected | wrong_route | unknown_outcome | readiness |
    # attention | account
    kind: str
    title: str
    reason: str
    job_id: int | None = None
    account_id: int | None = None
    # resolve (the account's browser: log in, or the job's hand-off) | connect (the
    # route's connect flow) | change_route | check (the profile, then mark published) |
    # retry | open
    action: str = "open"
    route: str | None = None  # the job's

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


CODE_KINDS = {
    "captcha": ("captcha", "resolve"),
    "login_required": ("login", "resolve"),
    "session_expired": ("login", "resolve"),
    "two_factor": ("login", "resolve"),
    "unknown_outcome": ("unknown_outcome", "check"),
    "verify_timeout": ("unknown_outcome", "check"),
    "not_ready": ("readiness", "open"),
    # an API login is renewed by connecting again, not in a browser window
    "not_connected": ("not_connected", "connect"),
    "refresh_expired": ("not_connected", "connect"),
    # a spent refresh token (a crash mid-refresh): only a new login helps
    "refresh_token_spent": ("not_connected", "connect"),
    # compliance mode: nothing was sent; the operator chooses a privacy, then retries
    "privacy_not_chosen": ("readiness", "open"),
    "route_not_configured": ("wrong_route", "change_route"),
}


def classify_attention(
    reason: str, *, submitted: bool, has_receipt: bool, code: str | None = None
) -> tuple[str, str]:
    """(kind, action) for a job that needs the operator: by the engine's code when it
    gave one, else from the stated reason."""
    text = reason.lower()
    if "not connected to" in text:  # also a readiness hold ("not ready: ...")
        return CODE_KINDS["not_connected"]
    if code in CODE_KINDS:
        return CODE_KINDS[code]
    if "captcha" in text:
        return "captcha", "resolve"
    if any(word in text for word in ("login", "session", "2fa", "two-factor", "verification")):
        return "login", "resolve"
    if (submitted and not has_receipt) or "unknown" in text or "reconcil" in text:
        return "unknown_outcome", "check"
    return "attention", "open"


class PlannerService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- dashboard --------------------------------------------------------------------
    def upcoming(self, limit: int = 10, now: datetime | None = None) -> list[dict[str, Any]]:
        """The next posts due, soonest first, with their account and media labels."""
        now = now or datetime.now(UTC)
        rows: list[dict[str, Any]] = []
        with self.db.session() as session:
            # one index range scan per status (status, next_attempt_at), merged here: an
            # IN (...) over both would sort every waiting job to find the first few
            for status in MOVABLE:
                statement = (
                    select(
                        Job.id,
                        Job.status,
                        Job.route,
                        Job.next_attempt_at,
                        Job.scheduled_at,
                        Job.account_id,
                        Account.username.label("account_username"),
                        Account.platform.label("account_platform"),
                        Account.timezone.label("account_timezone"),
                        MediaItem.title.label("media_title"),
                    )
                    .join(Account, Account.id == Job.account_id)
                    .join(MediaItem, MediaItem.id == Job.media_id)
                    .where(Job.status == status)
                    .where(Job.next_attempt_at >= now - timedelta(days=1))
                    .order_by(Job.next_attempt_at, Job.id)
                    .limit(limit)
                )
                rows.extend(dict(row._mapping) for row in session.execute(statement))
        rows.sort(key=lambda r: (r["next_attempt_at"], r["id"]))
        return rows[:limit]

    def attention(self, now: datetime | None = None, limit: int = 100) -> list[AttentionItem]:
        now = now or datetime.now(UTC)
        items: list[AttentionItem] = []
        with self.db.session() as session:
            jobs = session.execute(
                select(
                    Job.id,
                    Job.attention_reason,
                    Job.last_error,
                    Job.receipt,
                    Job.submitted_at,
                    Job.account_id,
                    Account.username,
                    Job.route,
                )
                .join(Account, Account.id == Job.account_id)
                .where(Job.status == JobStatus.NEEDS_ATTENTION.value)
                .order_by(Job.id.desc())  # newest first, straight off the status index
                .limit(limit)
            ).all()
            codes: dict[int, str] = {}
            if jobs:
                # the code the engine noted with the latest hand-over to a person
                for job_id, data in session.execute(
                    select(JobEvent.job_id, JobEvent.data)
                    .where(JobEvent.job_id.in_([row[0] for row in jobs]))
                    .where(JobEvent.kind == JobStatus.NEEDS_ATTENTION.value)
                    .order_by(JobEvent.id)
                ):
                    if isinstance(data, dict) and data.get("code"):
                        codes[job_id] = str(data["code"])
            for job_id, reason, error, receipt, submitted, account_id, username, route in jobs:
                text = reason or error or "needs attention"
                kind, action = classify_attention(
                    text,
                    submitted=submitted is not None,
                    has_receipt=receipt is not None,
                    code=codes.get(job_id),
                )
                items.append(
                    AttentionItem(
                        kind,
                        f"Job #{job_id} · @{username}",
                        text,
                        job_id,
                        account_id,
                        action,
                        route,
                    )
                )
            accounts = session.execute(
                select(Account.id, Account.username, Account.status, Account.status_reason)
                .where(
                    Account.status.in_(
                        [AccountStatus.NEEDS_LOGIN.value, AccountStatus.NEEDS_ATTENTION.value]
                    )
                )
                .order_by(Account.username)
                .limit(limit)
            ).all()
            for account_id, username, status, reason in accounts:
                default = "log in again" if status == AccountStatus.NEEDS_LOGIN else status
                items.append(
                    AttentionItem(
                        "account",
                        f"@{username}",
                        reason or default.replace("_", " "),
                        None,
                        account_id,
                        "resolve",
                    )
                )
        return items

    def _day(self, now: datetime, zone: str | None) -> tuple[datetime, datetime]:
        tz = ZoneInfo(zone) if zone else datetime.now().astimezone().tzinfo
        local = now.astimezone(tz)
        start = datetime.combine(local.date(), time(0), tzinfo=tz).astimezone(UTC)
        return start, start + timedelta(days=1)

    def today(self, now: datetime | None = None, zone: str | None = None) -> dict[str, int]:
        """Counts for the operator's current local day (both halves below)."""
        return {**self.today_waiting(now, zone), **self.today_results(now, zone)}

    def today_waiting(self, now: datetime | None = None, zone: str | None = None) -> dict[str, int]:
        """What is waiting or running now: index lookups, quick on any vault."""
        now = now or datetime.now(UTC)
        _start, end = self._day(now, zone)
        with self.db.session() as session:

            def count(*conditions: Any) -> int:
                return int(session.scalar(select(func.count(Job.id)).where(*conditions)) or 0)

            due = overdue = 0
            for status in MOVABLE:  # one (status, next_attempt_at) range each
                due += count(
                    Job.status == status, Job.next_attempt_at >= now, Job.next_attempt_at < end
                )
                overdue += count(Job.status == status, Job.next_attempt_at < now)
            return {
                "needs_attention": count(Job.status == JobStatus.NEEDS_ATTENTION.value),
                "in_flight": count(Job.status.in_([s.value for s in IN_FLIGHT_JOB_STATUSES])),
                "still_due_today": due,
                "overdue": overdue,
            }

    def today_results(self, now: datetime | None = None, zone: str | None = None) -> dict[str, int]:
        """Published and failed since local midnight (these read every finished job's
        time, so the dashboard asks for them after its first paint)."""
        now = now or datetime.now(UTC)
        start, _end = self._day(now, zone)
        with self.db.session() as session:

            def count(*conditions: Any) -> int:
                return int(session.scalar(select(func.count(Job.id)).where(*conditions)) or 0)

            return {
                "published": count(
                    Job.status == JobStatus.PUBLISHED.value, Job.published_at >= start
                ),
                "failed": count(Job.status == JobStatus.FAILED.value, Job.updated_at >= start),
            }

    # --- week calendar ----------------------------------------------------------------
    def week(
        self,
        start: datetime,
        days: int = 7,
        account_id: int | None = None,
        group: str | None = None,
    ) -> list[dict[str, Any]]:
        """Posts in [start, start + days): the ones still to come and in flight, the ones
        that need the operator, and, for one account, what it already published or
        failed; `group` narrows them to one group's accounts (the calendar's lanes). The
        month view asks for its six weeks the same way. Each part is an index range scan
        (an account's history uses its own (account, scheduled) index), so a vault with a
        long history stays quick."""
        end = start + timedelta(days=days)
        columns = (
            Job.id,
            Job.status,
            Job.route,
            Job.scheduled_at,
            Job.next_attempt_at,
            Job.published_at,
            Job.pinned_time,
            Job.account_id,
            Account.username.label("account_username"),
            Account.timezone.label("account_timezone"),
            MediaItem.title.label("media_title"),
        )

        def base() -> Any:
            query = (
                select(*columns)
                .join(Account, Account.id == Job.account_id)
                .join(MediaItem, MediaItem.id == Job.media_id)
            )
            if account_id is not None:
                query = query.where(Job.account_id == account_id)
            if group:
                query = query.where(func.lower(Account.group) == group.lower())
            return query

        parts = [
            base().where(Job.status == s, Job.next_attempt_at >= start, Job.next_attempt_at < end)
            for s in MOVABLE
        ]
        held = [s.value for s in IN_FLIGHT_JOB_STATUSES] + [JobStatus.NEEDS_ATTENTION.value]
        parts += [
            base().where(Job.status == s, Job.scheduled_at >= start, Job.scheduled_at < end)
            for s in held
        ]
        if account_id is not None:
            parts.append(
                base().where(
                    Job.status.in_([JobStatus.PUBLISHED.value, JobStatus.FAILED.value]),
                    Job.scheduled_at >= start,
                    Job.scheduled_at < end,
                )
            )
        rows = []
        with self.db.session() as session:
            for statement in parts:
                for row in session.execute(statement):
                    data = dict(row._mapping)
                    movable = data["status"] in MOVABLE
                    data["at"] = (data["next_attempt_at"] if movable else None) or data[
                        "scheduled_at"
                    ]
                    data["movable"] = movable
                    rows.append(data)
        rows.sort(key=lambda r: (r["at"], r["id"]))
        return rows

    def week_density(
        self, start: datetime, days: int = 7, limit: int = WEEK_POST_LIMIT
    ) -> dict[datetime, int] | None:
        """Waiting posts per UTC hour of [start, start + days) when there are more than
        `limit` (a calendar of all accounts shows where posts pile up, not each one);
        None when there are few enough to show one by one. Reads only the (status,
        next_attempt_at) index."""
        end = start + timedelta(days=days)
        hour = func.substr(Job.next_attempt_at, 1, 13)
        with self.db.session() as session:
            total = 0
            for status in MOVABLE:
                total += int(
                    session.scalar(
                        select(func.count(Job.id)).where(
                            Job.status == status,
                            Job.next_attempt_at >= start,
                            Job.next_attempt_at < end,
                        )
                    )
                    or 0
                )
            if total <= limit:
                return None
            buckets: dict[datetime, int] = {}
            for status in MOVABLE:
                rows = session.execute(
                    select(hour, func.count(Job.id))
                    .where(
                        Job.status == status,
                        Job.next_attempt_at >= start,
                        Job.next_attempt_at < end,
                    )
                    .group_by(hour)
                )
                for key, count in rows:
                    moment = datetime.strptime(key, "%Y-%m-%dT%H").replace(tzinfo=UTC)
                    buckets[moment] = buckets.get(moment, 0) + int(count)
            return buckets

    def _calendar_without(self, session: Any, job: Job, account: Account) -> AccountCalendar:
        """The account's calendar (under the global caps) without the post that moves."""
        return account_calendar(session, account, global_caps(session), [job.id], job.route)

    def check_move(self, job_id: int, at: datetime, now: datetime | None = None) -> datetime | None:
        """None if the post may move to `at`, else the nearest free slot at or after it."""
        with self.db.session() as session:
            job, account = self._movable(session, job_id)
            at = self._moment(at, now)
            try:
                free = self._calendar_without(session, job, account).next_free(at)
            except NoSlot as exc:
                raise ValidationError("at", str(exc)) from None
            return None if free == at else free

    def reschedule(self, job_id: int, at: datetime, now: datetime | None = None) -> dict[str, Any]:
        """Move a queued post to `at` if that is a free slot for its account."""
        from .jobs import add_event

        with self.db.write() as session:
            job, account = self._movable(session, job_id)
            at = self._moment(at, now)
            try:
                free = self._calendar_without(session, job, account).next_free(at)
            except NoSlot as exc:
                raise ValidationError("at", str(exc)) from None
            if free != at:
                local = free.astimezone(ZoneInfo(account.timezone or "UTC"))
                raise ValidationError(
                    "at",
                    f"not a free slot for @{account.username}; the next free one is "
                    f"{local:%a %d %b %H:%M} ({account.timezone or 'UTC'})",
                )
            previous = job.next_attempt_at or job.scheduled_at
            job.scheduled_at = at
            job.next_attempt_at = at
            job.pinned_time = True
            add_event(
                session,
                job,
                "rescheduled",
                f"moved by the operator from {previous.isoformat() if previous else '-'} "
                f"to {at.isoformat()}",
            )
            return {"id": job.id, "scheduled_at": at, "account_id": account.id}

    @staticmethod
    def _moment(at: datetime, now: datetime | None) -> datetime:
        parsed = f.moment()("at", at)
        assert isinstance(parsed, datetime)
        if parsed < (now or datetime.now(UTC)):
            raise ValidationError("at", "is in the past")
        return parsed

    @staticmethod
    def _movable(session: Any, job_id: int) -> tuple[Job, Account]:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound("job", job_id)
        if job.status not in MOVABLE:
            raise DomainError(f"job {job_id} is {job.status}; only waiting posts can be moved")
        account = session.get(Account, job.account_id)
        assert account is not None
        return job, account

    # --- campaign draft -----------------------------------------------------------------
    def preview_campaign(
        self, record: dict[str, Any], now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """The slots a campaign would get, computed exactly as `CampaignService.start`
        would, without saving anything (the wizard's review page)."""
        values = f.parse_record(camp.FIELDS, record)
        if not values.get("media_ids"):
            raise ValidationError("media_ids", "choose at least one media item")
        selection = values.get("account_selection") or {}
        if not any(selection.get(k) for k in ("accounts", "group", "tags")):
            raise ValidationError("account_selection", "choose accounts by list, group or tag")
        defaults = {
            "strategy": CampaignStrategy.ROUND_ROBIN.value,
            "caption_template": "{caption} {hashtags}",
            "hashtags": [],
            "options": {},
            "max_attempts": 3,
        }
        draft = Campaign(**{**defaults, **{k: v for k, v in values.items() if v is not None}})
        service = camp.CampaignService(self.db)
        with self.db.session() as session:
            for media_id in draft.media_ids:
                if session.get(MediaItem, media_id) is None:
                    raise ValidationError("media_ids", f"no media item with id {media_id}")
            planned = service.plan(draft, session, now)
            return [
                {
                    "account": f"{p.account.platform}:{p.account.username}",
                    "account_id": p.account.id,
                    "account_timezone": p.account.timezone or "UTC",
                    "media_id": p.media.id,
                    "media_title": p.media.title,
                    "scheduled_at": p.scheduled_at,
                    "caption": p.caption,
                }
                for p in planned
            ]
