"""UploadPostPublisher against the local Upload-Post stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from piper_desktop.routes.base import CheckState, NotPosted, PublishError
from piper_desktop.routes.upload_post.publisher import UploadPostPublisher
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.clients.helpers import MB, sha256_of
from tests.routes.conftest import MakeRequest, MakeUpPublisher, Receipts


def _final(publisher: UploadPostPublisher, request, receipt):  # type: ignore[no-untyped-def]
    states = []
    for _ in range(10):
        result = publisher.check(request, receipt)
        states.append(result.state)
        if result.state is not CheckState.PENDING:
            return result, states
    raise AssertionError("never final")


def test_upload_with_our_request_id(
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    request = make_request(
        size=3 * MB, platforms=["tiktok", "youtube"], privacy_level="PUBLIC_TO_EVERYONE"
    )
    receipt = up_publisher.submit(request, receipts)
    assert receipts == [receipt]
    assert (receipt.kind, receipt.value) == ("request_id", request.idempotency_key)
    [upload] = upload_post.uploads
    assert upload["user"] == "alice-profile"
    assert upload["video_sha256"] == sha256_of(request.media_path)
    assert upload["tiktok"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    result, states = _final(up_publisher, request, receipt)
    assert states == [CheckState.PENDING, CheckState.PENDING, CheckState.PUBLISHED]
    assert result.reason is None
    assert set(result.platform_results) == {"tiktok", "youtube"}
    assert result.post_url == result.platform_results["tiktok"]["url"]


def test_lost_answer_after_timeout_is_found_by_status_not_resent(
    upload_post: UploadPostSandbox,
    make_up_publisher: MakeUpPublisher,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    publisher = make_up_publisher(timeout=0.5)
    # the upload is taken, but the answer comes after the client stopped waiting
    upload_post.faults.add(Fault(r"^/api/upload$", then_process=True, delay_after=2.0, status=200))
    request = make_request(size=MB)
    receipt = publisher.submit(request, receipts)
    assert receipt.value == request.idempotency_key and receipts == [receipt]
    posts = [r for r in upload_post.requests if r.path == "/api/upload"]
    assert len(posts) == 1
    assert [r.path for r in upload_post.requests][-1] == "/api/uploadposts/status"
    assert len(upload_post.uploads) == 1
    # even an engine retry of submit does not post twice: the server knows the request_id
    publisher.submit(request, receipts)
    assert len(upload_post.uploads) == 1


def test_dropped_connection_after_processing(
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    upload_post.faults.add(Fault(r"^/api/upload$", then_process=True, drop_connection=True))
    receipt = up_publisher.submit(make_request(), receipts)
    assert receipt.kind == "request_id"
    assert len(upload_post.uploads) == 1


def test_lost_request_that_never_arrived_is_retryable(
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    upload_post.faults.add(
        Fault(r"^/api/upload$", status=502, body={"success": False, "error": "bad gateway"})
    )
    with pytest.raises(PublishError) as caught:
        up_publisher.submit(make_request(), receipts)
    assert caught.value.retryable and not caught.value.certainly_not_posted
    assert receipts == [] and upload_post.uploads == []


def test_partial_success_is_reported_per_platform(
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    upload_post.fail_platform("instagram", "aspect ratio not supported")
    request = make_request(platforms=["tiktok", "instagram"])
    receipt = up_publisher.submit(request, receipts)
    result, _ = _final(up_publisher, request, receipt)
    assert result.state is CheckState.PUBLISHED
    assert result.reason == "partial: instagram failed: aspect ratio not supported"
    assert result.platform_results["tiktok"]["success"] is True
    assert result.platform_results["instagram"] == {
        "success": False,
        "error": "aspect ratio not supported",
        "url": None,
    }


def test_all_platforms_failing_is_failed(
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    upload_post.fail_platform("tiktok", "session expired, reconnect TikTok")
    request = make_request()
    receipt = up_publisher.submit(request, receipts)
    result, _ = _final(up_publisher, request, receipt)
    assert result.state is CheckState.FAILED
    assert result.reason == "tiktok failed: session expired, reconnect TikTok"


def test_scheduled_upload_gives_a_job_id(
    make_up_publisher: MakeUpPublisher,
    upload_post: UploadPostSandbox,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    at = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    when = at.isoformat()
    # the publisher's clock says three hours before the post is due
    publisher = make_up_publisher(clock=lambda: at.timestamp() - 3 * 3600)
    request = make_request(scheduled_at=when, timezone="Europe/Paris")
    receipt = publisher.submit(request, receipts)
    assert receipt.kind == "job_id" and receipt.extra == {"request_id": request.idempotency_key}
    result = publisher.check(request, receipt)
    assert result.state is CheckState.PENDING
    assert result.next_check_in == 3 * 3600 + 30  # looks again just after it is due
    assert upload_post.uploads[0]["scheduled_date"] == when


@pytest.mark.parametrize(
    ("fault", "expect"),
    [
        (
            Fault(
                r"^/api/upload$", status=401, body={"success": False, "error": "Invalid API key"}
            ),
            {"needs_attention": True, "certainly_not_posted": True, "retryable": False},
        ),
        (
            Fault(
                r"^/api/upload$",
                status=429,
                headers={"Retry-After": "30"},
                body={"success": False, "error": "Too many requests"},
            ),
            {"retryable": True, "certainly_not_posted": True},
        ),
    ],
    ids=["401", "429"],
)
def test_error_mapping(
    up_publisher: UploadPostPublisher,
    make_request: MakeRequest,
    receipts: Receipts,
    upload_post: UploadPostSandbox,
    fault: Fault,
    expect: dict,
) -> None:
    upload_post.faults.add(fault)
    with pytest.raises(PublishError) as caught:
        up_publisher.submit(make_request(), receipts)
    for key, value in expect.items():
        assert getattr(caught.value, key) == value, key


def test_validation_error_is_permanent(
    up_publisher: UploadPostPublisher, make_request: MakeRequest, receipts: Receipts
) -> None:
    with pytest.raises(PublishError) as caught:
        up_publisher.submit(make_request(caption=""), receipts)
    assert not caught.value.retryable and caught.value.certainly_not_posted
    assert "title" in caught.value.reason


def test_reconcile_by_request_id(
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    request = make_request()
    absent = up_publisher.reconcile(request)
    assert isinstance(absent, NotPosted) and "request id" in absent.why
    up_publisher.submit(request, receipts)
    found = up_publisher.reconcile(request)
    assert found is not None and found.value == request.idempotency_key


def test_submit_and_checks_share_one_connection(
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    # the publisher keeps its client per proxy: no new TCP (and TLS) handshake per call
    request = make_request(size=MB)
    receipt = up_publisher.submit(request, receipts)
    _final(up_publisher, request, receipt)
    calls = [r for r in upload_post.requests if r.path.startswith("/api/")]
    assert len(calls) == 4
    assert len({r.peer for r in calls}) == 1
    up_publisher.close()
    # a publisher still in the engine's hands after close() keeps working
    assert up_publisher.check(request, receipt).state is CheckState.PUBLISHED


def test_a_cookie_set_for_one_call_is_not_sent_on_the_next(
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    # clients are shared by the accounts behind one proxy: none may carry another's cookie
    request = make_request(size=MB)
    receipt = up_publisher.submit(request, receipts)
    pending = {"success": True, "request_id": receipt.value, "status": "pending", "results": []}
    upload_post.faults.add(
        Fault(
            r"^/api/uploadposts/status",
            status=200,
            body=pending,
            headers={"Set-Cookie": "upsession=account-1; Path=/"},
        )
    )
    assert up_publisher.check(request, receipt).state is CheckState.PENDING
    up_publisher.check(request, receipt)
    last = upload_post.requests[-1]
    assert last.path == "/api/uploadposts/status"
    assert "cookie" not in {name.lower() for name in last.headers}
