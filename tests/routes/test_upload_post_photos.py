"""Photo posts through Upload-Post's /upload_photos against the stand-in: the images
arrive in order with title and description; the job's idempotency key is the
request_id (a repeat is the same upload); limits are refused before anything is sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.upload_post import UploadPostClient
from piper_desktop.routes.base import PublishError, Receipt
from piper_desktop.routes.upload_post.photos import submit_photo_post
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.images import write_image
from piper_desktop.sandbox.upload_post import UploadPostSandbox


@pytest.fixture
def client(upload_post: UploadPostSandbox) -> Iterator[UploadPostClient]:
    with UploadPostClient(upload_post.api_key, base_url=upload_post.api_base) as c:
        yield c


def _images(tmp_path: Path, n: int, fmt: str = "jpeg") -> list[Path]:
    return [write_image(tmp_path / f"p{i}.{fmt}", fmt, shade=i * 30) for i in range(n)]


def _submit(client: UploadPostClient, paths: list[Path], **kw: object) -> list[Receipt]:
    got: list[Receipt] = []
    args: dict[str, object] = {
        "idempotency_key": "job-9-photos",
        "user": "sandbox_profile",
        "paths": paths,
        "title": "A carousel",
        "description": "three pictures",
        "platforms": ("tiktok",),
        "on_receipt": got.append,
        "tiktok": {"privacy_level": "SELF_ONLY", "disable_comment": False},
    } | kw
    submit_photo_post(client, **args)  # type: ignore[arg-type]
    return got


def test_photo_post_end_to_end(
    tmp_path: Path, upload_post: UploadPostSandbox, client: UploadPostClient
) -> None:
    paths = _images(tmp_path, 3)
    paths.append(write_image(tmp_path / "last.png", "png"))
    [receipt] = _submit(client, paths)
    assert receipt.kind == "request_id" and receipt.value == "job-9-photos"
    [upload] = upload_post.uploads
    assert [p["filename"] for p in upload["video_photos"]] == [
        "p0.jpeg",
        "p1.jpeg",
        "p2.jpeg",
        "last.png",
    ]
    assert [p["format"] for p in upload["video_photos"]] == ["jpeg"] * 3 + ["png"]
    assert upload["video_description"] == "three pictures"
    assert upload["title"] == "A carousel" and upload["platforms"] == ["tiktok"]
    status = client.status(request_id="job-9-photos")
    assert status is not None


def test_repeat_is_the_same_upload(
    tmp_path: Path, upload_post: UploadPostSandbox, client: UploadPostClient
) -> None:
    paths = _images(tmp_path, 2)
    _submit(client, paths)
    _submit(client, paths)
    assert len(upload_post.uploads) == 1


def test_lost_answer_is_found_by_request_id(
    tmp_path: Path, upload_post: UploadPostSandbox, client: UploadPostClient
) -> None:
    upload_post.faults.add(Fault(r"^/api/upload_photos$", status=502, then_process=True))
    [receipt] = _submit(client, _images(tmp_path, 2))
    assert receipt.value == "job-9-photos"
    assert len(upload_post.uploads) == 1


@pytest.mark.parametrize(
    ("kw", "expect"),
    [
        ({"title": "t" * 91}, "at most 90"),
        ({"description": "d" * 4001}, "at most 4000"),
        ({"paths": []}, "at least one image"),
    ],
)
def test_limits_refused_before_sending(
    tmp_path: Path,
    upload_post: UploadPostSandbox,
    client: UploadPostClient,
    kw: dict[str, object],
    expect: str,
) -> None:
    paths = kw.pop("paths", _images(tmp_path, 1))
    with pytest.raises(PublishError, match=expect) as info:
        _submit(client, paths, **kw)  # type: ignore[arg-type]
    assert info.value.certainly_not_posted
    assert upload_post.requests == [] and upload_post.uploads == []


def test_too_many_images_refused_before_sending(
    tmp_path: Path, upload_post: UploadPostSandbox, client: UploadPostClient
) -> None:
    with pytest.raises(PublishError, match="at most 35"):
        _submit(client, _images(tmp_path, 1) * 36)
    assert upload_post.requests == []


def test_stand_in_refuses_what_is_no_image(
    tmp_path: Path, upload_post: UploadPostSandbox, client: UploadPostClient
) -> None:
    # sent straight through the client (Piper's own check would stop it first)
    bad = tmp_path / "fake.jpg"
    bad.write_bytes(b"GIF89a not what it says")
    with pytest.raises(ApiError, match="not a JPEG, PNG or WebP"):
        client.upload_photos(
            photos=[bad], user="sandbox_profile", title="x", description="", platforms=["tiktok"]
        )
    with pytest.raises(ApiError, match="at most 90"):
        client.upload_photos(
            photos=_images(tmp_path, 1),
            user="sandbox_profile",
            title="x" * 91,
            description="",
            platforms=["tiktok"],
        )
    assert upload_post.uploads == []
