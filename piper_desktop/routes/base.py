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

from ..domain.token_claims import RefreshClaim


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
    # the stored options named a privacy level: the operator chose it (compliance mode
    # posts nothing on a default, domain/compliance.py)
    privacy_chosen: bool = False
    interactions_chosen: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PostOptions:
        data = dict(data or {})
        # a campaign's default (marked so by domain/compliance.py) is nobody's choice
        data["privacy_chosen"] = bool(data.get("privacy_level")) and not data.get(
            "privacy_default"
        )
        # the interactions as someone set them, or left at the defaults below
        data["interactions_chosen"] = any(
            key in data for key in ("disable_comment", "disable_duet", "disable_stitch")
        )
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
    # The receipt whose upload to continue: set when the engine asks `submit` to finish
    # an upload a dead process left short (its `upload` is the plan the store kept, or
    # None when none was kept); None for a new publish.
    resume: Receipt | None = None
    # A photo post (media kind photo_set): its images in order and the cover's index;
    # empty for a video. The route's photo module posts these instead of media_path.
    photos: tuple[Path, ...] = ()
    cover_index: int = 0


@dataclass(frozen=True)
class UploadPlan:
    """A resumable upload the platform opened with a receipt: where the bytes go and
    how they are cut, and how many chunks the platform has acknowledged.

    `url` is a credential (whoever has it can upload into the post): the engine keeps it
    only in the encrypted store, never in an event, a log or an output, and forgets it
    once the upload is complete. A publisher hands the plan over with its receipt
    (`Receipt.upload`), then the same receipt again with `chunks_acked` raised after
    every chunk the platform acknowledged; `note` (optional) goes into the job's history
    ("resumed at 62 %").
    """

    url: str | None = field(repr=False)
    expires_at: float  # epoch seconds; the platform refuses the URL after it
    total_bytes: int
    chunk_size: int
    chunk_count: int
    chunks_acked: int = 0
    bytes_acked: int = 0
    resumes: int = 0
    note: str | None = None

    @property
    def complete(self) -> bool:
        return self.chunks_acked >= self.chunk_count

    @property
    def fraction(self) -> float:
        return self.bytes_acked / self.total_bytes if self.total_bytes else 0.0


@dataclass(frozen=True)
class NotPosted:
    """Reconciliation's certainty that the platform has nothing of a job, and why (a
    route's own reason: "the upload URL died with the process")."""

    why: str


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
    # a resumable upload's plan and progress (see UploadPlan); not part of the receipt's
    # identity, and never shown
    upload: UploadPlan | None = field(default=None, repr=False, compare=False)


class CheckState(StrEnum):
    PENDING = "pending"  # still processing; check again later
    PUBLISHED = "published"
    FAILED = "failed"
    NEEDS_ATTENTION = "needs_attention"
    # the platform holds an upload that stopped short of its last byte and that no live
    # process is sending (its sender died): the engine asks `submit` to continue it
    # (request.resume) — or to start afresh where it cannot be continued
    UPLOAD_STALLED = "upload_stalled"


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
    # UPLOAD_STALLED: the bytes the platform says it has (None: it did not say)
    uploaded_bytes: int | None = None


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
        Raises PublishError on failure.

        With `request.resume` set, that receipt's upload was left unfinished: continue it
        (or, where the platform can no longer take it, start a fresh publish and hand
        over its receipt)."""
        ...

    def check(self, request: PublishRequest, receipt: Receipt) -> CheckResult:
        """Ask the platform where the post stands (`receipt.upload`: its upload as the
        store kept it, when it opened one). Raises PublishError on a transient error
        (retryable) or a permanent one."""
        ...

    def reconcile(self, request: PublishRequest) -> Receipt | NotPosted | None:
        """After a crash with no stored receipt, say what the route can be certain of:
        the receipt if it finds the post (by the request's idempotency key, or its page),
        NotPosted(why) — or None, without a reason of its own — if the platform certainly
        has nothing; raise PublishError(needs_attention=True) when it cannot tell. The
        life cycle applies the answer (`lifecycle.AFTER_CRASH`)."""
        ...


class CredentialStore(Protocol):
    """Per-account route credentials kept in the vault (domain implements it).

    TikTok API: {"access_token", "refresh_token", "access_expires_at" (epoch s),
    "refresh_expires_at", "open_id", "scope"}. Upload-Post: {"profile": NAME}.
    `save` must commit at once: a refreshed token pair is only valid once.
    """

    def load(self, account_id: int, route: str) -> dict[str, Any]: ...

    def save(self, account_id: int, route: str, data: dict[str, Any]) -> None: ...


class RefreshClaims(CredentialStore, Protocol):
    """A credential store that lets one refresher at a time spend a refresh token, over
    processes (domain/token_claims.py; the vault does it in a write transaction)."""

    def claim_refresh(
        self, account_id: int, route: str, refresh_token: str, holder: str, now: float,
        hold_for: float = ...,
    ) -> RefreshClaim: ...  # fmt: skip

    def finish_refresh(
        self,
        account_id: int,
        route: str,
        refresh_token: str,
        holder: str,
        new: dict[str, Any] | None,
    ) -> bool: ...
