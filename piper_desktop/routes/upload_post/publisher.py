"""Publishing through the Upload-Post API (route "upload_post").

Each upload carries our own request_id (the job's idempotency key). When the answer to
an upload is lost (timeout, dropped connection, 5xx), we ask for the status by that
request_id instead of uploading again; the server also refuses to run a request_id twice.

Partial success: Upload-Post posts to several platforms at once. `check` always fills
`CheckResult.platform_results` ({platform: {"success", "url", "error", ...}}). When at
least one platform succeeded the state is PUBLISHED; if any failed, `reason` starts with
"partial: " and names each failed platform and its error, e.g.
"partial: instagram failed: aspect ratio not supported". When none succeeded the state
is FAILED with every platform's error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.pool import ClientPool
from piper_desktop.clients.upload_post import DEFAULT_BASE, UploadPostClient, UploadStatus
from piper_desktop.domain.media_limits import UPLOAD_POST, MediaLimits
from piper_desktop.logs import get_logger
from piper_desktop.routes.base import (
    CheckResult,
    CheckState,
    CredentialStore,
    NotPosted,
    ProgressCallback,
    PublishError,
    PublishRequest,
    Receipt,
    ReceiptCallback,
)
from piper_desktop.routes.media_check import refuse_unfit_media
from piper_desktop.store.enums import JobRoute

log = get_logger("routes")


@dataclass(frozen=True)
class UploadPostSettings:
    api_key: str = field(repr=False)
    base_url: str = DEFAULT_BASE
    # uploads of large files need a generous write timeout; None: the client default
    timeout: float | None = None


def _map_error(exc: ApiError, *, sent: bool) -> PublishError:
    status = exc.http_status
    common: dict[str, Any] = {"code": exc.code, "log_id": exc.log_id}
    if status == 401 or status == 403:
        return PublishError(
            "Upload-Post rejected the API key; check it in the settings",
            needs_attention=True,
            certainly_not_posted=True,
            **common,
        )
    if exc.retryable:
        return PublishError(
            f"Upload-Post is unavailable for now: {exc.message}",
            retryable=True,
            certainly_not_posted=not sent and (status == 429 or not exc.sent),
            retry_after=exc.retry_after or (60.0 if status == 429 else None),
            **common,
        )
    return PublishError(
        f"Upload-Post refused the upload: {exc.message}",
        certainly_not_posted=status is not None and 400 <= status < 500,
        **common,
    )


def upload_post_limits(request: PublishRequest) -> MediaLimits | None:
    """TikTok's limits when the post goes to TikTok; otherwise only "is it a video"
    (the other platforms' rules are not checked here)."""
    return UPLOAD_POST if "tiktok" in request.options.platforms else None


def _receipt(request_id: str, job_id: str | None) -> Receipt:
    if job_id:
        return Receipt(kind="job_id", value=job_id, extra={"request_id": request_id})
    return Receipt(kind="request_id", value=request_id)


class UploadPostPublisher:
    route = JobRoute.UPLOAD_POST

    def __init__(
        self,
        credentials: CredentialStore,
        settings: UploadPostSettings,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.settings = settings
        self._clock = clock  # when a scheduled post is due, for the next status check
        self._clients = ClientPool(self._new_client)

    def _new_client(self, proxy_url: str | None) -> UploadPostClient:
        return UploadPostClient(
            self.settings.api_key,
            base_url=self.settings.base_url,
            proxy_url=proxy_url,
            timeout=self.settings.timeout,
        )

    def _client(self, proxy_url: str | None = None) -> AbstractContextManager[UploadPostClient]:
        """The client for this proxy, kept open between calls (`close` ends them)."""
        return self._clients.lease(proxy_url)

    def close(self) -> None:
        self._clients.close()

    def _profile(self, request: PublishRequest) -> str:
        creds = self.credentials.load(request.account.id, self.route.value)
        return str(creds.get("profile") or request.account.username)

    def submit(
        self,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        options = request.options
        key = request.idempotency_key
        if request.photos:  # a photo set: routes/upload_post/photos.py
            return self._submit_photos(request, on_receipt)
        if options.source == "url":
            if not options.video_url:
                raise PublishError(
                    "pulling from a URL needs options.video_url",
                    code="invalid_input",
                    certainly_not_posted=True,
                )
            video: Any = options.video_url
        else:
            refuse_unfit_media(request, upload_post_limits(request))
            video = request.media_path
        tiktok: dict[str, Any] = {}
        if "tiktok" in options.platforms:
            tiktok = {
                "privacy_level": options.privacy_level,
                "disable_duet": options.disable_duet,
                "disable_comment": options.disable_comment,
                "disable_stitch": options.disable_stitch,
                "cover_timestamp": options.video_cover_timestamp_ms,
                "is_aigc": options.is_aigc,
            }
        if on_progress:
            on_progress("uploading", None)
        with self._client(request.account.proxy_url) as client:
            try:
                answer = client.upload(
                    video=video,
                    user=self._profile(request),
                    title=request.caption,
                    platforms=options.platforms,
                    request_id=key,
                    scheduled_date=options.scheduled_at,
                    timezone=options.timezone
                    or (request.account.timezone if options.scheduled_at else None),
                    async_upload=True,
                    tiktok=tiktok,
                )
            except ApiError as exc:
                # exc.sent False: nothing left us (no connection, the proxy refused)
                if not exc.sent or not (exc.no_answer or (exc.http_status or 0) >= 500):
                    raise _map_error(exc, sent=False) from None
                # the answer was lost: the upload may have arrived all the same
                log.warning(
                    "job %s: Upload-Post answer lost (%s); asking by request_id",
                    request.job_id,
                    exc.message,
                )
                found = self._status(client, key)
                if found is None:
                    raise _map_error(exc, sent=True) from None
                receipt = _receipt(found.request_id or key, found.job_id)
                on_receipt(receipt)
                return receipt
        receipt = _receipt(answer.request_id or key, answer.job_id)
        on_receipt(receipt)
        log.info("job %s: Upload-Post %s %s", request.job_id, receipt.kind, receipt.value)
        return receipt

    def _submit_photos(self, request: PublishRequest, on_receipt: ReceiptCallback) -> Receipt:
        from .photos import submit_photo_post

        options = request.options
        tiktok: dict[str, Any] = {}
        if "tiktok" in options.platforms:
            # Upload-Post documents no cover field for photos: the order is the post's
            tiktok = {
                "privacy_level": options.privacy_level,
                "disable_comment": options.disable_comment,
            }
        with self._client(request.account.proxy_url) as client:
            return submit_photo_post(
                client,
                idempotency_key=request.idempotency_key,
                user=self._profile(request),
                paths=request.photos,
                title=request.title or "",
                description=request.caption,
                platforms=options.platforms,
                on_receipt=on_receipt,
                tiktok=tiktok,
                scheduled_date=options.scheduled_at,
                timezone=options.timezone
                or (request.account.timezone if options.scheduled_at else None),
            )

    @staticmethod
    def _status(
        client: UploadPostClient, request_id: str | None = None, job_id: str | None = None
    ) -> UploadStatus | None:
        try:
            return client.status(request_id=request_id, job_id=job_id)
        except ApiError as exc:
            raise _map_error(exc, sent=True) from None

    def check(self, request: PublishRequest, receipt: Receipt) -> CheckResult:
        with self._client(request.account.proxy_url) as client:
            if receipt.kind == "job_id":
                status = self._status(client, job_id=receipt.value)
            else:
                status = self._status(client, request_id=receipt.value)
        if status is None:
            return CheckResult(
                CheckState.NEEDS_ATTENTION,
                reason=f"Upload-Post has no record of {receipt.kind} {receipt.value}",
            )
        return self.interpret(status, request.options.platforms)

    def interpret(self, status: UploadStatus, platforms: tuple[str, ...]) -> CheckResult:
        results = status.results
        if status.status in ("pending", "queued", "in_progress", "processing"):
            wait = 15.0
            if status.scheduled_date:
                try:
                    when = datetime.fromisoformat(status.scheduled_date.replace("Z", "+00:00"))
                    if when.tzinfo is None:
                        when = when.replace(tzinfo=UTC)
                    ahead = when.timestamp() - self._clock()
                    wait = max(wait, ahead + 30.0)
                except ValueError:
                    pass
            return CheckResult(CheckState.PENDING, platform_results=results, next_check_in=wait)
        if status.status == "cancelled":
            return CheckResult(
                CheckState.FAILED,
                reason="the post was cancelled on Upload-Post",
                platform_results=results,
            )
        wanted = list(platforms) or list(results)
        succeeded = [p for p in wanted if (results.get(p) or {}).get("success")]
        failed = [p for p in wanted if p not in succeeded]
        errors = [
            f"{p} failed: {(results.get(p) or {}).get('error') or 'no result reported'}"
            for p in failed
        ]
        if not succeeded:
            return CheckResult(
                CheckState.FAILED,
                reason="; ".join(errors) or f"Upload-Post status {status.status}",
                platform_results=results,
            )
        main = "tiktok" if "tiktok" in succeeded else succeeded[0]
        return CheckResult(
            CheckState.PUBLISHED,
            post_url=results[main].get("url"),
            post_id=results[main].get("post_id") or results[main].get("publish_id"),
            reason=("partial: " + "; ".join(errors)) if errors else None,
            platform_results=results,
        )

    def reconcile(self, request: PublishRequest) -> Receipt | NotPosted | None:
        """Upload-Post looks uploads up by the client's own request id (the job's key)."""
        with self._client(request.account.proxy_url) as client:
            status = self._status(client, request_id=request.idempotency_key)
        if status is None:
            return NotPosted("Upload-Post has no upload under the job's request id")
        return _receipt(status.request_id or request.idempotency_key, status.job_id)
