"""Photo sets through the engine on both API routes, against the real stand-ins: TikTok
(the images PUT to the S3 stand-in, pulled by TikTok's from the verified prefix) and
Upload-Post (multipart photos[]). A missing upload target fails the job before anything
is sent; a photo job found without a receipt after a crash needs a person."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from piper_desktop.domain.photo_sets import PhotoSetService
from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.images import write_image
from piper_desktop.sandbox.s3 import SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_KEY, S3Sandbox
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from piper_desktop.store.models import MediaItem
from tests.engine.helpers import (
    add_account,
    connect_tiktok,
    make_engine,
    use_tiktok,
    use_upload_post,
)


@pytest.fixture
def s3() -> Iterator[S3Sandbox]:
    with S3Sandbox() as server:
        assert isinstance(server, S3Sandbox)
        yield server


def _photo_set(services: Services, tmp_path: Path, n: int = 3) -> MediaItem:
    paths = [write_image(tmp_path / f"s{i}.jpg", "jpeg", shade=i * 50) for i in range(n)]
    item, _ = PhotoSetService(services.media.db).add(paths, title="Weekend", cover_index=1)
    return item


def _use_bucket(services: Services, s3: S3Sandbox) -> None:
    for key, value in {
        "photos.upload_target": "s3://piper-photos/posts",
        "photos.upload_endpoint": s3.base_url,
        "photos.upload_access_key_id": SANDBOX_ACCESS_KEY_ID,
        "photos.upload_secret_key": SANDBOX_SECRET_KEY,
        "photos.url_prefix": s3.public_prefix(),
    }.items():
        services.settings.set(key, value)


def _job(services: Services, clock: ManualClock, account_id: int, media_id: int, route: str) -> int:
    job = services.jobs.add(
        account_id=account_id,
        media_id=media_id,
        route=route,
        at=clock.now(),
        caption="three pictures #sandbox",
        options={"privacy_level": "SELF_ONLY"},
        now=clock.now(),
    )
    return job.id


def test_photo_set_on_tiktok_api(
    services: Services,
    clock: ManualClock,
    tiktok: TikTokApiSandbox,
    s3: S3Sandbox,
    tmp_path: Path,
) -> None:
    use_tiktok(services, tiktok)
    _use_bucket(services, s3)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect_tiktok(services, tiktok, account, clock.time())
    media = _photo_set(services, tmp_path)
    job_id = _job(services, clock, account.id, media.id, "tiktok_api")

    make_engine(services, clock).run_once()

    done = services.jobs.get(job_id)
    assert done.status == "published", [(e.kind, e.message) for e in services.jobs.events(job_id)]
    [post] = tiktok.posts
    assert post["publish_id"] == done.receipt and post["title"] == "Weekend"
    assert post["post_info"]["description"] == "three pictures #sandbox"
    assert len(post["photo_urls"]) == 3 and len(s3.objects) == 3
    init = next(r for r in tiktok.requests if "content/init" in r.path).json()
    assert init["source_info"]["photo_cover_index"] == 1


def test_photo_set_without_upload_target_fails_before_sending(
    services: Services,
    clock: ManualClock,
    tiktok: TikTokApiSandbox,
    tmp_path: Path,
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect_tiktok(services, tiktok, account, clock.time())
    media = _photo_set(services, tmp_path)
    job_id = _job(services, clock, account.id, media.id, "tiktok_api")

    make_engine(services, clock).run_once()

    done = services.jobs.get(job_id)
    assert done.status == "failed"
    assert "photos.upload_target" in (done.last_error or "")
    # creator_info (a read, at readiness) may go; nothing is initialised or uploaded
    assert [r for r in tiktok.requests if "content/init" in r.path] == []
    assert tiktok.posts == []


def test_photo_set_on_upload_post(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    account = add_account(services, "alice")
    media = _photo_set(services, tmp_path, 2)
    job_id = _job(services, clock, account.id, media.id, "upload_post")

    make_engine(services, clock).run_once()

    done = services.jobs.get(job_id)
    assert done.status == "published", [(e.kind, e.message) for e in services.jobs.events(job_id)]
    [upload] = upload_post.uploads
    assert upload["request_id"] == done.receipt == services.jobs.get(job_id).uuid
    assert [p["filename"] for p in upload["video_photos"]] == ["s0.jpg", "s1.jpg"]
