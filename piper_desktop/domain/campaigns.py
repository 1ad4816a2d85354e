"""Campaigns: media × accounts × caption template × strategy → jobs in free slots."""

from __future__ import annotations

import builtins
import random
import string
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..store.db import Database
from ..store.enums import (
    FINAL_JOB_STATUSES,
    WAITING_JOB_STATUSES,
    AccountStatus,
    CampaignStatus,
    CampaignStrategy,
    JobRoute,
    JobStatus,
    MissedPolicy,
)
from ..store.models import Account, Campaign, Job, MediaItem
from . import fields as f
from . import lifecycle
from .accounts import has_tag, normalise_username
from .compliance import SETTING as COMPLIANCE_SETTING
from .compliance import default_privacy_for
from .errors import DomainError, NotFound, ValidationError
from .events import EngineEvents, EventKind
from .jobs import CAPTION_MAX, add_event, caption_units, check_caption, parse_options
from .lifecycle import Actor
from .records import row_dict
from .reslot import reslot_late_campaign_jobs
from .slots import JITTER_KEY, CampaignSlots, account_calendar, global_caps, setting

PRIVACY_KEY = "campaigns.default_privacy"
COMPLIANCE_KEY = COMPLIANCE_SETTING
PLACEHOLDERS = {"account", "display_name", "platform", "date", "hashtags", "caption", "title"}


def _template(field: str, value: Any) -> str | None:
    text = f.text(CAPTION_MAX)(field, value)
    if text is None:
        return None
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValidationError(field, f"invalid template: {exc}") from None
    unknown = names - PLACEHOLDERS
    if unknown:
        raise ValidationError(
            field,
            f"unknown placeholder {{{sorted(unknown)[0]}}} (known: "
            + ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            + ")",
        )
    return text


FIELDS: dict[str, f.Field] = {
    field.name: field
    for field in [
        f.Field("name", f.text(200, required=True), required=True),
        f.Field("route", f.choice(JobRoute), required=True),
        f.Field("caption_template", _template),
        f.Field("hashtags", f.string_list(";, ")),
        f.Field("media_ids", lambda n, v: v),
        f.Field("account_selection", lambda n, v: v),
        f.Field("strategy", f.choice(CampaignStrategy)),
        f.Field("start_at", f.moment()),
        f.Field("options", lambda n, v: parse_options(v)),
        f.Field("missed_policy", f.choice(MissedPolicy)),
        f.Field("max_attempts", f.integer(1, 20)),
        f.Field("seed", f.integer()),
    ]
}


def render_caption(template: str, values: dict[str, str]) -> str:
    return template.format_map(values).strip()


@dataclass
class PlannedJob:
    account: Account
    media: MediaItem
    scheduled_at: datetime
    caption: str


# the builtin (inside CampaignService, `list` is its method)
PlannedJobs = list[PlannedJob]


def _hashtags(*groups: list[str]) -> str:
    seen: list[str] = []
    for group in groups:
        for tag in group:
            tag = tag.lstrip("#")
            if tag and tag not in seen:
                seen.append(tag)
    return " ".join(f"#{t}" for t in seen)


# how a campaign reads beside its stored status (campaign_state)
WAITING_ON_OPERATOR = "needs_attention"
COMPLETED_WITH_PROBLEMS = "completed_with_problems"


def campaign_state(status: str, counts: Mapping[str, int]) -> str:
    """The campaign's status as people should read it, from its stored status and its
    jobs' counts by status: a running (or paused) campaign whose every open job waits
    for the operator says so instead of "running" (nothing will move until they act);
    a completed one with failed jobs says it completed with problems."""
    total = sum(counts.values())
    failed = counts.get(JobStatus.FAILED.value, 0)
    if status in (CampaignStatus.RUNNING, CampaignStatus.PAUSED) and total:
        open_jobs = total - sum(counts.get(s.value, 0) for s in FINAL_JOB_STATUSES)
        if open_jobs and counts.get(JobStatus.NEEDS_ATTENTION.value, 0) == open_jobs:
            return WAITING_ON_OPERATOR
    if status == CampaignStatus.COMPLETED and failed:
        return COMPLETED_WITH_PROBLEMS
    return status


class CampaignService:
    def __init__(self, db: Database, events: EngineEvents | None = None) -> None:
        self.db = db
        self.bus = events or EngineEvents()

    def create(self, record: dict[str, Any]) -> Campaign:
        values = f.parse_record(FIELDS, record)
        media_ids = values.get("media_ids") or []
        if not isinstance(media_ids, list) or not media_ids:
            raise ValidationError("media_ids", "choose at least one media item")
        selection = values.get("account_selection") or {}
        if not isinstance(selection, dict) or not any(
            selection.get(k) for k in ("accounts", "group", "tags")
        ):
            raise ValidationError("account_selection", "choose accounts by list, group or tag")
        with self.db.write() as session:
            if session.scalar(select(Campaign).where(Campaign.name == values["name"])):
                raise ValidationError("name", f"a campaign named {values['name']!r} exists")
            for media_id in media_ids:
                if session.get(MediaItem, media_id) is None:
                    raise ValidationError("media_ids", f"no media item with id {media_id}")
            accounts = self._select_accounts(session, selection)
            if not accounts:
                raise ValidationError("account_selection", "matches no active account")
            campaign = Campaign(**{k: v for k, v in values.items() if v is not None})
            session.add(campaign)
            session.flush()
            # refused now, not at posting time: a caption the route needs, a length
            self.plan(campaign, session)
            return campaign

    def selected_account_ids(self, selection: dict[str, Any]) -> builtins.list[int]:
        """The accounts a selection (list, group, tags) picks, as `create` would."""
        with self.db.session() as session:
            return [a.id for a in self._select_accounts(session, selection)]

    def _select_accounts(self, session: Session, selection: dict[str, Any]) -> list[Account]:
        query = select(Account).where(Account.status != AccountStatus.DISABLED.value)
        refs = selection.get("accounts") or []
        found: list[Account] = []
        if refs:
            for ref in refs:
                platform, _, username = ref.rpartition(":")
                account = session.scalar(
                    select(Account)
                    .where(
                        func.lower(Account.username) == normalise_username(username).lower(),
                        Account.platform == (platform or "tiktok").lower(),
                    )
                    .order_by(Account.username != normalise_username(username))
                    .limit(1)
                )
                if account is None:
                    raise ValidationError("account_selection", f"no account {ref}")
                if account.status != AccountStatus.DISABLED.value and account not in found:
                    found.append(account)
        if selection.get("group"):
            found += [
                a
                for a in session.scalars(
                    query.where(
                        func.lower(Account.group) == str(selection["group"]).strip().lower()
                    ).order_by(Account.id)
                ).unique()
                if a not in found
            ]
        for tag in selection.get("tags") or []:
            found += [
                a
                for a in session.scalars(query.where(has_tag(tag)).order_by(Account.id)).unique()
                if a not in found
            ]
        return found

    def get(self, campaign_id: int) -> Campaign:
        with self.db.session() as session:
            campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound("campaign", campaign_id)
        return campaign

    def find(self, ref: str) -> Campaign:
        if ref.isdigit():
            return self.get(int(ref))
        with self.db.session() as session:
            campaign = session.scalar(select(Campaign).where(Campaign.name == ref))
            if campaign is None:
                campaign = session.scalar(
                    select(Campaign).where(func.lower(Campaign.name) == ref.lower()).limit(1)
                )
        if campaign is None:
            raise NotFound("campaign", ref)
        return campaign

    def list(self) -> list[Campaign]:
        with self.db.session() as session:
            return list(session.scalars(select(Campaign).order_by(Campaign.id)))

    # --- expansion --------------------------------------------------------------------
    def plan(
        self, campaign: Campaign, session: Session, now: datetime | None = None
    ) -> PlannedJobs:
        """Which account posts which media when, without writing anything."""
        now = now or datetime.now(UTC)
        start = max(campaign.start_at or now, now)
        accounts = self._select_accounts(session, campaign.account_selection)
        if not accounts:
            raise ValidationError("account_selection", "matches no active account")
        media = [session.get(MediaItem, mid) for mid in campaign.media_ids]
        rng = random.Random(campaign.seed if campaign.seed is not None else campaign.id)
        # under the global caps too, so the plan shown is what the engine will do
        caps = global_caps(session)
        calendars = {
            a.id: account_calendar(session, a, caps, route=campaign.route) for a in accounts
        }
        # the stagger between accounts (in `caps`) and a jitter per slot, seeded by the
        # campaign (its seed, else its name: a draft has no id yet), so the wizard's
        # preview and the start give the same slots
        seed = campaign.seed if campaign.seed is not None else campaign.name
        slots = CampaignSlots(calendars, int(setting(session, JITTER_KEY)), seed)
        usage: Counter[int] = Counter(
            dict(
                session.execute(
                    select(Job.account_id, func.count(Job.id))
                    .where(Job.account_id.in_([a.id for a in accounts]))
                    .where(Job.status != JobStatus.CANCELLED.value)
                    .group_by(Job.account_id)
                ).all()
            )
        )
        planned: PlannedJobs = []
        template = campaign.caption_template or "{caption} {hashtags}"
        for index, item in enumerate(media):
            if item is None:
                raise ValidationError("media_ids", "a media item of this campaign was removed")
            strategy = campaign.strategy
            if strategy == CampaignStrategy.ROUND_ROBIN:
                account = accounts[index % len(accounts)]
            elif strategy == CampaignStrategy.RANDOM:
                account = rng.choice(accounts)
            else:  # least_used: fewest jobs so far, ties broken by selection order
                account = min(accounts, key=lambda a: (usage[a.id], accounts.index(a)))
            usage[account.id] += 1
            slot = slots.take_next(account.id, start)
            local = slot.astimezone(ZoneInfo(account.timezone or "UTC"))
            caption = render_caption(
                template,
                {
                    "account": account.username,
                    "display_name": account.display_name or account.username,
                    "platform": account.platform,
                    "date": local.date().isoformat(),
                    "hashtags": _hashtags(campaign.hashtags, item.hashtags),
                    "caption": item.default_caption or "",
                    "title": item.title or "",
                },
            )
            if caption_units(caption) > CAPTION_MAX:
                raise ValidationError("caption_template", f"caption for {item.title} is too long")
            check_caption(campaign.route, caption, item)
            planned.append(PlannedJob(account, item, slot, caption))
        return planned

    def preview(
        self, campaign_id: int, now: datetime | None = None
    ) -> builtins.list[dict[str, Any]]:
        with self.db.session() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise NotFound("campaign", campaign_id)
            return [
                {
                    "account": f"{p.account.platform}:{p.account.username}",
                    "media_id": p.media.id,
                    "scheduled_at": p.scheduled_at.isoformat(),
                    "caption": p.caption,
                }
                for p in self.plan(campaign, session, now)
            ]

    def start(self, campaign_id: int, now: datetime | None = None) -> builtins.list[int]:
        with self.db.write() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise NotFound("campaign", campaign_id)
            if campaign.status != CampaignStatus.DRAFT:
                raise DomainError(f"campaign {campaign.name!r} is {campaign.status}, not draft")
            ids = []
            # who can watch, unless the campaign says: the setting (not TikTok's "only me"
            # by omission); the route still refuses a level the creator does not offer
            options = {
                # none on tiktok_api while compliance mode is on (domain/compliance.py)
                **default_privacy_for(
                    campaign.route,
                    bool(setting(session, COMPLIANCE_KEY)),
                    setting(session, PRIVACY_KEY),
                ),
                **(campaign.options or {}),
            }
            for planned in self.plan(campaign, session, now):
                job = Job(
                    account_id=planned.account.id,
                    media_id=planned.media.id,
                    campaign_id=campaign.id,
                    route=campaign.route,
                    status=lifecycle.INITIAL.value,
                    caption=planned.caption,
                    options=dict(options),
                    scheduled_at=planned.scheduled_at,
                    next_attempt_at=planned.scheduled_at,
                    pinned_time=False,
                    max_attempts=campaign.max_attempts,
                )
                session.add(job)
                session.flush()
                add_event(session, job, EventKind.CREATED, f"campaign {campaign.name}")
                ids.append(job.id)
            campaign.status = CampaignStatus.RUNNING.value
            return ids

    def set_status(self, campaign_id: int, status: CampaignStatus) -> Campaign:
        allowed = {
            CampaignStatus.PAUSED: {CampaignStatus.RUNNING},
            CampaignStatus.RUNNING: {CampaignStatus.PAUSED},
        }
        with self.db.write() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise NotFound("campaign", campaign_id)
            if campaign.status not in allowed.get(status, set()):
                raise DomainError(f"campaign {campaign.name!r} is {campaign.status}")
            campaign.status = status.value
            return campaign

    def pause(self, campaign_id: int) -> Campaign:
        return self.set_status(campaign_id, CampaignStatus.PAUSED)

    def resume(self, campaign_id: int, now: datetime | None = None) -> Campaign:
        """Run again; jobs whose time passed while paused move to the next free slots."""
        campaign = self.set_status(campaign_id, CampaignStatus.RUNNING)
        with self.db.write() as session:
            reslot_late_campaign_jobs(session, campaign_id, now or datetime.now(UTC))
        return campaign

    def cancel(self, campaign_id: int) -> int:
        """Cancel the campaign and its queued jobs; jobs in flight finish."""
        with lifecycle.committed(self.db, self.bus) as (session, change):
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise NotFound("campaign", campaign_id)
            if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
                raise DomainError(f"campaign {campaign.name!r} is {campaign.status}")
            campaign.status = CampaignStatus.CANCELLED.value
            waiting = [s.value for s in WAITING_JOB_STATUSES]
            ids = list(
                session.scalars(
                    select(Job.id).where(Job.campaign_id == campaign_id, Job.status.in_(waiting))
                )
            )
            count = 0
            for job_id in ids:
                if change.move(job_id, "cancel", Actor.OPERATOR, "campaign cancelled"):
                    count += 1
            return count

    def progress(self, campaign_id: int) -> dict[str, Any]:
        with self.db.session() as session:
            campaign = session.get(Campaign, campaign_id)
            if campaign is None:
                raise NotFound("campaign", campaign_id)
            rows = session.execute(
                select(Account.platform, Account.username, Job.status, func.count(Job.id))
                .join(Account, Account.id == Job.account_id)
                .where(Job.campaign_id == campaign_id)
                .group_by(Account.id, Job.status)
            ).all()
        by_status: Counter[str] = Counter()
        per_account: dict[str, dict[str, int]] = {}
        for platform, username, status, count in rows:
            by_status[status] += count
            per_account.setdefault(f"{platform}:{username}", {})[status] = count
        total = sum(by_status.values())
        done = sum(by_status[s] for s in FINAL_JOB_STATUSES)
        return {
            "state": campaign_state(campaign.status, by_status),
            "total": total,
            "by_status": dict(by_status),
            "per_account": per_account,
            "done": done,
            "percent": round(100 * done / total, 1) if total else 0.0,
        }

    def to_dict(self, campaign: Campaign) -> dict[str, Any]:
        return row_dict(campaign)
