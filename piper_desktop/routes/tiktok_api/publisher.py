"""Publishing through TikTok's Content Posting API (route "tiktok_api").

submit: fresh token (refreshed and saved at once when near expiry, or after one 401) →
creator info, refusing settings the creator does not allow → init → receipt (the
publish_id, before any byte is sent) → chunked upload. An upload URL that expired (403)
before the upload completed gets one new init; TikTok drops the unfinished one.

check maps TikTok's status to a CheckResult:
- PROCESSING_UPLOAD / PROCESSING_DOWNLOAD → PENDING
- PUBLISH_COMPLETE → PUBLISHED, with the post id and URL when TikTok gives one (it gives
  none for private posts)
- SEND_TO_USER_INBOX → PUBLISHED (a draft in the creator's inbox, for inbox mode)
- FAILED → FAILED: `internal` is retryable; spam_risk* never retries and cools the
  account down; auth_removed asks for a new login; media checks name the check.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from piper_desktop.clients.errors import ApiError, OAuthError
from piper_desktop.clients.pool import ClientPool
from piper_desktop.clients.ratelimit import RateLimits
from piper_desktop.clients.tiktok import (
    DEFAULT_API_BASE,
    DEFAULT_AUTH_URL,
    DEFAULT_CHUNK,
    DEFAULT_LIMITS,
    SCOPES_DIRECT,
    CreatorInfo,
    InitResult,
    TikTokClient,
    UploadUrlExpired,
    plan_chunks,
)
from piper_desktop.domain.media_limits import TIKTOK_API
from piper_desktop.logs import get_logger
from piper_desktop.routes.base import (
    AccountRef,
    CheckResult,
    CheckState,
    CredentialStore,
    ProgressCallback,
    PublishError,
    PublishRequest,
    Receipt,
    ReceiptCallback,
)
from piper_desktop.routes.media_check import refuse_unfit_media
from piper_desktop.store.enums import JobRoute

log = get_logger("routes")
T = TypeVar("T")

SPAM_COOLDOWN = 24 * 3600.0
MEDIA_CHECKS = {
    "file_format_check_failed": "the file format",
    "duration_check_failed": "the video's duration",
    "frame_rate_check_failed": "the frame rate",
    "picture_size_check_failed": "the picture size",
    "video_pull_failed": "pulling the video from its URL",
    "photo_pull_failed": "pulling the photos from their URLs",
}
# API error codes that are final: the platform's reason goes to the operator as it is.
PERMANENT_CODES = {
    "privacy_level_option_mismatch",
    "url_ownership_unverified",
    "invalid_params",
    "scope_not_authorized",
}


@dataclass(frozen=True)
class TikTokApiSettings:
    client_key: str
    client_secret: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE
    auth_url: str = DEFAULT_AUTH_URL
    chunk_size: int = DEFAULT_CHUNK
    timeout: float | None = None
    # refresh the access token when less than this is left of it
    refresh_margin: float = 300.0
    upload_retry_delays: tuple[float, ...] = (1.0, 3.0, 10.0)


def map_api_error(exc: ApiError, *, before_upload: bool) -> PublishError:
    """An ApiError as the engine needs it: retryable, permanent, or needing a person."""
    code = exc.code or ""
    refused = exc.http_status is not None and exc.http_status < 500
    common: dict[str, Any] = {"code": code or None, "log_id": exc.log_id}
    if code.startswith("spam_risk"):
        return PublishError(
            f"TikTok refused the post as spam risk ({code}): {exc.message}",
            certainly_not_posted=before_upload and refused,
            account_status="cooldown",
            cooldown_seconds=SPAM_COOLDOWN,
            **common,
        )
    if code == "access_token_invalid" or (isinstance(exc, OAuthError) and code == "invalid_grant"):
        return PublishError(
            "TikTok no longer accepts this account's login; connect the account again",
            certainly_not_posted=before_upload and refused,
            needs_attention=True,
            account_status="needs_login",
            **common,
        )
    if exc.retryable:
        return PublishError(
            f"TikTok is unavailable for now: {exc.message}",
            retryable=True,
            certainly_not_posted=before_upload and refused,
            retry_after=exc.retry_after or (60.0 if exc.http_status == 429 else None),
            **common,
        )
    if code in PERMANENT_CODES or refused:
        return PublishError(
            f"TikTok refused the post ({code or exc.http_status}): {exc.message}",
            certainly_not_posted=before_upload and refused,
            **common,
        )
    return PublishError(str(exc), retryable=False, **common)


def check_creator_allows(request: PublishRequest, creator: CreatorInfo) -> None:
    """Refuse, before anything is sent, what this creator's settings do not allow."""
    options = request.options

    def refuse(reason: str, code: str) -> PublishError:
        return PublishError(reason, code=code, certainly_not_posted=True)

    if options.privacy_level not in creator.privacy_level_options:
        allowed = ", ".join(creator.privacy_level_options) or "none"
        raise refuse(
            f"privacy level {options.privacy_level} is not offered to @{creator.username} "
            f"(allowed: {allowed})",
            "privacy_level_option_mismatch",
        )
    for wanted_off, disabled, what in (
        (options.disable_comment, creator.comment_disabled, "comments"),
        (options.disable_duet, creator.duet_disabled, "duets"),
        (options.disable_stitch, creator.stitch_disabled, "stitches"),
    ):
        if disabled and not wanted_off:
            raise refuse(
                f"@{creator.username} has turned {what} off on TikTok; this post asks for "
                f"them on — turn {what} off in the post options",
                "interaction_not_allowed",
            )
    limit = creator.max_video_post_duration_sec
    if limit is not None and request.media_duration_sec and request.media_duration_sec > limit:
        raise refuse(
            f"the video lasts {request.media_duration_sec:.0f} s; @{creator.username} may post "
            f"at most {limit} s",
            "duration_too_long",
        )
    if options.brand_content_toggle and options.privacy_level == "SELF_ONLY":
        raise refuse("branded content cannot be posted as private (SELF_ONLY)", "invalid_params")
    # the file itself: format, codec, frame rate, picture size, size, the creator's duration
    refuse_unfit_media(request, TIKTOK_API, limit)


class TikTokApiPublisher:
    route = JobRoute.TIKTOK_API

    def __init__(
        self,
        credentials: CredentialStore,
        settings: TikTokApiSettings,
        *,
        clock: Callable[[], float] = time.time,
        limits: RateLimits | None = None,
        sleeper: Callable[[float], None] = time.sleep,
    ) -> None:
        self.credentials = credentials
        self.settings = settings
        self._clock = clock
        self._sleep = sleeper
        # shared by every client this publisher makes: TikTok counts per user token
        self.limits = limits or RateLimits(DEFAULT_LIMITS)
        self._refresh_locks: dict[int, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._clients = ClientPool(self._new_client)

    # --- plumbing -----------------------------------------------------------------------
    def _new_client(self, proxy_url: str | None) -> TikTokClient:
        return TikTokClient(
            client_key=self.settings.client_key,
            client_secret=self.settings.client_secret,
            api_base=self.settings.api_base,
            auth_url=self.settings.auth_url,
            proxy_url=proxy_url,
            timeout=self.settings.timeout,
            limits=self.limits,
            clock=self._clock,
            upload_retry_delays=self.settings.upload_retry_delays,
            sleeper=self._sleep,
        )

    def _client(self, account: AccountRef) -> AbstractContextManager[TikTokClient]:
        """The client for the account's proxy, kept open between calls (`close` ends them)."""
        return self._clients.lease(account.proxy_url)

    def close(self) -> None:
        self._clients.close()

    def _refresh_lock(self, account_id: int) -> threading.Lock:
        with self._locks_guard:
            return self._refresh_locks.setdefault(account_id, threading.Lock())

    def _access_token(
        self, account: AccountRef, client: TikTokClient, *, stale: str | None = None
    ) -> str:
        """A usable access token; refreshes (and saves at once) when it is near expiry or
        when `stale` — a token the platform just refused — is still the stored one."""
        with self._refresh_lock(account.id):
            creds = self.credentials.load(account.id, self.route.value)
            token = creds.get("access_token")
            if not token or not creds.get("refresh_token"):
                raise PublishError(
                    "the account is not connected to the TikTok API; connect it first",
                    code="not_connected",
                    certainly_not_posted=True,
                    needs_attention=True,
                    account_status="needs_login",
                )
            expires_at = float(creds.get("access_expires_at") or 0)
            if token != stale and expires_at - self.settings.refresh_margin > self._clock():
                return str(token)
            refresh_expires = float(creds.get("refresh_expires_at") or 0)
            if refresh_expires and refresh_expires <= self._clock():
                raise PublishError(
                    "the account's TikTok login expired (refresh token too old); connect it again",
                    code="refresh_expired",
                    certainly_not_posted=True,
                    needs_attention=True,
                    account_status="needs_login",
                )
            try:
                tokens = client.refresh(str(creds["refresh_token"]))
            except ApiError as exc:
                # Another process on this vault (the GUI and `piper run`; this lock is
                # per process) may have used the refresh token a moment ago: its new
                # pair is stored, and it is good.
                latest = self.credentials.load(account.id, self.route.value)
                if latest.get("access_token") and latest.get("refresh_token") not in (
                    None,
                    creds["refresh_token"],
                ):
                    log.info("account %s: another process refreshed the token", account.id)
                    return str(latest["access_token"])
                raise map_api_error(exc, before_upload=True) from None
            # a refresh token works once: keep the new pair before anything else
            self.credentials.save(account.id, self.route.value, creds | tokens.to_credentials())
            log.info("refreshed the TikTok access token of account %s", account.id)
            return tokens.access_token

    def _with_token(
        self,
        account: AccountRef,
        client: TikTokClient,
        call: Callable[[str], T],
        *,
        before_upload: bool,
    ) -> T:
        token = self._access_token(account, client)
        try:
            return call(token)
        except ApiError as exc:
            if exc.code != "access_token_invalid":
                raise map_api_error(exc, before_upload=before_upload) from None
        # the platform refused a token we thought valid: refresh once and try again
        token = self._access_token(account, client, stale=token)
        try:
            return call(token)
        except ApiError as exc:
            raise map_api_error(exc, before_upload=before_upload) from None

    # --- checks before the slot ---------------------------------------------------------
    def creator_info(self, account: AccountRef) -> CreatorInfo:
        """The creator's current settings (what privacy levels, options and duration the
        account allows now); refreshes the token first when it needs to."""
        with self._client(account) as client:
            return self._with_token(account, client, client.creator_info, before_upload=True)

    def refresh_token(self, account: AccountRef, current: str) -> None:
        """Refresh now unless another thread already replaced `current` (the stored
        access token when the caller looked), and save the new pair at once."""
        with self._client(account) as client:
            self._access_token(account, client, stale=current)

    # --- connecting an account ----------------------------------------------------------
    def connect(
        self,
        account: AccountRef,
        open_url: Callable[[str], object],
        *,
        scopes: tuple[str, ...] = SCOPES_DIRECT,
        timeout: float = 300.0,
    ) -> dict[str, Any]:
        """Run the desktop OAuth flow (PKCE, loopback redirect) for an account and save
        its token pair. `open_url` shows the authorize page (e.g. webbrowser.open).
        Returns the saved record without the tokens (open_id, scope, expiries)."""
        with self._client(account) as client:
            try:
                tokens = client.authorize_with_loopback(open_url, scopes=scopes, timeout=timeout)
            except ApiError as exc:
                raise map_api_error(exc, before_upload=True) from None
        with self._refresh_lock(account.id):
            creds = self.credentials.load(account.id, self.route.value)
            self.credentials.save(account.id, self.route.value, creds | tokens.to_credentials())
        log.info("connected account %s to the TikTok API (open_id %s)", account.id, tokens.open_id)
        return {
            "open_id": tokens.open_id,
            "scope": tokens.scope,
            "access_expires_at": tokens.access_expires_at,
            "refresh_expires_at": tokens.refresh_expires_at,
        }

    # --- Publisher ----------------------------------------------------------------------
    def submit(
        self,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        options = request.options
        account = request.account
        with self._client(account) as client:
            username = account.username
            if options.mode != "inbox":
                if on_progress:
                    on_progress("checking creator settings", None)
                creator = self._with_token(account, client, client.creator_info, before_upload=True)
                check_creator_allows(request, creator)
                username = creator.username or username
            else:
                refuse_unfit_media(request, TIKTOK_API)
            source_info, plan = self._source(request)
            receipt: Receipt | None = None
            for attempt in (1, 2):
                init = self._with_token(
                    account,
                    client,
                    lambda token: self._init(client, token, request, source_info),
                    before_upload=True,
                )
                receipt = Receipt(
                    kind="publish_id",
                    value=init.publish_id,
                    extra={
                        "mode": options.mode,
                        "source": source_info["source"],
                        "creator_username": username,
                    },
                )
                on_receipt(receipt)
                log.info("job %s: TikTok publish_id %s", request.job_id, init.publish_id)
                if plan is None:
                    return receipt
                if not init.upload_url:
                    raise PublishError(
                        "TikTok gave no upload URL", code="bad_answer", retryable=True
                    )
                try:
                    client.upload_file(
                        init.upload_url,
                        request.media_path,
                        plan,
                        on_progress=(
                            (lambda sent, total: on_progress("uploading", sent / total))
                            if on_progress
                            else None
                        ),
                    )
                    return receipt
                except UploadUrlExpired:
                    # the upload never completed, so that publish can never go live
                    log.warning("job %s: upload URL expired, starting again", request.job_id)
                    if attempt == 2:
                        raise PublishError(
                            "TikTok's upload URL expired twice",
                            code="upload_url_expired",
                            retryable=True,
                        ) from None
                except ApiError as exc:
                    raise map_api_error(exc, before_upload=False) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _source(self, request: PublishRequest) -> tuple[dict[str, Any], Any]:
        options = request.options
        if options.source == "url":
            if not options.video_url:
                raise PublishError(
                    "pulling from a URL needs options.video_url",
                    code="invalid_input",
                    certainly_not_posted=True,
                )
            return {"source": "PULL_FROM_URL", "video_url": options.video_url}, None
        try:
            size = request.media_path.stat().st_size
        except OSError as exc:
            raise PublishError(
                f"cannot read the video file: {exc.strerror}",
                code="media_missing",
                certainly_not_posted=True,
            ) from None
        if size != request.media_size:
            raise PublishError(
                "the video file changed size since it was added to the library",
                code="media_changed",
                certainly_not_posted=True,
            )
        try:
            plan = plan_chunks(size, self.settings.chunk_size)
        except ValueError as exc:
            raise PublishError(str(exc), code="invalid_input", certainly_not_posted=True) from None
        return plan.source_info(), plan

    def _init(
        self,
        client: TikTokClient,
        token: str,
        request: PublishRequest,
        source_info: dict[str, Any],
    ) -> InitResult:
        options = request.options
        if options.mode == "inbox":
            return client.init_inbox_video(token, source_info=source_info)
        post_info: dict[str, Any] = {
            "title": request.caption,
            "privacy_level": options.privacy_level,
            "disable_duet": options.disable_duet,
            "disable_comment": options.disable_comment,
            "disable_stitch": options.disable_stitch,
            "brand_content_toggle": options.brand_content_toggle,
            "brand_organic_toggle": options.brand_organic_toggle,
            "is_aigc": options.is_aigc,
        }
        if options.video_cover_timestamp_ms is not None:
            post_info["video_cover_timestamp_ms"] = options.video_cover_timestamp_ms
        return client.init_video(token, post_info=post_info, source_info=source_info)

    def check(self, request: PublishRequest, receipt: Receipt) -> CheckResult:
        account = request.account
        with self._client(account) as client:
            status = self._with_token(
                account,
                client,
                lambda token: client.fetch_status(token, receipt.value),
                before_upload=False,
            )
        if status.status in ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"):
            return CheckResult(CheckState.PENDING, next_check_in=10.0)
        if status.status == "PUBLISH_COMPLETE":
            post_id = status.post_ids[0] if status.post_ids else None
            username = receipt.extra.get("creator_username") or account.username
            return CheckResult(
                CheckState.PUBLISHED,
                post_id=post_id,
                post_url=f"https://www.tiktok.com/@{username}/video/{post_id}" if post_id else None,
                reason=None
                if post_id
                else "published; TikTok lists no public id for private posts",
            )
        if status.status == "SEND_TO_USER_INBOX":
            return CheckResult(
                CheckState.PUBLISHED,
                reason="sent to the creator's TikTok inbox as a draft; they finish posting in the app",
            )
        if status.status == "FAILED":
            return self._failed(status.fail_reason or "unknown")
        return CheckResult(CheckState.PENDING, next_check_in=30.0, reason=f"status {status.status}")

    @staticmethod
    def _failed(reason: str) -> CheckResult:
        if reason == "internal":
            return CheckResult(
                CheckState.FAILED, reason="TikTok failed internally (internal)", retryable=True
            )
        if reason.startswith("spam_risk"):
            return CheckResult(
                CheckState.FAILED,
                reason=f"TikTok flagged the post as spam risk ({reason}); not retried",
                account_status="cooldown",
            )
        if reason == "auth_removed":
            return CheckResult(
                CheckState.FAILED,
                reason="the creator removed Piper's access on TikTok (auth_removed)",
                account_status="needs_login",
            )
        if reason in MEDIA_CHECKS:
            return CheckResult(
                CheckState.FAILED,
                reason=f"TikTok rejected {MEDIA_CHECKS[reason]} ({reason})",
            )
        if reason == "publish_cancelled":
            return CheckResult(CheckState.FAILED, reason="the post was cancelled on TikTok")
        return CheckResult(CheckState.FAILED, reason=f"TikTok could not publish ({reason})")

    def reconcile(self, request: PublishRequest) -> Receipt | None:
        raise PublishError(
            "TikTok's API cannot find a post without its publish_id; look at the account's "
            "profile and mark the job published or re-queue it",
            code="cannot_reconcile",
            needs_attention=True,
        )
