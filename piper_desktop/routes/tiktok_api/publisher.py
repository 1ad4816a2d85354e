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
- FAILED → FAILED, in the words of errors.py (the one table of TikTok's codes): `internal`
  is retryable; spam_risk_too_many_posts retries after the cooldown, other spam_risk ones
  never retry and cool the account down; auth_removed asks for a new login; media checks name the check.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
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
    SCOPES_CONNECT,
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
from piper_desktop.clients.tiktok_display import TikTokDisplayClient
from piper_desktop.domain.compliance import missing_reason, privacy_missing
from piper_desktop.domain.media_limits import TIKTOK_API
from piper_desktop.domain.token_claims import CLAIM_KEY, CLAIM_SECONDS, Verdict
from piper_desktop.logs import get_logger
from piper_desktop.routes.base import (
    AccountRef,
    CheckResult,
    CheckState,
    NotPosted,
    ProgressCallback,
    PublishError,
    PublishRequest,
    Receipt,
    ReceiptCallback,
    RefreshClaims,
    UploadPlan,
)
from piper_desktop.routes.media_check import refuse_unfit_media
from piper_desktop.routes.tiktok_api import photos
from piper_desktop.routes.tiktok_api.errors import failed_status, map_api_error
from piper_desktop.store.enums import JobRoute

log = get_logger("routes")
T = TypeVar("T")
ROUTE_NAME = JobRoute.TIKTOK_API.value

# how often a refresher waiting for another one's rotation looks at the stored pair
ROTATION_POLL = 0.2
# an upload URL this close to its end is not worth a resume: its next chunk may outlive it
URL_MARGIN = 60.0


@dataclass(frozen=True)
class TikTokApiSettings:
    client_key: str
    client_secret: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE
    auth_url: str = DEFAULT_AUTH_URL
    chunk_size: int = DEFAULT_CHUNK
    timeout: float | None = None
    # refresh the access token when less than this is left of it (of its 2 h)
    refresh_margin: float = 300.0
    # how long a refresher's claim on the refresh token holds (domain/token_claims.py)
    refresh_claim: float = CLAIM_SECONDS
    upload_retry_delays: tuple[float, ...] = (1.0, 3.0, 10.0)
    # `tiktok.compliance_mode`: a post needs the operator's own privacy choice
    compliance_mode: bool = True
    # photos.* settings (photos.py reads them when a photo post is submitted)
    photos: dict[str, Any] = field(default_factory=dict, repr=False)


def refuse_unchosen_privacy(
    request: PublishRequest, compliance: bool, creator: CreatorInfo | None = None
) -> None:
    """Compliance mode: nothing is sent for a post whose privacy nobody chose. The job
    waits for the operator (needs_attention: they choose, then retry it); not failed,
    since the post itself is fine, and no other route takes it (it would post on its own
    default, the very thing compliance mode forbids)."""
    options = request.options
    if options.privacy_chosen or not privacy_missing(
        ROUTE_NAME, {"mode": options.mode}, compliance
    ):
        return
    allowed = creator.privacy_level_options if creator is not None else ()
    raise PublishError(
        missing_reason(allowed) + "; choose who can watch it, then retry the post",
        code="privacy_not_chosen",
        needs_attention=True,
        # False on purpose: the engine falls back to another route only on this word
        certainly_not_posted=False,
    )


def interactions_off_unless_chosen(request: PublishRequest, compliance: bool) -> PublishRequest:
    """Compliance mode: TikTok's guidelines start Comment, Duet and Stitch off; a job
    that never said (a CLI or imported job) posts with them off, never silently on."""
    options = request.options
    if not compliance or options.interactions_chosen:
        return request
    off = replace(options, disable_comment=True, disable_duet=True, disable_stitch=True)
    return replace(request, options=off)


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
    checks = [(options.disable_comment, creator.comment_disabled, "comments")]
    if not request.photos:  # a photo post has no duets or stitches to ask for
        checks += [
            (options.disable_duet, creator.duet_disabled, "duets"),
            (options.disable_stitch, creator.stitch_disabled, "stitches"),
        ]
    for wanted_off, disabled, what in checks:
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
        credentials: RefreshClaims,
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
        # who this publisher is in the store's refresh claims
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
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
        """A usable access token; refreshes when it is near expiry or when `stale` — a
        token the platform just refused — is still the stored one.

        A refresh token works once (TikTok rotates it), so only one refresher may spend
        it: the threading lock keeps this publisher's threads in turn, the store's claim
        (domain/token_claims.py, a compare-and-swap in a write transaction) every other
        publisher and process on the vault. The rotated pair is committed before the new
        access token is returned."""
        route = self.route.value
        with self._refresh_lock(account.id):
            while True:
                creds = self.credentials.load(account.id, route)
                token = creds.get("access_token")
                if not token or not creds.get("refresh_token"):
                    raise PublishError(
                        "the account is not connected to the TikTok API; connect it first",
                        code="not_connected",
                        certainly_not_posted=True,
                        needs_attention=True,
                        # no account_status: the account may be fine on its other routes,
                        # and a browser login would not connect it (the operator connects it)
                    )
                now = self._clock()
                expires_at = float(creds.get("access_expires_at") or 0)
                if token != stale and expires_at - self.settings.refresh_margin > now:
                    return str(token)
                refresh_expires = float(creds.get("refresh_expires_at") or 0)
                if refresh_expires and refresh_expires <= now:
                    raise PublishError(
                        "the account's TikTok login ended (its refresh token lasts 180 days); "
                        "connect it again",
                        code="refresh_expired",
                        certainly_not_posted=True,
                        needs_attention=True,
                        account_status="needs_login",
                    )
                refresh = str(creds["refresh_token"])
                verdict = self.credentials.claim_refresh(
                    account.id, route, refresh, self._holder, now, self.settings.refresh_claim
                )
                if verdict.verdict is Verdict.ROTATED:
                    # another refresher spent it and stored the new pair: look again
                    log.info("account %s: another refresher rotated the token", account.id)
                    stale = None
                    continue
                if verdict.verdict is Verdict.BUSY:
                    self._wait_for_rotation(account, refresh, verdict.until)
                    stale = None
                    continue
                return self._spend(account, client, creds, refresh)

    def _wait_for_rotation(self, account: AccountRef, refresh: str, until: float) -> None:
        """Another refresher holds the claim: wait until the stored pair changes or its
        claim runs out (its holder died; the next claim finds out what it left)."""
        while self._clock() < until:
            if self.credentials.load(account.id, self.route.value).get("refresh_token") != refresh:
                return
            self._sleep(ROTATION_POLL)

    def _spend(
        self, account: AccountRef, client: TikTokClient, creds: dict[str, Any], refresh: str
    ) -> str:
        """Send the claimed refresh token and commit the rotated pair before use."""
        route = self.route.value
        try:
            tokens = client.refresh(refresh)
        except ApiError as exc:
            self.credentials.finish_refresh(account.id, route, refresh, self._holder, None)
            if isinstance(exc, OAuthError) and exc.code == "invalid_grant":
                # the stored refresh token is spent or revoked: typically a refresh whose
                # answer never reached the vault (Piper stopped in between); only a new
                # login helps, so it is said once and never retried
                raise PublishError(
                    "TikTok no longer accepts this account's stored login (its refresh token "
                    "was already used or revoked, e.g. Piper stopped during a refresh); "
                    "connect the account again",
                    code="refresh_token_spent",
                    certainly_not_posted=True,
                    needs_attention=True,
                    account_status="needs_login",
                    log_id=exc.log_id,
                ) from None
            raise map_api_error(exc, before_upload=True) from None
        new = tokens.to_credentials()
        if not self.credentials.finish_refresh(account.id, route, refresh, self._holder, new):
            # cannot happen while our claim held; if the claim ran out and someone else
            # stored a pair meanwhile, ours is the newest TikTok issued: keep it
            self.credentials.save(account.id, route, creds | new)
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
                raise map_api_error(
                    exc, before_upload=before_upload, username=account.username
                ) from None
        # the platform refused a token we thought valid: refresh once and try again
        token = self._access_token(account, client, stale=token)
        try:
            return call(token)
        except ApiError as exc:
            raise map_api_error(
                exc, before_upload=before_upload, username=account.username
            ) from None

    def display(self, account: AccountRef, call: Callable[[TikTokDisplayClient, str], T]) -> T:
        """`call(display_client, access_token)` for analytics, through the same token path
        as posting (refreshed under the store's claim; a refused token refreshed once).
        The Display API's own errors come back as they are (ApiError): a missing scope
        is analytics' business, not the account's status."""
        with self._client(account) as client:
            display = client.display()
            token = self._access_token(account, client)
            try:
                return call(display, token)
            except ApiError as exc:
                if exc.code != "access_token_invalid":
                    raise
            return call(display, self._access_token(account, client, stale=token))

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
        scopes: tuple[str, ...] = SCOPES_CONNECT,
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
            creds.pop(CLAIM_KEY, None)
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
        request = interactions_off_unless_chosen(request, self.settings.compliance_mode)
        with self._client(request.account) as client:
            if request.photos:  # a photo set: routes/tiktok_api/photos.py
                # compliance mode holds photo posts to the operator's choice as well
                refuse_unchosen_privacy(request, self.settings.compliance_mode)
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
        refuse_unchosen_privacy(request, self.settings.compliance_mode)
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
            who = receipt.extra.get("creator_username") or account.username
            return self._failed(status.fail_reason or "unknown", who)
        return CheckResult(CheckState.PENDING, next_check_in=30.0, reason=f"status {status.status}")

    @staticmethod
    def _failed(reason: str, username: str | None = None) -> CheckResult:
        return failed_status(reason, username)

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
