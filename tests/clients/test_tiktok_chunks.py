"""FILE_UPLOAD chunking, proven against the byte ranges the sandbox received."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.tiktok import (
    ChunkPlan,
    TikTokClient,
    UploadRefused,
    UploadUrlExpired,
    _received_bytes,
    plan_chunks,
)
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from tests.clients.helpers import MB, FakeClock, sha256_of, sparse_file

POST_INFO = {"title": "chunks", "privacy_level": "SELF_ONLY", "brand_content_toggle": False}


def test_plan_small_file_goes_whole() -> None:
    assert plan_chunks(3 * MB) == ChunkPlan(3 * MB, 3 * MB, 1)
    assert plan_chunks(1) == ChunkPlan(1, 1, 1)


def test_plan_file_smaller_than_one_chunk_goes_whole() -> None:
    assert plan_chunks(7 * MB, 10 * MB) == ChunkPlan(7 * MB, 7 * MB, 1)


def test_plan_last_chunk_absorbs_remainder() -> None:
    plan = plan_chunks(12 * MB, 10 * MB)
    assert plan.total_chunk_count == 1
    assert plan.ranges() == [(0, 12 * MB - 1)]
    plan = plan_chunks(3 * 10 * MB + 1, 10 * MB)
    assert plan.total_chunk_count == 3
    assert plan.ranges()[-1] == (20 * MB, 30 * MB)


def test_plan_grows_chunks_to_stay_within_1000() -> None:
    plan = plan_chunks(6000 * MB, 5 * MB)
    assert plan.total_chunk_count <= 1000
    first, last = plan.ranges()[-1]
    assert last == 6000 * MB - 1
    assert last - first + 1 <= 128 * MB


def test_plan_refuses_out_of_range_chunk_size() -> None:
    with pytest.raises(ValueError):
        plan_chunks(100 * MB, 4 * MB)
    with pytest.raises(ValueError):
        plan_chunks(100 * MB, 65 * MB)
    with pytest.raises(ValueError):
        plan_chunks(0)


def _upload(
    client: TikTokClient, sandbox: TikTokApiSandbox, path: Path, chunk: int
) -> tuple[str, list[str]]:
    tokens = sandbox.issue_tokens()
    plan = plan_chunks(path.stat().st_size, chunk)
    init = client.init_video(
        tokens["access_token"], post_info=POST_INFO, source_info=plan.source_info()
    )
    assert init.upload_url
    client.upload_file(init.upload_url, path, plan)
    puts = [r for r in sandbox.requests if r.method == "PUT"]
    assert {r.headers["Content-Type"] for r in puts} == {"video/mp4"}
    return init.publish_id, [r.headers["Content-Range"] for r in puts]


@pytest.mark.parametrize(
    ("size", "chunk", "expected"),
    [
        (3 * MB, 10 * MB, [f"bytes 0-{3 * MB - 1}/{3 * MB}"]),
        (12 * MB, 10 * MB, [f"bytes 0-{12 * MB - 1}/{12 * MB}"]),
        (
            12 * MB,
            5 * MB,
            [f"bytes 0-{5 * MB - 1}/{12 * MB}", f"bytes {5 * MB}-{12 * MB - 1}/{12 * MB}"],
        ),
        (
            3 * 5 * MB + 1,
            5 * MB,
            [
                f"bytes 0-{5 * MB - 1}/{15 * MB + 1}",
                f"bytes {5 * MB}-{10 * MB - 1}/{15 * MB + 1}",
                f"bytes {10 * MB}-{15 * MB}/{15 * MB + 1}",
            ],
        ),
    ],
    ids=["3MB", "12MB-one-chunk", "12MB-5MB-chunks", "3x5MB+1"],
)
def test_upload_sends_exact_ranges(
    tmp_path: Path,
    tiktok_client: TikTokClient,
    tiktok_sandbox: TikTokApiSandbox,
    size: int,
    chunk: int,
    expected: list[str],
) -> None:
    path = sparse_file(tmp_path / "clip.mp4", size)
    publish_id, ranges = _upload(tiktok_client, tiktok_sandbox, path, chunk)
    assert ranges == expected
    [post] = tiktok_sandbox.posts
    assert post["publish_id"] == publish_id
    assert post["bytes"] == size
    assert post["sha256"] == sha256_of(path)


def test_upload_default_chunk_just_over_a_multiple(
    tmp_path: Path, tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    size = 3 * 10 * MB + 1
    path = sparse_file(tmp_path / "clip.mp4", size)
    _, ranges = _upload(tiktok_client, tiktok_sandbox, path, 10 * MB)
    assert ranges == [
        f"bytes 0-{10 * MB - 1}/{size}",
        f"bytes {10 * MB}-{20 * MB - 1}/{size}",
        f"bytes {20 * MB}-{30 * MB}/{size}",
    ]
    assert tiktok_sandbox.posts[0]["sha256"] == sha256_of(path)


def test_lost_answer_is_recovered_through_416(
    tmp_path: Path, tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    size = 3 * 5 * MB + 1
    path = sparse_file(tmp_path / "clip.mp4", size)
    tokens = tiktok_sandbox.issue_tokens()
    plan = plan_chunks(size, 5 * MB)
    init = tiktok_client.init_video(
        tokens["access_token"], post_info=POST_INFO, source_info=plan.source_info()
    )
    assert init.upload_url
    sent: list[int] = []

    def progress(done: int, total: int) -> None:
        sent.append(done)
        if len(sent) == 1:
            # the server takes chunk 2, then the connection drops before its answer
            tiktok_sandbox.faults.add(
                Fault(r"^/upload/", then_process=True, drop_connection=True, times=1)
            )

    tiktok_client.upload_file(init.upload_url, path, plan, on_progress=progress)
    puts = [
        (r.headers["Content-Range"], r.status) for r in tiktok_sandbox.requests if r.method == "PUT"
    ]
    second = f"bytes {5 * MB}-{10 * MB - 1}/{size}"
    assert puts == [
        (f"bytes 0-{5 * MB - 1}/{size}", 206),
        (second, 500),  # taken, then the connection dropped (recorded as the fault)
        (second, 416),  # resent: the server says it already has it
        (f"bytes {10 * MB}-{15 * MB}/{size}", 201),
    ]
    [post] = tiktok_sandbox.posts
    assert post["bytes"] == size
    assert post["sha256"] == sha256_of(path)


def test_out_of_order_chunk_gets_416_with_what_the_server_has(
    tmp_path: Path, tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    import httpx

    size = 10 * MB
    tokens = tiktok_sandbox.issue_tokens()
    plan = plan_chunks(size, 5 * MB)
    init = tiktok_client.init_video(
        tokens["access_token"], post_info=POST_INFO, source_info=plan.source_info()
    )
    assert init.upload_url
    with httpx.Client(timeout=10) as raw:
        answer = raw.put(
            init.upload_url,
            content=b"\0" * (5 * MB),
            headers={
                "Content-Type": "video/mp4",
                "Content-Range": f"bytes {5 * MB}-{size - 1}/{size}",
            },
        )
        assert answer.status_code == 416
        assert answer.headers["Content-Range"] == f"bytes */{size}"
        answer = raw.put(
            init.upload_url,
            content=b"\0" * (5 * MB),
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{5 * MB - 1}/{size}"},
        )
        assert answer.status_code == 206
        answer = raw.put(
            init.upload_url,
            content=b"\0" * (5 * MB),
            headers={"Content-Type": "video/mp4", "Content-Range": f"bytes 0-{5 * MB - 1}/{size}"},
        )
        assert answer.status_code == 416
        assert answer.headers["Range"] == f"bytes=0-{5 * MB - 1}"
    assert tiktok_sandbox.publish(init.publish_id).received == 5 * MB


def test_expired_upload_url_raises(
    tmp_path: Path, tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox, clock: FakeClock
) -> None:
    path = sparse_file(tmp_path / "clip.mp4", 6 * MB)
    tokens = tiktok_sandbox.issue_tokens()
    plan = plan_chunks(path.stat().st_size)
    init = tiktok_client.init_video(
        tokens["access_token"], post_info=POST_INFO, source_info=plan.source_info()
    )
    assert init.upload_url
    clock.advance(3601)  # upload URLs live one hour
    with pytest.raises(UploadUrlExpired) as caught:
        tiktok_client.upload_file(init.upload_url, path, plan)
    assert caught.value.http_status == 403
    assert tiktok_sandbox.posts == []


def test_server_errors_on_upload_give_up_after_retries(
    tmp_path: Path, tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    path = sparse_file(tmp_path / "clip.mp4", 2 * MB)
    tokens = tiktok_sandbox.issue_tokens()
    plan = plan_chunks(path.stat().st_size)
    init = tiktok_client.init_video(
        tokens["access_token"], post_info=POST_INFO, source_info=plan.source_info()
    )
    assert init.upload_url
    tiktok_sandbox.faults.add(Fault(r"^/upload/", status=503, times=10))
    with pytest.raises(ApiError) as caught:
        tiktok_client.upload_file(init.upload_url, path, plan)
    assert caught.value.retryable
    assert caught.value.http_status == 503
    # 1 try + 3 retries
    assert len([r for r in tiktok_sandbox.requests if r.method == "PUT"]) == 4


def _opened(
    client: TikTokClient, sandbox: TikTokApiSandbox, size: int
) -> tuple[str, str, ChunkPlan]:
    tokens = sandbox.issue_tokens()
    plan = plan_chunks(size, 5 * MB)
    init = client.init_video(
        tokens["access_token"], post_info=POST_INFO, source_info=plan.source_info()
    )
    assert init.upload_url
    return init.publish_id, init.upload_url, plan


def test_an_upload_continues_from_a_chunk_in_another_client(
    tmp_path: Path, tiktok_sandbox: TikTokApiSandbox
) -> None:
    """What a restart does: a new client, the stored URL, the next chunk."""
    size = 4 * 5 * MB + 7
    path = sparse_file(tmp_path / "clip.mp4", size)
    with TikTokClient(client_key="k", client_secret="s", api_base=tiktok_sandbox.base_url) as a:
        publish_id, url, plan = _opened(a, tiktok_sandbox, size)
        acked: list[tuple[int, int]] = []

        def die_after_two(chunks: int, sent: int) -> None:
            acked.append((chunks, sent))
            if chunks == 2:
                raise KeyboardInterrupt  # the process dies here

        with pytest.raises(KeyboardInterrupt):
            a.upload_file(url, path, plan, on_chunk=die_after_two)
    assert acked == [(1, 5 * MB), (2, 10 * MB)]
    with TikTokClient(client_key="k", client_secret="s", api_base=tiktok_sandbox.base_url) as b:
        later: list[tuple[int, int]] = []
        b.upload_file(url, path, plan, start_chunk=2, on_chunk=lambda c, s: later.append((c, s)))
    assert later == [(3, 15 * MB), (4, size)]
    publish = tiktok_sandbox.publish(publish_id)
    assert publish.bytes_received_total == size  # nothing sent twice
    assert tiktok_sandbox.posts[0]["sha256"] == sha256_of(path)


def test_a_resume_the_upload_refuses_raises_upload_refused(
    tmp_path: Path, tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    size = 3 * 5 * MB
    path = sparse_file(tmp_path / "clip.mp4", size)
    _, url, plan = _opened(tiktok_client, tiktok_sandbox, size)
    tiktok_sandbox.refuse_uploads()
    with pytest.raises(UploadRefused):
        tiktok_client.upload_file(url, path, plan, start_chunk=1)


def test_a_416_that_says_every_byte_arrived_ends_the_upload(
    tmp_path: Path, tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    """The last chunk's 201 was lost with the process: a resend learns it is all there."""
    size = 2 * 5 * MB
    path = sparse_file(tmp_path / "clip.mp4", size)
    _, url, plan = _opened(tiktok_client, tiktok_sandbox, size)
    tiktok_client.upload_file(url, path, plan)
    told: list[tuple[int, int]] = []
    tiktok_client.upload_file(url, path, plan, start_chunk=1, on_chunk=lambda c, s: told.append((c, s)))
    assert told == [(2, size)]
    assert len(tiktok_sandbox.posts) == 1


@settings(max_examples=300, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(["Range", "Content-Range", "X-Other"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    ),
    body=st.one_of(
        st.binary(max_size=60),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
            lambda inner: st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(["data", "uploaded_bytes", "error"]), inner),
            max_leaves=8,
        ).map(lambda v: json.dumps(v).encode()),
    ),
)
def test_the_416_position_parser_takes_any_answer(headers: dict[str, str], body: bytes) -> None:
    """Whatever a server puts in a 416 answer: a position of 0 or more, never an error."""
    response = httpx.Response(416, headers=headers, content=body)
    have = _received_bytes(response)
    assert isinstance(have, int) and have >= 0


def test_a_206_on_the_last_chunk_is_not_taken_for_complete(
    tmp_path: Path, tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    """Only a 201 ends an upload: a last chunk answered 206 leaves it short, and the
    caller must not forget its URL as if it were done."""
    size = 2 * 5 * MB
    path = sparse_file(tmp_path / "clip.mp4", size)
    _, url, plan = _opened(tiktok_client, tiktok_sandbox, size)
    told: list[tuple[int, int]] = []

    def arm(chunks: int, sent: int) -> None:
        told.append((chunks, sent))
        tiktok_sandbox.faults.add(Fault(r"^/upload/", status=206, times=1))

    with pytest.raises(UploadRefused):
        tiktok_client.upload_file(url, path, plan, on_chunk=arm)
    assert told == [(1, 5 * MB)]  # the last chunk was never reported acknowledged
