"""SQLAlchemy 2.x models: everything Piper keeps, in one encrypted database.

Secrets (account passwords, browser storage state, route credentials, settings, proxy
passwords, upload URLs) have the sealed types of store/sealed.py: plain in the local file,
which SQLCipher encrypts whole; sealed with the team's key on a team's PostgreSQL.
Column names are the field names the CLI's JSON and the import/export formats use.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .enums import (
    AccountStatus,
    CampaignStatus,
    CampaignStrategy,
    JobStatus,
    MissedPolicy,
    ProxyKind,
    ProxyScheme,
    ProxyStatus,
)
from .sealed import SealedJSON, SealedText
from .types import JSONText, UTCDateTime

PUBLISHED_ONLY = f"status = '{JobStatus.PUBLISHED.value}'"
FAILED_ONLY = f"status = '{JobStatus.FAILED.value}'"


# byte counts: PostgreSQL's INTEGER stops at 2 GiB (TikTok takes 4 GB videos); SQLite's
# INTEGER is 64-bit already, and its schema keeps the type it was made with
BYTES = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONText()}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Proxy(TimestampMixin, Base):
    __tablename__ = "proxies"
    __table_args__ = (UniqueConstraint("scheme", "host", "port", "username", name="uq_proxy"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(120))
    scheme: Mapped[str] = mapped_column(String(10), default=ProxyScheme.HTTP.value)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    # "" rather than NULL so that the unique constraint also holds for proxies without auth
    username: Mapped[str] = mapped_column(String(255), default="")
    password: Mapped[str | None] = mapped_column(
        SealedText("proxies.password", local_length=255)
    )
    kind: Mapped[str] = mapped_column(String(20), default=ProxyKind.DATACENTER.value)
    status: Mapped[str] = mapped_column(String(20), default=ProxyStatus.UNCHECKED.value)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    exit_ip: Mapped[str | None] = mapped_column(String(64))
    # ISO 3166 alpha-2 of the exit IP, as the check's IP-info service answered
    country: Mapped[str | None] = mapped_column(String(2))
    last_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class BrowserProfile(TimestampMixin, Base):
    __tablename__ = "browser_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    template: Mapped[str | None] = mapped_column(String(60))
    user_agent: Mapped[str] = mapped_column(Text)
    viewport_width: Mapped[int] = mapped_column(Integer, default=1366)
    viewport_height: Mapped[int] = mapped_column(Integer, default=768)
    device_scale_factor: Mapped[float] = mapped_column(Float, default=1.0)
    is_mobile: Mapped[bool] = mapped_column(Boolean, default=False)
    has_touch: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(35), default="en-US")
    timezone: Mapped[str | None] = mapped_column(String(64))
    geolocation_lat: Mapped[float | None] = mapped_column(Float)
    geolocation_lon: Mapped[float | None] = mapped_column(Float)
    color_scheme: Mapped[str] = mapped_column(String(20), default="light")


class Account(TimestampMixin, Base):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("platform", "username", name="uq_account"),
        Index("ix_accounts_group", "group"),
        Index("ix_accounts_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(30), default="tiktok")
    username: Mapped[str] = mapped_column(String(120))
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(255))
    password: Mapped[str | None] = mapped_column(SealedText("accounts.password"))
    status: Mapped[str] = mapped_column(String(20), default=AccountStatus.ACTIVE.value)
    status_reason: Mapped[str | None] = mapped_column(Text)
    cooldown_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    group: Mapped[str | None] = mapped_column(String(120))
    tags: Mapped[list[str]] = mapped_column(JSONText(), default=list)
    proxy_id: Mapped[int | None] = mapped_column(ForeignKey("proxies.id", ondelete="SET NULL"))
    profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("browser_profiles.id", ondelete="SET NULL")
    )
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # ISO 3166 alpha-2 (from an import file); else the time zone's country is used
    country: Mapped[str | None] = mapped_column(String(2))
    window_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    window_start: Mapped[time | None] = mapped_column(Time)
    window_end: Mapped[time | None] = mapped_column(Time)
    min_spacing_minutes: Mapped[int] = mapped_column(Integer, default=60)
    max_posts_per_day: Mapped[int] = mapped_column(Integer, default=3)
    last_post_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Publishing routes in order of preference, e.g. ["tiktok_api", "browser"].
    routes: Mapped[list[str]] = mapped_column(JSONText(), default=list)
    # Browser session (cookies + local storage) as Playwright storage state: secret.
    storage_state: Mapped[dict[str, Any] | None] = mapped_column(
        SealedJSON("accounts.storage_state")
    )
    notes: Mapped[str | None] = mapped_column(Text)

    proxy: Mapped[Proxy | None] = relationship(lazy="selectin")
    profile: Mapped[BrowserProfile | None] = relationship(lazy="selectin")


class RouteCredential(Base):
    """Per-account credentials for one route: OAuth tokens, Upload-Post profile name."""

    __tablename__ = "route_credentials"
    __table_args__ = (UniqueConstraint("account_id", "route", name="uq_route_credential"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    route: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(SealedJSON("route_credentials.data"), default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TeamKey(Base):
    """The team's data key, wrapped by the team passphrase's key (store/sealed.py); one
    row on a team server, none in a local file (migration 0008)."""

    __tablename__ = "team_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    wrapped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class TeamDesktop(Base):
    """A desktop that joined the team: who it is and when its engine last said so."""

    __tablename__ = "team_desktops"

    # random, made once per data dir (the local setting team.desktop_id)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    host: Mapped[str] = mapped_column(String(120))
    operator: Mapped[str] = mapped_column(String(120))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # its engine: running / paused / stopped, and the lease owner its claims carry
    engine_state: Mapped[str | None] = mapped_column(String(20))
    engine_owner: Mapped[str | None] = mapped_column(String(80))


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    # every value sealed on a team server (is_secret is another column; one rule is safer)
    value: Mapped[Any] = mapped_column(SealedJSON("settings.value"))
    is_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class MediaItem(TimestampMixin, Base):
    __tablename__ = "media_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BYTES)
    duration_sec: Mapped[float | None] = mapped_column(Float)
    title: Mapped[str | None] = mapped_column(String(300))
    default_caption: Mapped[str | None] = mapped_column(Text)
    hashtags: Mapped[list[str]] = mapped_column(JSONText(), default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    # "video" or "photo_set" (migration 0009); a photo set keeps its images in order
    kind: Mapped[str] = mapped_column(String(20), default="video", server_default="video")
    images: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONText())
    cover_index: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Campaign(TimestampMixin, Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=CampaignStatus.DRAFT.value)
    route: Mapped[str] = mapped_column(String(20))
    caption_template: Mapped[str] = mapped_column(Text, default="{caption} {hashtags}")
    hashtags: Mapped[list[str]] = mapped_column(JSONText(), default=list)
    media_ids: Mapped[list[int]] = mapped_column(JSONText(), default=list)
    # {"accounts": ["platform:username", ...], "group": str|None, "tags": [...]}
    account_selection: Mapped[dict[str, Any]] = mapped_column(JSONText(), default=dict)
    strategy: Mapped[str] = mapped_column(String(20), default=CampaignStrategy.ROUND_ROBIN.value)
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    options: Mapped[dict[str, Any]] = mapped_column(JSONText(), default=dict)
    missed_policy: Mapped[str] = mapped_column(String(20), default=MissedPolicy.RESLOT.value)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    seed: Mapped[int | None] = mapped_column(Integer)


class Job(TimestampMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_next", "status", "next_attempt_at"),
        Index("ix_jobs_account_sched", "account_id", "scheduled_at"),
        Index("ix_jobs_campaign", "campaign_id"),
        # partial, for "published/failed today" and "failed since" (migration 0005)
        Index(
            "ix_jobs_published",
            "status",
            "published_at",
            sqlite_where=text(PUBLISHED_ONLY),
            postgresql_where=text(PUBLISHED_ONLY),
        ),
        Index(
            "ix_jobs_failed",
            "status",
            "updated_at",
            sqlite_where=text(FAILED_ONLY),
            postgresql_where=text(FAILED_ONLY),
        ),
        Index("ix_jobs_scheduled", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable idempotency key (e.g. Upload-Post request_id) across retries and restarts.
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    media_id: Mapped[int] = mapped_column(ForeignKey("media_items.id", ondelete="RESTRICT"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    route: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=JobStatus.QUEUED.value)
    caption: Mapped[str] = mapped_column(Text, default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSONText(), default=dict)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # True when the operator gave the time explicitly: kept even outside the window.
    pinned_time: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    receipt_kind: Mapped[str | None] = mapped_column(String(20))
    receipt: Mapped[str | None] = mapped_column(String(200))
    post_url: Mapped[str | None] = mapped_column(Text)
    post_id: Mapped[str | None] = mapped_column(String(100))
    platform_results: Mapped[dict[str, Any] | None] = mapped_column(JSONText())
    last_error: Mapped[str | None] = mapped_column(Text)
    attention_reason: Mapped[str | None] = mapped_column(Text)
    allow_duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[Account] = relationship(lazy="raise")
    media: Mapped[MediaItem] = relationship(lazy="raise")


class JobUpload(Base):
    """A resumable upload the job's current receipt opened (TikTok's FILE_UPLOAD): kept
    with the receipt so that a restart continues it where the platform's bytes end.

    `url` is a credential (anyone holding it can upload into the post): it lives only
    here, in the encrypted file, and is cleared once the upload is complete. One row per
    job: a fresh publish replaces it."""

    __tablename__ = "job_uploads"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    receipt: Mapped[str] = mapped_column(String(200))
    # the process sending the bytes (a lease owner): only it records acks, and another
    # takes the upload over only once it is gone (or the URL's hour is over)
    holder: Mapped[str | None] = mapped_column(String(80))
    url: Mapped[str | None] = mapped_column(SealedText("job_uploads.url"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    total_bytes: Mapped[int] = mapped_column(BYTES)
    chunk_size: Mapped[int] = mapped_column(BYTES)
    chunk_count: Mapped[int] = mapped_column(Integer)
    chunks_acked: Mapped[int] = mapped_column(Integer, default=0)
    bytes_acked: Mapped[int] = mapped_column(BYTES, default=0)
    # how often a restart continued it, and how many earlier uploads of the job were
    # abandoned for a fresh publish (what the job details show across restarts)
    resumes: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobEvent(Base):
    __tablename__ = "job_events"
    __table_args__ = (Index("ix_job_events_job", "job_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str | None] = mapped_column(String(20))
    message: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONText())
    # who made it, on a team server: the desktop's id and its operator, stamped by the
    # server from the writing connection's settings (migration 0008), so every writer
    # of an event records them without being told
    # (FetchedValue: the ORM leaves them out of its INSERT, so the server's default runs)
    desktop: Mapped[str | None] = mapped_column(String(32), server_default=FetchedValue())
    operator: Mapped[str | None] = mapped_column(String(120), server_default=FetchedValue())


class Artifact(Base):
    """Evidence kept with a job (failure screenshot, page HTML, confirmation), encrypted
    with the rest of the database."""

    __tablename__ = "artifacts"
    __table_args__ = (Index("ix_artifacts_job", "job_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IntakeOrigin(Base):
    """Where a job came from outside (domain/origins.py): the Telegram chat and message
    that sent its video, so that the chat is told when the job is published or needs
    attention, across restarts. A row without a job is an intake still under way: the
    highest job id before it began (`job_floor`) lets a restart adopt the jobs it had
    already made instead of queueing the file twice."""

    __tablename__ = "intake_origins"
    __table_args__ = (
        Index("ix_intake_origins_ref", "source", "ref"),
        Index("ix_intake_origins_job", "job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str] = mapped_column(String(200))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    job_floor: Mapped[int | None] = mapped_column(Integer)
    # the job status the source was last told of (a restart tells what it missed)
    told: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
