"""Photo posts (carousels) through Upload-Post's `POST /upload_photos`: Upload-Post hosts
the images, so no upload target is needed. The images and texts are checked before
anything is sent (domain/photos.py); the job's idempotency key goes as `request_id`, so
an answer lost on the way back is found by status rather than posted twice — the rule
videos follow in publisher.py, whose error mapping this shares."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ...clients.errors import ApiError
from ...clients.upload_post import UploadPostClient
from ...domain.photos import UPLOAD_POST_PHOTOS, ImageError, probe_image
from ..base import PublishError, Receipt
from .publisher import UploadPostPublisher, _map_error, _receipt

log = logging.getLogger("piper.routes.upload_post")


def check_photos(
    paths: Sequence[Path], *, title: str, description: str, cover_index: int = 0
) -> None:
    facts = []
    for path in paths:
        try:
            facts.append(probe_image(path))
        except ImageError as exc:
            raise PublishError(str(exc), code="invalid_input", certainly_not_posted=True) from None
    problem = UPLOAD_POST_PHOTOS.post_problem(
        facts, title=title, description=description, cover_index=cover_index
    )
    if problem:
        raise PublishError(problem, code="invalid_input", certainly_not_posted=True)


def submit_photo_post(
    client: UploadPostClient,
    *,
    idempotency_key: str,
    user: str,
    paths: Sequence[Path],
    title: str,
    description: str,
    platforms: tuple[str, ...],
    on_receipt: Callable[[Receipt], None],
    tiktok: dict[str, Any] | None = None,
    scheduled_date: str | None = None,
    timezone: str | None = None,
) -> Receipt:
    check_photos(paths, title=title, description=description)
    try:
        answer = client.upload_photos(
            photos=list(paths),
            user=user,
            title=title,
            description=description,
            platforms=platforms,
            request_id=idempotency_key,
            scheduled_date=scheduled_date,
            timezone=timezone,
            async_upload=True,
            tiktok=tiktok,
        )
    except ApiError as exc:
        if not exc.sent or not (exc.no_answer or (exc.http_status or 0) >= 500):
            raise _map_error(exc, sent=False) from None
        log.warning("Upload-Post photo answer lost (%s); asking by request_id", exc.message)
        found = UploadPostPublisher._status(client, idempotency_key)
        if found is None:
            raise _map_error(exc, sent=True) from None
        receipt = _receipt(found.request_id or idempotency_key, found.job_id)
        on_receipt(receipt)
        return receipt
    receipt = _receipt(answer.request_id or idempotency_key, answer.job_id)
    on_receipt(receipt)
    log.info("Upload-Post photo post %s %s (%d images)", receipt.kind, receipt.value, len(paths))
    return receipt
