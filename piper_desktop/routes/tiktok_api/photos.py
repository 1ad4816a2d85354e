"""Photo posts (carousels) through TikTok's `content/init` with PULL_FROM_URL.

TikTok pulls photos only from a URL prefix verified for the app, so each image is first
PUT to the operator's upload target (an S3-compatible bucket, `photos.upload_target`)
and named by its public URL under `photos.url_prefix`. Everything that can be refused is
refused before a byte leaves: the settings (one line naming what to set), then the
images and texts against TikTok's limits (domain/photos.py).

Object keys are the job's idempotency key plus the image's place and content hash, so a
retry PUTs the same objects again (S3 PUTs are idempotent) rather than new copies.

Reconcile: a photo init whose answer was lost may still be pulled and published, and
the API cannot find a post without its publish_id — like a PULL_FROM_URL video, it is
unknown and goes to needs_attention (`reconcile_photo_post`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...clients.errors import ApiError
from ...clients.s3 import S3Client, S3Target, public_url
from ...clients.tiktok import TikTokClient
from ...domain.photos import EXTENSIONS, TIKTOK_PHOTOS, ImageError, ImageFacts, probe_image
from ..base import PublishError, PublishRequest, Receipt

if TYPE_CHECKING:
    from .publisher import TikTokApiPublisher

log = logging.getLogger("piper.routes.tiktok_api")

# (setting, what it is) in the order the operator sets them
REQUIRED_SETTINGS = (
    ("photos.upload_target", "s3://bucket/prefix"),
    ("photos.upload_endpoint", "the bucket's S3 endpoint URL"),
    ("photos.upload_access_key_id", "its access key id"),
    ("photos.upload_secret_key", "its secret key"),
    ("photos.url_prefix", "the TikTok-verified URL prefix"),
)
PHOTO_SETTINGS = (
    "photos.upload_target",
    "photos.upload_endpoint",
    "photos.upload_region",
    "photos.upload_access_key_id",
    "photos.upload_secret_key",
    "photos.url_prefix",
)


@dataclass(frozen=True)
class PhotoUpload:
    target: S3Target
    secret_key: str
    url_prefix: str

    def __repr__(self) -> str:
        return f"PhotoUpload(target={self.target!r}, url_prefix={self.url_prefix!r})"


def photo_upload_from(get: Callable[[str], Any]) -> PhotoUpload:
    """The upload target from settings (`get` is SettingsService.get); a PublishError,
    certainly not posted, naming every setting still missing."""
    missing = [f"{key} ({what})" for key, what in REQUIRED_SETTINGS if not get(key)]
    if missing:
        raise PublishError(
            "photo posts through the TikTok API need an upload target: set " + ", ".join(missing),
            code="photos_not_configured",
            certainly_not_posted=True,
        )
    try:
        target = S3Target.parse(
            str(get("photos.upload_target")),
            endpoint_url=str(get("photos.upload_endpoint")),
            region=str(get("photos.upload_region") or "us-east-1"),
            access_key_id=str(get("photos.upload_access_key_id")),
        )
    except ValueError as exc:
        raise PublishError(str(exc), code="invalid_input", certainly_not_posted=True) from None
    return PhotoUpload(target, str(get("photos.upload_secret_key")), str(get("photos.url_prefix")))


def check_photo_post(
    paths: Sequence[Path], *, title: str, description: str, cover_index: int
) -> list[ImageFacts]:
    """Probe every image and check the post against TikTok's limits; PublishError
    (certainly not posted) with the one line that says what is wrong."""
    facts: list[ImageFacts] = []
    for path in paths:
        try:
            facts.append(probe_image(path))
        except ImageError as exc:
            raise PublishError(str(exc), code="invalid_input", certainly_not_posted=True) from None
    problem = TIKTOK_PHOTOS.post_problem(
        facts, title=title, description=description, cover_index=cover_index
    )
    if problem:
        raise PublishError(problem, code="invalid_input", certainly_not_posted=True)
    return facts


def object_key(idempotency_key: str, index: int, facts: ImageFacts, sha256: str) -> str:
    return f"{idempotency_key}/{index + 1:02d}-{sha256[:16]}{EXTENSIONS[facts.format]}"


def upload_images(
    s3: S3Client, upload: PhotoUpload, idempotency_key: str, images: Sequence[ImageFacts]
) -> list[str]:
    """PUT each image to the target; their public URLs, in order."""
    import hashlib

    urls = []
    for index, facts in enumerate(images):
        data = Path(facts.path).read_bytes()
        key = object_key(idempotency_key, index, facts, hashlib.sha256(data).hexdigest())
        try:
            s3.put(key, data, facts.mime)
        except ApiError as exc:
            # nothing reached TikTok yet: a 5xx that outlasted the client's retries may
            # pass, a refusal (wrong key, signature) needs the operator's settings
            raise PublishError(
                str(exc),
                code="upload_target_failed",
                retryable=(exc.http_status or 500) >= 500,
                certainly_not_posted=True,
            ) from None
        urls.append(public_url(upload.url_prefix, upload.target, key))
    return urls


def publish_photo_post(
    client: TikTokClient,
    access_token: str,
    upload: PhotoUpload,
    *,
    idempotency_key: str,
    paths: Sequence[Path],
    title: str,
    description: str,
    cover_index: int,
    mode: str,  # "direct" or "inbox"
    post_info: dict[str, Any],
    on_receipt: Callable[[Receipt], None],
    s3: S3Client | None = None,
) -> Receipt:
    """Check, upload, init: the receipt goes to `on_receipt` the moment TikTok gives it.
    `post_info` carries the direct post's privacy and interaction choices."""
    images = check_photo_post(paths, title=title, description=description, cover_index=cover_index)
    own = s3 is None
    s3 = s3 or S3Client(upload.target, upload.secret_key)
    try:
        urls = upload_images(s3, upload, idempotency_key, images)
    finally:
        if own:
            s3.close()
    info = dict(post_info) | {"title": title, "description": description}
    init = client.init_photo(
        access_token,
        post_info=info,
        photo_urls=urls,
        cover_index=cover_index,
        post_mode="DIRECT_POST" if mode == "direct" else "MEDIA_UPLOAD",
    )
    receipt = Receipt(
        kind="publish_id",
        value=init.publish_id,
        extra={"mode": mode, "source": "PULL_FROM_URL", "media_type": "PHOTO", "images": len(urls)},
    )
    on_receipt(receipt)
    log.info("photo post: TikTok publish_id %s (%d images)", init.publish_id, len(urls))
    return receipt


def submit_photos(
    publisher: TikTokApiPublisher,
    client: TikTokClient,
    request: PublishRequest,
    on_receipt: Callable[[Receipt], None],
) -> Receipt:
    """The engine's photo post: the media item's title is TikTok's title, the job's
    caption its description. Settings and limits are refused before creator_info, the
    bucket or the init; a token refresh repeats only the init, never the uploads."""
    from .errors import map_api_error
    from .publisher import check_creator_allows

    upload = photo_upload_from(publisher.settings.photos.get)
    title, description = request.title or "", request.caption
    images = check_photo_post(
        request.photos, title=title, description=description, cover_index=request.cover_index
    )
    options, account = request.options, request.account
    if options.mode != "inbox":
        creator = publisher._with_token(account, client, client.creator_info, before_upload=True)
        check_creator_allows(request, creator)
    with S3Client(upload.target, upload.secret_key) as s3:
        urls = upload_images(s3, upload, request.idempotency_key, images)
    post_info: dict[str, Any] = {"title": title, "description": description}
    if options.mode != "inbox":
        post_info |= {
            "privacy_level": options.privacy_level,
            "disable_comment": options.disable_comment,
            "brand_content_toggle": options.brand_content_toggle,
            "brand_organic_toggle": options.brand_organic_toggle,
            "auto_add_music": True,
        }

    def init(token: str) -> Any:
        return client.init_photo(
            token,
            post_info=post_info,
            photo_urls=urls,
            cover_index=request.cover_index,
            post_mode="DIRECT_POST" if options.mode != "inbox" else "MEDIA_UPLOAD",
        )

    try:
        result = publisher._with_token(account, client, init, before_upload=True)
    except ApiError as exc:  # pragma: no cover - _with_token maps them already
        raise map_api_error(exc, before_upload=True) from None
    receipt = Receipt(
        kind="publish_id",
        value=result.publish_id,
        extra={
            "mode": options.mode,
            "source": "PULL_FROM_URL",
            "media_type": "PHOTO",
            "images": len(urls),
        },
    )
    on_receipt(receipt)
    log.info("job %s: TikTok photo publish_id %s", request.job_id, result.publish_id)
    return receipt


def reconcile_photo_post() -> PublishError:
    """No receipt kept: TikTok may have pulled and published the photos anyway."""
    return PublishError(
        "TikTok pulls the photos by itself and its API cannot find a post without its "
        "publish_id; look at the account's profile and mark the job published or re-queue it",
        code="cannot_reconcile",
        needs_attention=True,
    )
