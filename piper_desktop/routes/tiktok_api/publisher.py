"""Publishing through TikTok's Content Posting API (route "tiktok_api").

submit: fresh token (refreshed and saved at once when near expiry, or after one 401) →
creator info, refusing settings the creator does not allow → init → receipt (the
publish_id, with the upload's plan — URL, expiry, chunks — before any byte is sent) →
chunked upload, every acknowledged chunk handed to the engine with the receipt. An
upload URL that expired (403) before the upload completed gets one new init; TikTok
drops the unfinished one.

After a crash (`request.resume`): the upload continues from the next chunk the
platform expects (status/fetch's uploaded_bytes) while its URL is valid; when it has
expired (403), the resume is refused (416) or no URL was kept, that publish can never
go live, so a fresh publish replaces it — after the platform's status says once more
that it is short of bytes.

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
from dataclasses import dataclass, field, replace
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
    UPLOAD_URL_LIFETIME,
    ChunkPlan,
    CreatorInfo,
    InitResult,
    PublishStatus,
    TikTokClient,
    UploadRefused,
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
    NotPosted,
    ProgressCallback,
    PublishError,
    PublishRequest,
    Receipt,
    ReceiptCallback,
    UploadPlan,
)
from piper_desktop.routes.media_check import refuse_unfit_media
from piper_desktop.routes.tiktok_api import photos
from piper_desktop.store.enums import JobRoute

log = get_logger("routes")
T = TypeVar("T")

SPAM_COOLDOWN = 24 * 3600.0
# an upload URL this close to its end is not worth a resume: its next chunk may outlive it
URL_MARGIN = 60.0
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
    # photos.* settings (photos.py reads them when a photo post is submitted)
    photos: dict[str, Any] = field(default_factory=dict, repr=False)


def map_api_error(exc: ApiError, *, before_upload: bool) -> PublishError:
    """An ApiError as the engine needs it: retryable, permanent, or needing a person."""
    code = exc.code or ""
    refused = exc.http_status is not None and exc.http_status < 500
    # nothing left us (no connection, the proxy refused): as certain as a refusal
    refused = refused or not exc.sent
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
                    # no account_status: the account may be fine on its other routes, and
                    # a browser login would not connect it (the operator connects it)
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
        with self._client(request.account) as client:
            if request.photos:  # a photo set: routes/tiktok_api/photos.py
                return photos.submit_photos(self, client, request, on_receipt)
            if request.resume is not None:
                return self._continue(client, request, request.resume, on_receipt, on_progress)
            return self._publish(client, request, on_receipt, on_progress)

    def _publish(
        self,
        client: TikTokClient,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        on_progress: ProgressCallback | None,
        *,
        replaces: str | None = None,
        note: str | None = None,
    ) -> Receipt:
        """A new publish: creator settings, init, receipt (with the upload's plan, before
        any byte is sent), then the chunks. `replaces`/`note`: the abandoned upload this
        one stands in for, and why (the job's history says so with the new receipt)."""
        options = request.options
        account = request.account
        username = account.username
        if options.mode != "inbox":
            if on_progress:
                on_progress("checking creator settings", None)
            creator = self._with_token(account, client, client.creator_info, before_upload=True)
            check_creator_allows(request, creator)
            username = creator.username or username
        else:
            refuse_unfit_media(request, TIKTOK_API)
        source_info, chunks = self._source(request)
        for attempt in (1, 2):
            opened = self._clock()
            init = self._with_token(
                account,
                client,
                lambda token: self._init(client, token, request, source_info),
                before_upload=True,
            )
            extra: dict[str, Any] = {
                "mode": options.mode,
                "source": source_info["source"],
                "creator_username": username,
            }
            if replaces:
                extra["replaces"] = replaces
            plan = None
            if chunks is not None:
                if not init.upload_url:
                    raise PublishError(
                        "TikTok gave no upload URL", code="bad_answer", retryable=True
                    )
                plan = UploadPlan(
                    url=init.upload_url,
                    expires_at=opened + UPLOAD_URL_LIFETIME,
                    total_bytes=chunks.video_size,
                    chunk_size=chunks.chunk_size,
                    chunk_count=chunks.total_chunk_count,
                    note=note,
                )
            receipt = Receipt(kind="publish_id", value=init.publish_id, extra=extra, upload=plan)
            on_receipt(receipt)
            log.info("job %s: TikTok publish_id %s", request.job_id, init.publish_id)
            if plan is None:
                return receipt
            try:
                return self._upload(client, request, receipt, plan, on_receipt, on_progress)
            except UploadUrlExpired:
                # the upload never completed, so that publish can never go live
                log.warning("job %s: upload URL expired, starting again", request.job_id)
                if attempt == 2:
                    raise PublishError(
                        "TikTok's upload URL expired twice",
                        code="upload_url_expired",
                        retryable=True,
                    ) from None
                replaces = init.publish_id
                note = "the upload URL expired before the last chunk; fresh publish"
            except ApiError as exc:
                raise map_api_error(exc, before_upload=False) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _upload(
        self,
        client: TikTokClient,
        request: PublishRequest,
        receipt: Receipt,
        plan: UploadPlan,
        on_receipt: ReceiptCallback,
        on_progress: ProgressCallback | None,
    ) -> Receipt:
        """Send the chunks from the first one the plan has not had acknowledged; every
        acknowledged chunk goes to the engine with the receipt (what a restart resumes
        from). Returns the receipt with its upload complete."""
        assert plan.url is not None
        kept = plan

        def acked(chunks_acked: int, bytes_acked: int) -> None:
            nonlocal kept
            kept = replace(kept, chunks_acked=chunks_acked, bytes_acked=bytes_acked, note=None)
            on_receipt(replace(receipt, upload=kept))

        client.upload_file(
            plan.url,
            request.media_path,
            ChunkPlan(plan.total_bytes, plan.chunk_size, plan.chunk_count),
            start_chunk=plan.chunks_acked,
            on_chunk=acked,
            on_progress=(
                (lambda sent, total: on_progress("uploading", sent / total))
                if on_progress
                else None
            ),
        )
        return replace(receipt, upload=kept)

    def _continue(
        self,
        client: TikTokClient,
        request: PublishRequest,
        old: Receipt,
        on_receipt: ReceiptCallback,
        on_progress: ProgressCallback | None,
    ) -> Receipt:
        """Finish the upload a dead process left short: from the next chunk the platform
        expects while its URL is valid; otherwise (no URL kept, expired, refused) that
        publish can never go live, so a fresh one replaces it."""
        account = request.account
        plan = old.upload
        # the size TikTok was given at init, not the library's figure of today
        size = plan.total_bytes if plan is not None else request.media_size
        status = self._status(client, account, old.value)
        if self._settled(status, size):
            return old
        have = status.uploaded_bytes
        if have is None:
            have = plan.bytes_acked if plan is not None else 0
        why = _cannot_continue(plan, have, self._clock())
        if why is None:
            assert plan is not None
            start = have // plan.chunk_size
            resumed = replace(
                plan,
                chunks_acked=start,
                bytes_acked=start * plan.chunk_size,
                resumes=plan.resumes + 1,
                note=f"upload resumed at {have / plan.total_bytes:.0%} "
                f"(chunk {start + 1} of {plan.chunk_count})",
            )
            on_receipt(replace(old, upload=resumed))
            log.info("job %s: resuming upload of %s at chunk %d", request.job_id, old.value,
                     start + 1)  # fmt: skip
            try:
                return self._upload(client, request, old, resumed, on_receipt, on_progress)
            except UploadUrlExpired:
                why = "its upload URL expired (HTTP 403)"
            except UploadRefused:
                why = "TikTok refused to continue it (HTTP 416)"
            except ApiError as exc:
                raise map_api_error(exc, before_upload=False) from None
            # the platform's word once more before a fresh publish: a post is never doubled
            status = self._status(client, account, old.value)
            if self._settled(status, size):
                return old
            have = status.uploaded_bytes if status.uploaded_bytes is not None else have
        share = f"{have / size:.0%}" if size else "0%"
        log.warning("job %s: upload of %s abandoned at %s: %s", request.job_id, old.value,
                    share, why)  # fmt: skip
        return self._publish(
            client,
            request,
            on_receipt,
            on_progress,
            replaces=old.value,
            note=f"old upload {old.value} abandoned at {share}: {why}; fresh publish",
        )

    def _status(self, client: TikTokClient, account: AccountRef, publish_id: str) -> PublishStatus:
        return self._with_token(
            account,
            client,
            lambda token: client.fetch_status(token, publish_id),
            before_upload=False,
        )

    @staticmethod
    def _settled(status: PublishStatus, size: int) -> bool:
        """The platform has the whole upload (or decided the post): nothing to send."""
        if status.status != "PROCESSING_UPLOAD":
            return True
        return status.uploaded_bytes is not None and status.uploaded_bytes >= size

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
        if status.status == "PROCESSING_UPLOAD" and _stalled(request, receipt, status):
            return CheckResult(
                CheckState.UPLOAD_STALLED,
                uploaded_bytes=status.uploaded_bytes,
                reason="the upload stopped short of its last byte",
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

    def reconcile(self, request: PublishRequest) -> Receipt | NotPosted | None:
        """No receipt was kept. With FILE_UPLOAD (direct or inbox) nothing can go live:
        the lost init answer took its upload URL with it, and TikTok cannot publish a
        video whose bytes never arrive. A pull (PULL_FROM_URL) may be published all the
        same, and the API cannot find a post without its publish_id."""
        if request.photos:  # photos are always pulled: unknown without the publish_id
            raise photos.reconcile_photo_post()
        if request.options.source != "url":
            return NotPosted(
                "TikTok cannot publish a FILE_UPLOAD whose bytes never arrived, and its "
                "upload URL was lost with the init's answer"
            )
        raise PublishError(
            "TikTok pulls the video by itself and its API cannot find a post without its "
            "publish_id; look at the account's profile and mark the job published or "
            "re-queue it",
            code="cannot_reconcile",
            needs_attention=True,
        )


def _stalled(request: PublishRequest, receipt: Receipt, status: PublishStatus) -> bool:
    """An upload the platform holds short of its bytes, with nobody sending them: the
    engine checks a job only once its submit has returned or its process died. One this
    process saw acknowledged whole (201) is never stalled, whatever a lagging status says."""
    if request.options.source == "url":
        return False
    plan = receipt.upload
    if plan is not None and plan.complete:
        return False
    if status.uploaded_bytes is not None:
        size = plan.total_bytes if plan is not None else request.media_size
        return status.uploaded_bytes < size
    return plan is not None


def _cannot_continue(plan: UploadPlan | None, have: int, now: float) -> str | None:
    """Why the stored plan cannot carry the upload on from `have` bytes, or None."""
    if plan is None or plan.url is None:
        return "its upload URL was not kept"
    if plan.expires_at - URL_MARGIN <= now:
        return "its upload URL expired"
    if plan.chunk_size <= 0 or have % plan.chunk_size:
        return "the platform's bytes end inside a chunk"
    return None
