"""Upload jobs: creation (with automatic slots), queries, operator actions, the event log."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..store.db import Database
from ..store.enums import (
    CLAIMABLE_JOB_STATUSES,
    FINAL_JOB_STATUSES,
    WAITING_JOB_STATUSES,
    JobRoute,
    JobStatus,
)
from ..store.models import Account, Artifact, Job, JobEvent, MediaItem
from . import fields as f
from . import lifecycle
from .duplicates import duplicate_message, find_duplicate, window_days
from .errors import Conflict, DomainError, NotFound, ValidationError
from .events import EngineEvents, EventKind
from .lifecycle import Actor
from .records import row_dict
from .slots import account_calendar, global_caps
from .uploads import upload_view

OPTION_FIELDS: dict[str, f.Field] = {
    field.name: field
    for field in [
        f.Field("privacy_level", f.text(40, pattern=r"[A-Z_]+")),
        # set by a campaign's default privacy (domain/compliance.py): not a choice
        f.Field("privacy_default", f.boolean()),
        f.Field("disable_comment", f.boolean()),
        f.Field("disable_duet", f.boolean()),
        f.Field("disable_stitch", f.boolean()),
        f.Field("video_cover_timestamp_ms", f.integer(0)),
        f.Field("brand_content_toggle", f.boolean()),
        f.Field("brand_organic_toggle", f.boolean()),
        f.Field("is_aigc", f.boolean()),
        f.Field("mode", f.text(10, pattern="direct|inbox")),
        f.Field("source", f.text(10, pattern="file|url")),
        f.Field("video_url", f.text(2000, pattern=r"https?://\S+")),
        f.Field("platforms", f.string_list()),
        f.Field("scheduled_at", f.text(40)),
        f.Field("timezone", f.timezone_name()),
        # the moment the operator pressed Post / Schedule on TikTok's post screen
        # (domain/tiktok_compliance.py): their consent, kept with the job
        f.Field("consent_at", f.text(40, pattern=r"\d{4}-\d\d-\d\dT[0-9:.+Z-]+")),
    ]
}
# TikTok counts a caption (its `title`) in UTF-16 code units: an emoji outside the BMP
# takes two of the 2200
CAPTION_MAX = 2200


def caption_units(text: str) -> int:
    """The caption's length as TikTok counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2

# the operator's words for TikTok's privacy levels (`--privacy public`, the wizard)
PRIVACY_ALIASES: dict[str, str] = {
    "public": "PUBLIC_TO_EVERYONE",
    "friends": "MUTUAL_FOLLOW_FRIENDS",
    "followers": "FOLLOWER_OF_CREATOR",
    "private": "SELF_ONLY",
}
PRIVACY_LEVELS = tuple(PRIVACY_ALIASES.values())

# routes whose platform refuses a post without a caption: Upload-Post's `title` is
# required ("title is required"); TikTok's API and the web editor take an empty one
CAPTION_REQUIRED_ROUTES = frozenset({JobRoute.UPLOAD_POST.value})


def privacy_level(value: str) -> str:
    """`public` or `PUBLIC_TO_EVERYONE` (any case) -> TikTok's value."""
    text = value.strip()
    found = PRIVACY_ALIASES.get(text.lower()) or (
        text.upper() if text.upper() in PRIVACY_LEVELS else None
    )
    if found is None:
        allowed = ", ".join(f"{a} ({v})" for a, v in PRIVACY_ALIASES.items())
        raise ValidationError("privacy_level", f"must be one of {allowed}")
    return found


def default_caption(media: MediaItem) -> str:
    """A job's caption when none is given: the media's caption and hashtags."""
    tags = " ".join(f"#{t}" for t in media.hashtags)
    return " ".join(p for p in [media.default_caption or "", tags] if p)


def check_caption(route: str, caption: str, media: MediaItem) -> None:
    """Refuse, at creation, a job its route would fail for want of a caption (campaign
    plans and the CLI's `jobs add` ask; JobService.add itself does not, so what the
    engine and imports create is never refused after the fact)."""
    if route in CAPTION_REQUIRED_ROUTES and not caption.strip():
        name = media.title or media.path
        raise ValidationError(
            "caption",
            f"media {name!r} has no caption and the {route} route requires one"
            " (give a caption, a caption template, or the media's default caption)",
        )


def parse_options(raw: dict[str, Any] | None) -> dict[str, Any]:
    raw = dict(raw or {})
    if isinstance(raw.get("privacy_level"), str) and raw["privacy_level"].strip():
        raw["privacy_level"] = privacy_level(raw["privacy_level"])
    values = f.parse_record(OPTION_FIELDS, raw)
    return {k: v for k, v in values.items() if v is not None}


def add_event(
    session: Session,
    job: Job,
    kind: str,
    message: str | None = None,
    data: dict[str, Any] | None = None,
) -> JobEvent:
    event = JobEvent(job_id=job.id, kind=kind, status=job.status, message=message, data=data)
    session.add(event)
    return event


def _cancel_refusal(state: lifecycle.JobState) -> str:
    if state.status in FINAL_JOB_STATUSES:
        return f"job {state.id} is already {state.status}"
    return f"job {state.id} is {state.status}: the platform already has it, it cannot be cancelled"


class JobService:
    def __init__(self, db: Database, events: EngineEvents | None = None) -> None:
        self.db = db
        # the operator's moves are announced here (Services shares it with the engine)
        self.bus = events or EngineEvents()

    def add(
        self,
        *,
        account_id: int,
        media_id: int,
        route: str,
        at: str | datetime | None = "now",
        caption: str | None = None,
        options: dict[str, Any] | None = None,
        max_attempts: int = 3,
        allow_duplicate: bool = False,
        campaign_id: int | None = None,
        now: datetime | None = None,
    ) -> Job:
        if route not in [r.value for r in JobRoute]:
            raise ValidationError("route", f"must be one of {', '.join(r.value for r in JobRoute)}")
        if caption is not None and caption_units(caption) > CAPTION_MAX:
            raise ValidationError(
                "caption",
                f"is {caption_units(caption)} units long; TikTok takes at most {CAPTION_MAX} "
                "(UTF-16 units: most emoji count 2)",
            )
        opts = parse_options(options)
        now = now or datetime.now(UTC)
        with self.db.write() as session:
            account = session.get(Account, account_id)
            if account is None:
                raise NotFound("account", account_id)
            media = session.get(MediaItem, media_id)
            if media is None:
                raise NotFound("media", media_id)
            pinned = True
            if at is None or at == "now":
                scheduled = now
            elif at == "auto":
                # the global caps too: the slot shown is the one the engine will keep
                calendar = account_calendar(session, account, global_caps(session), route=route)
                scheduled = calendar.next_free(now)
                pinned = False
            else:
                moment = f.moment()("at", at)
                if moment is None:  # a blank --at
                    raise ValidationError("at", "give a time, 'now' or 'auto'")
                scheduled = moment
            if not allow_duplicate:
                other = find_duplicate(
                    session,
                    account_id=account.id,
                    media_id=media.id,
                    around=scheduled,
                    days=window_days(session),
                )
                if other is not None:
                    raise ValidationError("media", duplicate_message(other))
            if caption is None:
                caption = default_caption(media)
            job = Job(
                account_id=account.id,
                media_id=media.id,
                campaign_id=campaign_id,
                route=route,
                status=lifecycle.INITIAL.value,
                caption=caption,
                options=opts,
                scheduled_at=scheduled,
                next_attempt_at=scheduled,
                pinned_time=pinned,
                max_attempts=max_attempts,
                allow_duplicate=allow_duplicate,
            )
            session.add(job)
            session.flush()
            add_event(session, job, EventKind.CREATED, f"queued for {scheduled.isoformat()}")
            return job

    def get(self, job_id: int) -> Job:
        with self.db.session() as session:
            job = session.get(Job, job_id)
        if job is None:
            raise NotFound("job", job_id)
        return job

    def _filtered(
        self,
        query: Any,
        status: str | list[str] | None,
        account_id: int | None,
        campaign_id: int | None,
        route: str | None,
        search: str | None,
        since: datetime | None,
    ) -> Any:
        if status:
            statuses = [status] if isinstance(status, str) else status
            for s in statuses:
                if s not in [x.value for x in JobStatus]:
                    raise ValidationError("status", f"unknown job status {s!r}")
            query = query.where(Job.status.in_(statuses))
        if account_id is not None:
            query = query.where(Job.account_id == account_id)
        if campaign_id is not None:
            query = query.where(Job.campaign_id == campaign_id)
        if route:
            query = query.where(Job.route == route)
        if search:
            query = query.where(Job.caption.like(f"%{search}%"))
        if since:
            query = query.where(Job.updated_at >= since)
        return query

    def list(
        self,
        *,
        status: str | list[str] | None = None,
        account_id: int | None = None,
        campaign_id: int | None = None,
        route: str | None = None,
        search: str | None = None,
        since: datetime | None = None,
        offset: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Job]:
        with self.db.session() as session:
            order = Job.id.desc() if newest_first else Job.id
            query = self._filtered(
                select(Job).order_by(order), status, account_id, campaign_id, route, search, since
            )
            return list(session.scalars(query.offset(offset).limit(limit)))

    def count(self, **filters: Any) -> int:
        with self.db.session() as session:
            query = self._filtered(
                select(func.count(Job.id)),
                filters.get("status"),
                filters.get("account_id"),
                filters.get("campaign_id"),
                filters.get("route"),
                filters.get("search"),
                filters.get("since"),
            )
            return session.scalar(query) or 0

    def events(self, job_id: int) -> builtins.list[JobEvent]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)
                )
            )

    def artifacts(self, job_id: int) -> builtins.list[Artifact]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(Artifact).where(Artifact.job_id == job_id).order_by(Artifact.id)
                )
            )

    def cancel(self, job_id: int) -> Job:
        with lifecycle.committed(self.db, self.bus) as (session, change):
            state = change.state_for(job_id, "cancel", Actor.OPERATOR, _cancel_refusal)
            if state.reached_platform:
                # a cancelled job leaves the duplicate guard: not while its post may go live
                raise DomainError(
                    f"job {job_id} may already be on the platform (receipt "
                    f"{state.receipt or 'unknown'}): mark it published if it went out, or "
                    "retry it with --force"
                )
            self._moved(change.move(state, "cancel", Actor.OPERATOR, "cancelled by the operator"))
            return self._reloaded(session, job_id)

    def retry(self, job_id: int, *, force: bool = False, now: datetime | None = None) -> Job:
        """Queue a failed / needs-attention / cancelled job again, now.

        A job that may have reached the platform (submitted without a receipt, or with a
        receipt) is only re-queued with force=True: the operator has checked that
        nothing was posted.
        """
        with lifecycle.committed(self.db, self.bus, now) as (session, change):
            state = change.state_for(
                job_id,
                "operator_retry",
                Actor.OPERATOR,
                lambda s: f"job {s.id} is {s.status}; only failed, needs_attention or "
                "cancelled jobs can be retried",
            )
            if not force and self._maybe_posted(session, state):
                raise DomainError(
                    f"job {job_id} may already be on the platform (receipt "
                    f"{state.receipt or 'unknown'}): check the account, then retry with --force"
                )
            moved = change.move(
                state,
                "operator_retry",
                Actor.OPERATOR,
                "re-queued by the operator" + (" (forced)" if force else ""),
                next_at=change.now,
                force=force,
            )
            self._moved(moved)
            return self._reloaded(session, job_id)

    def change_route(self, job_id: int, route: str) -> Job:
        """Put the job on another route, before it is claimed (the life cycle's
        change_route). A job the platform may have (a receipt, an outcome nobody knows)
        keeps its route: posting it elsewhere could post it twice."""
        try:
            new_route = JobRoute(route).value
        except ValueError:
            names = ", ".join(r.value for r in JobRoute)
            raise ValidationError("route", f"{route!r} is not one of {names}") from None
        with lifecycle.committed(self.db, self.bus) as (session, change):
            state = change.state_for(
                job_id,
                "change_route",
                Actor.OPERATOR,
                lambda s: f"job {s.id} is {s.status}; its route can change only before it "
                "is claimed",
            )
            if state.route == new_route:
                return self._reloaded(session, job_id)
            if self._maybe_posted(session, state):
                raise DomainError(
                    f"job {job_id} may already be on the platform (receipt "
                    f"{state.receipt or 'unknown'}): check the account before posting it "
                    "another way"
                )
            moved = change.move(
                state,
                "change_route",
                Actor.OPERATOR,
                f"route {state.route} → {new_route} (the operator)",
                data={"from": state.route, "to": new_route},
                route=new_route,
            )
            self._moved(moved)
            return self._reloaded(session, job_id)

    def edit(
        self,
        job_id: int,
        *,
        caption: str | None = None,
        scheduled_at: str | datetime | None = None,
        route: str | None = None,
        now: datetime | None = None,
    ) -> Job:
        """Change a waiting job's caption, time and/or route (the life cycle's edit and
        change_route), in one transaction. Each write is guarded by the status and lease
        read inside it, so a claim that lands meanwhile makes the edit refuse with one
        line rather than change a job a worker is posting. `scheduled_at`: ISO 8601 or a
        datetime; the new time is pinned (the operator chose it)."""
        if caption is not None and caption_units(caption) > CAPTION_MAX:
            raise ValidationError(
                "caption",
                f"is {caption_units(caption)} units long; TikTok takes at most {CAPTION_MAX} "
                "(UTF-16 units: most emoji count 2)",
            )
        moment: datetime | None = None
        if isinstance(scheduled_at, datetime):
            moment = scheduled_at if scheduled_at.tzinfo else scheduled_at.replace(tzinfo=UTC)
        elif scheduled_at is not None:
            moment = f.moment()("at", scheduled_at)
            if moment is None:
                raise ValidationError("at", "give a time as ISO 8601, e.g. 2026-05-01T18:00")
        if route is not None:
            try:
                route = JobRoute(route).value
            except ValueError:
                names = ", ".join(r.value for r in JobRoute)
                raise ValidationError("route", f"{route!r} is not one of {names}") from None
        def refuse(s: lifecycle.JobState) -> str:
            return f"job {s.id} is {s.status}; it can be edited only before it is claimed"

        with lifecycle.committed(self.db, self.bus, now) as (session, change):
            state = change.state_for(job_id, "edit", Actor.OPERATOR, refuse)
            if state.lease_owner is not None and (
                state.lease_expires_at is None or state.lease_expires_at > change.now
            ):
                raise Conflict(
                    f"job {job_id} was claimed by {state.lease_owner}; it can no longer be edited"
                )
            job = session.get(Job, job_id)
            assert job is not None  # state_for found it
            new_route = route if route is not None and route != state.route else None
            new_caption = caption if caption is not None else job.caption
            if new_route is not None or caption is not None:
                media = session.get(MediaItem, job.media_id)
                if media is not None:
                    check_caption(new_route or state.route, new_caption, media)
            if new_route is not None and self._maybe_posted(session, state):
                raise DomainError(
                    f"job {job_id} may already be on the platform (receipt "
                    f"{state.receipt or 'unknown'}): check the account before posting it "
                    "another way"
                )
            changed: list[str] = []
            if caption is not None and caption != job.caption:
                changed.append("caption")
            if moment is not None and moment != job.scheduled_at:
                changed.append(f"time {moment.isoformat()}")
            if changed:
                moved = change.move(
                    state,
                    "edit",
                    Actor.OPERATOR,
                    "edited by the operator: " + ", ".join(changed),
                    data={"changed": changed},
                    caption=new_caption,
                    at=moment if moment is not None else job.next_attempt_at,
                    pinned=True if moment is not None else job.pinned_time,
                )
                self._claimed_meanwhile(job_id, moved)
                assert moved is not None
                state = moved
            if new_route is not None:
                moved = change.move(
                    state,
                    "change_route",
                    Actor.OPERATOR,
                    f"route {state.route} → {new_route} (the operator)",
                    data={"from": state.route, "to": new_route},
                    route=new_route,
                )
                self._claimed_meanwhile(job_id, moved)
            return self._reloaded(session, job_id)

    @staticmethod
    def _claimed_meanwhile(job_id: int, moved: lifecycle.JobState | None) -> None:
        if moved is None:  # the guarded write found another status or holder
            raise Conflict(f"job {job_id} was claimed meanwhile; it can no longer be edited")

    @staticmethod
    def _maybe_posted(session: Session, state: lifecycle.JobState) -> bool:
        """Whether the platform may have the job: a receipt, a submission, or an attempt
        whose outcome nobody knows (the submit died, a crash left it unknown)."""
        if state.reached_platform:
            return True
        if state.status != JobStatus.NEEDS_ATTENTION or not state.attempts:
            return False
        data = session.scalar(
            select(JobEvent.data)
            .where(JobEvent.job_id == state.id, JobEvent.kind == EventKind.NEEDS_ATTENTION.value)
            .order_by(JobEvent.id.desc())
            .limit(1)
        )
        return isinstance(data, dict) and data.get("code") in lifecycle.UNKNOWN_OUTCOME_CODES

    def mark_published(self, job_id: int, url: str, *, now: datetime | None = None) -> Job:
        """The operator checked that a failed or needs-attention job went out after all:
        published, with the post's URL (its campaign may complete)."""
        url = f.text(2000, required=True, pattern=r"https?://\S+")("url", url) or ""
        if not url:
            raise ValidationError("url", "give the post's URL")
        with lifecycle.committed(self.db, self.bus, now) as (session, change):
            state = change.state_for(
                job_id,
                "mark_published",
                Actor.OPERATOR,
                lambda s: f"job {s.id} is {s.status}; only failed or needs_attention jobs "
                "can be marked published",
            )
            moved = change.move(
                state,
                "mark_published",
                Actor.OPERATOR,
                f"marked published by the operator: {url}",
                data={"post_url": url, "post_id": None},
                post_url=url,
                post_id=None,
                results=None,
                error=None,
            )
            self._moved(moved)
            return self._reloaded(session, job_id)

    @staticmethod
    def _moved(moved: lifecycle.JobState | None) -> None:
        if moved is None:  # changed between the read and the write (another writer)
            raise Conflict("the job changed meanwhile; look at it again")

    @staticmethod
    def _reloaded(session: Session, job_id: int) -> Job:
        # the life cycle wrote the row with statements: read it afresh
        job = session.get(Job, job_id, populate_existing=True)
        if job is None:
            raise NotFound("job", job_id)
        return job

    def bulk_retry(self, *, status: str = JobStatus.FAILED.value, **filters: Any) -> builtins.list[int]:
        done = []
        for job in self.list(status=status, **filters):
            try:
                self.retry(job.id)
                done.append(job.id)
            except DomainError:
                continue
        return done

    def bulk_cancel(self, **filters: Any) -> builtins.list[int]:
        done = []
        for job in self.list(
            status=[s.value for s in WAITING_JOB_STATUSES],
            **filters,
        ):
            self.cancel(job.id)
            done.append(job.id)
        return done

    def stats(self) -> dict[str, Any]:
        with self.db.session() as session:
            by_status = dict(
                session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
            )
            by_route = dict(
                session.execute(select(Job.route, func.count()).group_by(Job.route)).all()
            )
            by_account = {
                f"{platform}:{username}": count
                for platform, username, count in session.execute(
                    select(Account.platform, Account.username, func.count(Job.id))
                    .join(Job, Job.account_id == Account.id)
                    .group_by(Account.id)
                )
            }
            published = session.execute(
                select(Job.scheduled_at, Job.published_at).where(
                    and_(Job.status == JobStatus.PUBLISHED.value, Job.published_at.is_not(None))
                )
            ).all()
        finished = by_status.get("published", 0) + by_status.get("failed", 0)
        delays = [(p - s).total_seconds() for s, p in published if s is not None and p is not None]
        return {
            "total": sum(by_status.values()),
            "by_status": by_status,
            "by_route": by_route,
            "by_account": by_account,
            "success_rate": (by_status.get("published", 0) / finished) if finished else None,
            "avg_seconds_scheduled_to_published": (sum(delays) / len(delays)) if delays else None,
        }

    def upcoming(self, limit: int = 10, now: datetime | None = None) -> builtins.list[Job]:
        now = now or datetime.now(UTC)
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(Job)
                    .where(Job.status.in_(sorted(CLAIMABLE_JOB_STATUSES)))
                    .where(Job.next_attempt_at >= now - timedelta(days=1))
                    .order_by(Job.next_attempt_at)
                    .limit(limit)
                )
            )

    def to_dict(self, job: Job) -> dict[str, Any]:
        return row_dict(job)

    def upload(self, job_id: int) -> dict[str, Any] | None:
        """The job's resumable upload (progress across restarts, never its URL)."""
        with self.db.session() as session:
            return upload_view(session, job_id)

    def event_dict(self, event: JobEvent) -> dict[str, Any]:
        return row_dict(event)

    def artifact_dict(self, artifact: Artifact) -> dict[str, Any]:
        data = row_dict(artifact, omit=frozenset({"content"}))
        data["size"] = len(artifact.content)
        return data
