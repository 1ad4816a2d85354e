"""Photo posts through TikTok's content/init: images PUT to the S3 stand-in, pulled by
the TikTok stand-in from the verified prefix (127.0.0.1), checked there and recorded;
every refusal Piper can know comes before anything is sent (both stand-ins' records
stay empty)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.s3 import S3Target
from piper_desktop.clients.tiktok import PublishStatus, TikTokClient
from piper_desktop.routes.base import PublishError, Receipt
from piper_desktop.routes.tiktok_api.photos import (
    PhotoUpload,
    photo_upload_from,
    publish_photo_post,
    reconcile_photo_post,
)
from piper_desktop.routes.tiktok_api.publisher import TikTokApiPublisher
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.images import write_image
from piper_desktop.sandbox.s3 import SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_KEY, S3Sandbox
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from tests.clients.helpers import FakeClock
from tests.routes.conftest import MakeRequest

DIRECT_INFO = {
    "privacy_level": "SELF_ONLY",
    "disable_comment": False,
    "brand_content_toggle": False,
    "brand_organic_toggle": False,
}


@pytest.fixture
def s3() -> Iterator[S3Sandbox]:
    with S3Sandbox() as server:
        assert isinstance(server, S3Sandbox)
        yield server


@pytest.fixture
def tiktok() -> Iterator[TikTokApiSandbox]:
    with TikTokApiSandbox(clock=FakeClock()) as server:
        assert isinstance(server, TikTokApiSandbox)
        yield server


@pytest.fixture
def client(tiktok: TikTokApiSandbox) -> Iterator[TikTokClient]:
    with TikTokClient(
        client_key=tiktok.client_key,
        client_secret=tiktok.client_secret,
        api_base=tiktok.base_url,
        auth_url=tiktok.auth_url,
        timeout=10.0,
    ) as c:
        yield c


def _settings(s3: S3Sandbox) -> dict[str, Any]:
    return {
        "photos.upload_target": "s3://piper-photos/carousels",
        "photos.upload_endpoint": s3.base_url,
        "photos.upload_region": "us-east-1",
        "photos.upload_access_key_id": SANDBOX_ACCESS_KEY_ID,
        "photos.upload_secret_key": SANDBOX_SECRET_KEY,
        "photos.url_prefix": s3.public_prefix(),
    }


def _images(tmp_path: Path, n: int, fmt: str = "jpeg", **kw: Any) -> list[Path]:
    return [write_image(tmp_path / f"p{i}.{fmt}", fmt, shade=i * 20, **kw) for i in range(n)]


def _post(
    client: TikTokClient,
    tiktok: TikTokApiSandbox,
    upload: PhotoUpload,
    paths: list[Path],
    *,
    mode: str = "direct",
    title: str = "Three photos",
    description: str = "a carousel #sandbox",
    cover_index: int = 1,
) -> tuple[Receipt, list[Receipt]]:
    got: list[Receipt] = []
    token = tiktok.issue_tokens()["access_token"]
    receipt = publish_photo_post(
        client,
        token,
        upload,
        idempotency_key="job-7-abc",
        paths=paths,
        title=title,
        description=description,
        cover_index=cover_index,
        mode=mode,
        post_info=DIRECT_INFO if mode == "direct" else {},
        on_receipt=got.append,
    )
    return receipt, got


def _settle(client: TikTokClient, tiktok: TikTokApiSandbox, publish_id: str) -> PublishStatus:
    """Poll status as the engine does until TikTok says something final."""
    token = tiktok.issue_tokens()["access_token"]
    for _ in range(10):
        status = client.fetch_status(token, publish_id)
        if status.status not in ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"):
            return status
    raise AssertionError(f"still {status.status}")


def test_direct_photo_post_end_to_end(
    tmp_path: Path, s3: S3Sandbox, tiktok: TikTokApiSandbox, client: TikTokClient
) -> None:
    upload = photo_upload_from(_settings(s3).get)
    receipt, got = _post(client, tiktok, upload, _images(tmp_path, 3))
    assert got == [receipt] and receipt.extra["media_type"] == "PHOTO"
    assert len(s3.objects) == 3
    assert all(k.startswith("piper-photos/carousels/job-7-abc/") for k in s3.objects)
    [post] = tiktok.posts
    assert post["publish_id"] == receipt.value and post["kind"] == "photo"
    assert post["title"] == "Three photos"
    assert [u.startswith(s3.public_prefix() + "/carousels/") for u in post["photo_urls"]] == [
        True
    ] * 3
    assert _settle(client, tiktok, receipt.value).status == "PUBLISH_COMPLETE"
    # TikTok pulled each image from the stand-in
    assert len([r for r in s3.requests if r.method == "GET"]) == 3


def test_inbox_photo_post(
    tmp_path: Path, s3: S3Sandbox, tiktok: TikTokApiSandbox, client: TikTokClient
) -> None:
    upload = photo_upload_from(_settings(s3).get)
    receipt, _ = _post(client, tiktok, upload, _images(tmp_path, 2), mode="inbox")
    assert _settle(client, tiktok, receipt.value).status == "SEND_TO_USER_INBOX"
    assert tiktok.posts[0]["kind"] == "inbox"


def test_missing_settings_refused_in_one_line(s3: S3Sandbox) -> None:
    settings = _settings(s3)
    del settings["photos.url_prefix"], settings["photos.upload_secret_key"]
    with pytest.raises(PublishError) as info:
        photo_upload_from(settings.get)
    message = str(info.value)
    assert "photos.url_prefix" in message and "photos.upload_secret_key" in message
    assert "\n" not in message and info.value.certainly_not_posted


@pytest.mark.parametrize(
    ("case", "expect"),
    [
        ("title", "at most 90"),
        ("description", "at most 4000"),
        ("count", "at most 35"),
        ("png", "PNG"),
        ("big", "1080x1920"),
        ("cover", "cover index"),
    ],
)
def test_limits_refused_before_sending(
    tmp_path: Path,
    s3: S3Sandbox,
    tiktok: TikTokApiSandbox,
    client: TikTokClient,
    case: str,
    expect: str,
) -> None:
    upload = photo_upload_from(_settings(s3).get)
    paths = _images(tmp_path, 2)
    kw: dict[str, Any] = {}
    if case == "title":
        kw["title"] = "t" * 91
    elif case == "description":
        kw["description"] = "d" * 4001
    elif case == "count":
        paths = paths * 18
    elif case == "png":
        paths = _images(tmp_path, 1, "png")
        kw["cover_index"] = 0
    elif case == "big":
        paths = [write_image(tmp_path / "big.jpeg", "jpeg", 1200, 1200)]
        kw["cover_index"] = 0
    elif case == "cover":
        kw["cover_index"] = 2
    before = len(tiktok.requests)
    with pytest.raises(PublishError, match=expect) as info:
        _post(client, tiktok, upload, paths, **kw)
    assert info.value.certainly_not_posted
    assert s3.requests == [] and s3.objects == {}
    # only the token issue happened on the TikTok side: no init
    assert [r for r in tiktok.requests[before:] if "content/init" in r.path] == []
    assert tiktok.posts == []


def test_5xx_on_one_put_is_retried(
    tmp_path: Path, s3: S3Sandbox, tiktok: TikTokApiSandbox, client: TikTokClient
) -> None:
    s3.faults.add(Fault(r"/job-7-abc/02-", status=503))
    upload = photo_upload_from(_settings(s3).get)
    _post(client, tiktok, upload, _images(tmp_path, 3))
    assert [r.status for r in s3.requests if r.method == "PUT"] == [200, 503, 200, 200]
    assert len(tiktok.posts) == 1


def test_signature_mismatch_stops_before_tiktok(
    tmp_path: Path, s3: S3Sandbox, tiktok: TikTokApiSandbox, client: TikTokClient
) -> None:
    settings = _settings(s3) | {"photos.upload_secret_key": "the-wrong-secret-key"}
    with pytest.raises(PublishError, match="SignatureDoesNotMatch") as info:
        _post(client, tiktok, photo_upload_from(settings.get), _images(tmp_path, 2))
    assert not info.value.retryable and info.value.certainly_not_posted
    assert "the-wrong-secret-key" not in str(info.value)
    assert tiktok.posts == []


def test_image_tiktok_refuses_fails_the_publish(
    tmp_path: Path, tiktok: TikTokApiSandbox, client: TikTokClient
) -> None:
    # Piper's check passes; what the prefix serves is not a picture (a CDN answering
    # with a page): TikTok's pull refuses it and the publish ends FAILED
    with S3Sandbox(serve_broken=True) as broken:
        assert isinstance(broken, S3Sandbox)
        upload = photo_upload_from(_settings(broken).get)
        receipt, _ = _post(client, tiktok, upload, _images(tmp_path, 1), cover_index=0)
    status = _settle(client, tiktok, receipt.value)
    assert (status.status, status.fail_reason) == ("FAILED", "file_format_check_failed")


def test_unverified_prefix_refused_by_tiktok(
    tmp_path: Path, s3: S3Sandbox, client: TikTokClient
) -> None:
    with TikTokApiSandbox(clock=FakeClock(), verified_domains=("cdn.example.invalid",)) as t:
        assert isinstance(t, TikTokApiSandbox)
        upload = photo_upload_from(_settings(s3).get)
        c = TikTokClient(
            client_key=t.client_key,
            client_secret=t.client_secret,
            api_base=t.base_url,
            auth_url=t.auth_url,
            timeout=10.0,
        )
        with c, pytest.raises(ApiError, match="url_ownership_unverified"):
            _post(c, t, upload, _images(tmp_path, 1), cover_index=0)
        assert t.posts == []


def test_reconcile_without_receipt_needs_attention(
    tmp_path: Path, publisher: TikTokApiPublisher, make_request: MakeRequest
) -> None:
    # a video FILE_UPLOAD without a receipt is certainly not posted; a photo post is
    # always a pull, so the publisher cannot be certain and asks a person
    request = replace(make_request(), photos=tuple(_images(tmp_path, 2)))
    with pytest.raises(PublishError) as info:
        publisher.reconcile(request)
    assert info.value.needs_attention and not info.value.certainly_not_posted
    assert reconcile_photo_post().code == info.value.code


def test_target_repr_has_no_secret(s3: S3Sandbox) -> None:
    upload = photo_upload_from(_settings(s3).get)
    assert SANDBOX_SECRET_KEY not in repr(upload)
    assert isinstance(upload.target, S3Target)


def test_web_route_refuses_a_photo_set(tmp_path: Path, make_request: MakeRequest) -> None:
    from piper_desktop.domain.media_limits import TIKTOK_API, TIKTOK_WEB
    from piper_desktop.routes.media_check import media_refusal

    request = replace(make_request(), photos=tuple(_images(tmp_path, 2)))
    refusal = media_refusal(request, TIKTOK_WEB)
    assert refusal is not None and refusal.certainly_not_posted
    assert "TikTok Studio" in refusal.reason
    assert media_refusal(request, TIKTOK_API) is None
