"""The one interface every publishing route implements.

The engine hands a `PublishRequest` to `submit`, stores the `Receipt` the moment
`on_receipt` is called (before anything else happens), then calls `check` until the
result is final. After a crash without a receipt it asks `reconcile`. What else a route
offers the engine (readiness, duties, hand-off, probe) is in `routes/spec.py`.

A route is named by its `store.enums.JobRoute` value (the one route enum); the
protocol types it as `str` so that the job's `route` column, the registry's keys and a
route added in a test compare alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class PostOptions:
    """What the operator sets per job or campaign (TikTok's post_info and friends)."""

    privacy_level: str = "SELF_ONLY"
    disable_comment: bool = False
    disable_duet: bool = False
    disable_stitch: bool = False
    video_cover_timestamp_ms: int | None = None
    brand_content_toggle: bool = False
    brand_organic_toggle: bool = False
    is_aigc: bool = False
    # "direct" posts; "inbox" uploads a draft to the creator's inbox (TikTok API only)
    mode: str = "direct"
    # "file" uploads the bytes; "url" asks the platform to pull `video_url`
    source: str = "file"
    video_url: str | None = None
    # Upload-Post: the platforms to post to (tiktok, instagram, youtube, ...)
    platforms: tuple[str, ...] = ("tiktok",)
    # ISO 8601; when set, the platform (Upload-Post / TikTok web) schedules on its side
    scheduled_at: str | None = None
    timezone: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PostOptions:
        data = dict(data or {})
        if "platforms" in data and data["platforms"] is not None:
            data["platforms"] = tuple(data["platforms"])
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known and v is not None})


@dataclass(frozen=True)
class AccountRef:
    """The account a job posts as, with what a route needs to reach the platform."""

    id: int
    platform: str
    username: str
    timezone: str = "UTC"
    # Full proxy URL with credentials (http://user:pass@host:port) or None; never logged.
    proxy_url: str | None = None


@dataclass(frozen=True)
class PublishRequest:
    job_id: int
    # Stable per job across retries and restarts: used as Upload-Post's request_id and
    # anywhere a platform accepts a client-chosen idempotency key.
    idempotency_key: str
    account: AccountRef
    media_path: Path
    media_size: int
    media_sha256: str
    caption: str
    options: PostOptions = field(default_factory=PostOptions)
    media_duration_sec: float | None = None
    title: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What the platform returned that lets us find the post again.

    kind is "publish_id" (TikTok API), "request_id" or "job_id" (Upload-Post),
    or "post_url" (web upload).
    """

    kind: str
    value: str
    post_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class CheckState(StrEnum):
    PENDING = "pending"  # still processing; check again later
    PUBLISHED = "published"
    FAILED = "failed"
    NEEDS_ATTENTION = "needs_attention"


@dataclass(frozen=True)
class CheckResult:
    state: CheckState
    post_url: str | None = None
    post_id: str | None = None
    reason: str | None = None
    retryable: bool = False
    # Upload-Post: {"tiktok": {"success": true, "url": ...}, "instagram": {...}}
    platform_results: dict[str, Any] = field(default_factory=dict)
    # seconds until the next check makes sense (None: engine default)
    next_check_in: float | None = None
    # what the account becomes after a FAILED result ("cooldown", "needs_login"), as in
    # PublishError.account_status; None leaves the account as it is
    account_status: str | None = None


class PublishError(Exception):
    """A failure the engine must classify.

    - retryable: transient (timeout, 5xx, 429, fail_reason internal): retry with backoff.
    - certainly_not_posted: the platform refused before any upload; the engine may fall
      back to the account's next route. False whenever the outcome is unknown.
    - needs_attention: a person must act (captcha, login, 2FA, site changed).
    - account_status: what the account becomes ("cooldown", "needs_login", ...).
    """

    def __init__(
        self,
        reason: str,
        *,
        code: str | None = None,
        retryable: bool = False,
        certainly_not_posted: bool = False,
        needs_attention: bool = False,
        account_status: str | None = None,
        cooldown_seconds: float | None = None,
        retry_after: float | None = None,
        log_id: str | None = None,
        artifacts: dict[str, bytes] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.retryable = retryable
        self.certainly_not_posted = certainly_not_posted
        self.needs_attention = needs_attention
        self.account_status = account_status
        self.cooldown_seconds = cooldown_seconds
        self.retry_after = retry_after
        self.log_id = log_id
        # name -> bytes (e.g. "screenshot.png", "page.html"); stored encrypted by the engine
        self.artifacts = artifacts or {}


ReceiptCallback = Callable[[Receipt], None]
ProgressCallback = Callable[[str, float | None], None]


class RouteNotConfigured(PublishError):
    """The route lacks a key or a component: nothing was sent; a person must set it up."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            reason, code="route_not_configured", certainly_not_posted=True, needs_attention=True
        )


class Publisher(Protocol):
    # a JobRoute value (`JobRoute` is a StrEnum, so its members are such strings)
    @property
    def route(self) -> str: ...

    def submit(
        self,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        """Post the video. Calls `on_receipt` as soon as the platform returns an id
        (before uploading the bytes where the protocol allows), then returns it.
        Raises PublishError on failure."""
        ...

    def check(self, request: PublishRequest, receipt: Receipt) -> CheckResult:
        """Ask the platform where the post stands. Raises PublishError on a
        transient error (retryable) or a permanent one."""
        ...

    def reconcile(self, request: PublishRequest) -> Receipt | None:
        """After a crash with no stored receipt: find the post by the request's
        idempotency key if the route can. Returns the receipt if found, None if the
        platform certainly has nothing, raises PublishError(needs_attention=True) when
        the route cannot tell."""
        ...


class CredentialStore(Protocol):
    """Per-account route credentials kept in the vault (domain implements it).

    TikTok API: {"access_token", "refresh_token", "access_expires_at" (epoch s),
    "refresh_expires_at", "open_id", "scope"}. Upload-Post: {"profile": NAME}.
    `save` must commit at once: a refreshed token pair is only valid once.
    """

    def load(self, account_id: int, route: str) -> dict[str, Any]: ...

    def save(self, account_id: int, route: str, data: dict[str, Any]) -> None: ...
