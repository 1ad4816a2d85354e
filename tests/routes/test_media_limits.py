"""Issue 16: each platform's limits are checked before any upload, so a file the
platform would refuse (file_format_check_failed, frame_rate_check_failed, ...) costs no
attempt: the routes refuse it in readiness and again in submit, before any request."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from piper_desktop.routes.base import PostOptions, PublishError, PublishRequest
from piper_desktop.routes.tiktok_api.publisher import TikTokApiPublisher
from piper_desktop.routes.tiktok_api.spec import TikTokReadiness
from piper_desktop.routes.upload_post.publisher import UploadPostPublisher
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.clients.helpers import DictCredentialStore, FakeClock
from tests.conftest import make_video
from tests.routes.conftest import ACCOUNT, Receipts, connect


def _request(path: Path, **options: object) -> PublishRequest:
    return PublishRequest(
        job_id=1,
        idempotency_key="piper-job-1-" + hashlib.sha256(str(path).encode()).hexdigest()[:8],
        account=ACCOUNT,
        media_path=path,
        media_size=path.stat().st_size,
        media_sha256="",
        caption="a post",
        # the operator's privacy choice, as compliance mode wants one
        options=PostOptions.from_dict({"privacy_level": "SELF_ONLY", **options}),
    )


def test_upload_post_never_uploads_what_is_not_a_video(
    up_publisher: UploadPostPublisher, upload_post: UploadPostSandbox, receipts: Receipts
) -> None:
    # what the issue saw: /etc/passwd published through Upload-Post
    with pytest.raises(PublishError) as caught:
        up_publisher.submit(_request(Path("/etc/passwd")), receipts)
    assert caught.value.code == "media_unsupported"
    assert caught.value.certainly_not_posted and not caught.value.retryable
    assert "is not a video file" in caught.value.reason
    assert upload_post.uploads == [] and receipts == []


def test_upload_post_checks_tiktok_limits_when_posting_to_tiktok(
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    receipts: Receipts,
    tmp_path: Path,
) -> None:
    slow = make_video(tmp_path, "slow.mp4", fps=15)
    with pytest.raises(PublishError, match="15 fps; TikTok needs at least 23"):
        up_publisher.submit(_request(slow), receipts)
    assert upload_post.uploads == []
    # another platform only: TikTok's rules do not apply, the file is a video
    up_publisher.submit(_request(slow, platforms=["youtube"]), receipts)
    assert len(upload_post.uploads) == 1


@pytest.mark.parametrize(
    ("shape", "says"),
    [
        ({"fps": 15}, "15 fps"),
        ({"width": 200, "height": 356}, "200x356"),
        ({"codec": "mpeg4"}, "encoded as mpeg4"),
        ({"seconds": 12}, "lasts 12 s; TikTok takes at most 10 s"),
    ],
    ids=["frame-rate", "picture-size", "codec", "creator-duration"],
)
def test_tiktok_refuses_before_init_and_readiness_says_why(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    receipts: Receipts,
    tmp_path: Path,
    shape: dict,
    says: str,
) -> None:
    connect(tiktok, store, clock)
    tiktok.set_creator(ACCOUNT.username, max_video_post_duration_sec=10)
    request = _request(make_video(tmp_path, "clip.mp4", **shape))
    problem = TikTokReadiness().problem(publisher, request)
    assert problem is not None and problem.scope == "job" and says in problem.reason
    with pytest.raises(PublishError) as caught:
        publisher.submit(request, receipts)
    assert caught.value.code == "media_unsupported" and says in caught.value.reason
    assert caught.value.certainly_not_posted
    assert not [r for r in tiktok.requests if "init" in r.path or r.method == "PUT"]
    # a file that fits goes through
    fine = _request(make_video(tmp_path, "fine.mp4", seconds=2))
    assert TikTokReadiness().problem(publisher, fine) is None
    assert publisher.submit(fine, receipts).kind == "publish_id"


def test_tiktok_inbox_drafts_are_checked_too(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    receipts: Receipts,
    tmp_path: Path,
) -> None:
    connect(tiktok, store, clock)
    text = tmp_path / "draft.mp4"
    text.write_text("not a video\n" * 100)
    request = _request(text, mode="inbox")
    problem = TikTokReadiness().problem(publisher, request)
    assert problem is not None and "is not a video file" in problem.reason
    with pytest.raises(PublishError, match="is not a video file"):
        publisher.submit(request, receipts)
    assert not [r for r in tiktok.requests if "init" in r.path]
