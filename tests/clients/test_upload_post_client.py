"""Upload-Post client against the local stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.upload_post import UploadPostClient
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.clients.helpers import MB, sha256_of, sparse_file


@pytest.fixture
def client(upload_post_sandbox: UploadPostSandbox) -> UploadPostClient:
    with UploadPostClient(
        upload_post_sandbox.api_key, base_url=upload_post_sandbox.api_base, timeout=10
    ) as c:
        yield c  # type: ignore[misc]


def test_file_upload_streams_and_progresses(
    tmp_path: Path, client: UploadPostClient, upload_post_sandbox: UploadPostSandbox
) -> None:
    path = sparse_file(tmp_path / "clip.mp4", 3 * MB + 7)
    answer = client.upload(
        video=path,
        user="alice",
        title="Hello #fyp",
        platforms=("tiktok", "instagram"),
        request_id="job-1-abc",
        tiktok={"privacy_level": "SELF_ONLY", "disable_duet": True},
    )
    assert answer.request_id == "job-1-abc"
    [upload] = upload_post_sandbox.uploads
    assert upload["video_size"] == 3 * MB + 7
    assert upload["video_sha256"] == sha256_of(path)
    assert upload["video_filename"] == "clip.mp4"
    assert upload["platforms"] == ["tiktok", "instagram"]
    assert upload["tiktok"] == {"privacy_level": "SELF_ONLY", "disable_duet": "true"}
    steps = [client.status(request_id="job-1-abc") for _ in range(3)]
    assert [s.status for s in steps if s] == ["pending", "in_progress", "completed"]
    final = steps[-1]
    assert final is not None and set(final.results) == {"tiktok", "instagram"}
    assert all(
        r["success"] and r["url"].startswith(upload_post_sandbox.base_url)
        for r in final.results.values()
    )
    assert client.history(limit=5)["total"] == 1


def test_url_upload_and_unknown_status(
    client: UploadPostClient, upload_post_sandbox: UploadPostSandbox
) -> None:
    answer = client.upload(
        video="http://127.0.0.1:9/v.mp4", user="bob", title="t", platforms=["youtube"]
    )
    assert answer.request_id
    assert upload_post_sandbox.uploads[0]["video_url"] == "http://127.0.0.1:9/v.mp4"
    assert client.status(request_id="never-sent") is None


def test_same_request_id_is_not_uploaded_twice(
    tmp_path: Path, client: UploadPostClient, upload_post_sandbox: UploadPostSandbox
) -> None:
    path = sparse_file(tmp_path / "clip.mp4", MB)
    first = client.upload(video=path, user="a", title="t", platforms=["tiktok"], request_id="k1")
    again = client.upload(video=path, user="a", title="t", platforms=["tiktok"], request_id="k1")
    assert first.request_id == again.request_id == "k1"
    assert again.raw.get("duplicate") is True
    assert len(upload_post_sandbox.uploads) == 1


def test_validation_names_the_field(tmp_path: Path, client: UploadPostClient) -> None:
    path = sparse_file(tmp_path / "clip.mp4", MB)
    with pytest.raises(ApiError) as caught:
        client.upload(video=path, user="a", title="", platforms=["tiktok"])
    assert caught.value.http_status == 400 and caught.value.code == "title"
    with pytest.raises(ApiError) as caught:
        client.upload(video=path, user="a", title="t", platforms=["myspace"])
    assert caught.value.code == "platform[]"
    with pytest.raises(ApiError) as caught:
        client.upload(
            video=path, user="a", title="t", platforms=["tiktok"], tiktok={"privacy_level": "ALL"}
        )
    assert caught.value.code == "privacy_level"
    assert not caught.value.retryable


def test_bad_key_and_rate_limit(upload_post_sandbox: UploadPostSandbox) -> None:
    with (
        UploadPostClient("wrong-key", base_url=upload_post_sandbox.api_base) as bad,
        pytest.raises(ApiError) as caught,
    ):
        bad.status(request_id="x")
    assert caught.value.http_status == 401
    assert "wrong-key" not in str(caught.value)
    upload_post_sandbox.state.rate_limit = (2, 60.0)
    with UploadPostClient(upload_post_sandbox.api_key, base_url=upload_post_sandbox.api_base) as c:
        c.scheduled()
        c.scheduled()
        with pytest.raises(ApiError) as caught:
            c.scheduled()
    assert caught.value.http_status == 429 and caught.value.retryable
    assert caught.value.retry_after == 30.0


def test_schedule_list_edit_cancel(tmp_path: Path, client: UploadPostClient) -> None:
    when = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()
    answer = client.upload(
        video=sparse_file(tmp_path / "c.mp4", MB),
        user="a",
        title="later",
        platforms=["tiktok"],
        scheduled_date=when,
        timezone="Europe/Berlin",
        request_id="sched-1",
    )
    assert answer.job_id
    [job] = client.scheduled()
    assert job["job_id"] == answer.job_id and job["timezone"] == "Europe/Berlin"
    status = client.status(job_id=answer.job_id)
    assert status is not None and status.status == "pending"
    later = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    edited = client.edit_scheduled(answer.job_id, scheduled_date=later, title="later still")
    assert edited["title"] == "later still"
    client.cancel_scheduled(answer.job_id)
    assert client.scheduled() == []
    with pytest.raises(ApiError) as caught:
        client.cancel_scheduled("job_nope")
    assert caught.value.http_status == 404


def test_retry_reruns_only_failed_platforms(
    tmp_path: Path, client: UploadPostClient, upload_post_sandbox: UploadPostSandbox
) -> None:
    upload_post_sandbox.state.polls_to_complete = 1
    upload_post_sandbox.fail_platform("instagram", "aspect ratio not supported")
    client.upload(
        video=sparse_file(tmp_path / "c.mp4", MB),
        user="a",
        title="t",
        platforms=["tiktok", "instagram"],
        request_id="r-1",
    )
    first = client.status(request_id="r-1")
    assert first is not None
    assert first.results["instagram"] == {
        "success": False,
        "error": "aspect ratio not supported",
        "url": None,
    }
    tiktok_url = first.results["tiktok"]["url"]
    assert client.retry(request_id="r-1")["success"] is True
    second = client.status(request_id="r-1")
    assert second is not None
    assert second.results["instagram"]["success"] is True
    assert second.results["tiktok"]["url"] == tiktok_url  # untouched
    with pytest.raises(ApiError) as caught:
        client.retry(request_id="r-1")
    assert caught.value.http_status == 409


def test_profiles_lists_the_key_s_profiles() -> None:
    with UploadPostSandbox(profiles={"brand_main", "Anna"}) as server:
        with UploadPostClient(server.api_key, base_url=server.api_base, timeout=10) as c:  # type: ignore[attr-defined]
            assert [p.username for p in c.profiles()] == ["Anna", "brand_main"]
            assert c.profiles()[0].social_accounts["tiktok"]["username"] == "Anna"
        wrong = UploadPostClient("wrong", base_url=server.api_base, timeout=10)  # type: ignore[attr-defined]
        with wrong, pytest.raises(ApiError, match="profiles: Invalid or missing API key"):
            wrong.profiles()
