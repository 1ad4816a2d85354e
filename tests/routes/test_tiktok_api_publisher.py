"""TikTokApiPublisher against the local Content Posting API stand-in."""

from __future__ import annotations

import pytest

from piper_desktop.routes.base import CheckResult, CheckState, NotPosted, PublishError
from piper_desktop.routes.tiktok_api.publisher import TikTokApiPublisher
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from tests.clients.helpers import MB, DictCredentialStore, FakeClock, sha256_of
from tests.routes.conftest import ACCOUNT, MakeRequest, Receipts, connect


def _until_final(publisher: TikTokApiPublisher, request, receipt) -> tuple[CheckResult, int]:  # type: ignore[no-untyped-def]
    for polls in range(1, 10):
        result = publisher.check(request, receipt)
        if result.state is not CheckState.PENDING:
            return result, polls
    raise AssertionError("never final")


def test_direct_post_file_upload(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    connect(tiktok, store, clock)
    request = make_request(size=11 * MB, privacy_level="PUBLIC_TO_EVERYONE")
    puts_at_receipt: list[int] = []

    def on_receipt(receipt) -> None:  # type: ignore[no-untyped-def]
        puts_at_receipt.append(sum(1 for r in tiktok.requests if r.method == "PUT"))
        receipts(receipt)

    progress: list[tuple[str, float | None]] = []
    receipt = publisher.submit(request, on_receipt, lambda s, f: progress.append((s, f)))
    # the receipt with the upload's plan before any byte, then again per acked chunk
    assert {r.value for r in receipts} == {receipt.value} and receipt.kind == "publish_id"
    assert puts_at_receipt[0] == 0
    first, last = receipts[0].upload, receipts[-1].upload
    assert first is not None and last is not None and receipt.upload is not None
    assert (first.chunks_acked, first.total_bytes) == (0, 11 * MB)
    assert len(receipts) == 1 + first.chunk_count  # one more per acknowledged chunk
    assert first.url and first.expires_at == clock() + 3600
    assert last.complete and receipt.upload.complete
    assert ("uploading", 1.0) in progress
    result, polls = _until_final(publisher, request, receipt)
    assert polls == 2
    [post] = tiktok.posts
    assert result.state is CheckState.PUBLISHED
    assert result.post_id == post["post_id"]
    assert result.post_url == f"https://www.tiktok.com/@sandbox_creator/video/{post['post_id']}"
    assert post["publish_id"] == receipt.value
    assert post["sha256"] == sha256_of(request.media_path)
    assert post["title"] == "First post #piper"
    assert post["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert post["post_info"]["brand_content_toggle"] is False


def test_private_post_has_no_public_id(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    connect(tiktok, store, clock)
    request = make_request()
    receipt = publisher.submit(request, receipts)
    result, _ = _until_final(publisher, request, receipt)
    assert result.state is CheckState.PUBLISHED
    assert result.post_url is None and result.reason and "private" in result.reason


def test_expired_access_token_is_refreshed_and_saved(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    old = connect(tiktok, store, clock)
    clock.advance(2 * 3600 + 60)  # the stored access token (2 h) has expired
    publisher.submit(make_request(), receipts)
    [(account_id, route, saved)] = store.saves
    assert (account_id, route) == (ACCOUNT.id, "tiktok_api")
    assert saved["access_token"] != old["access_token"]
    assert saved["refresh_token"] != old["refresh_token"]
    assert saved["access_expires_at"] == pytest.approx(clock() + 2 * 3600)
    assert saved["open_id"] == old["open_id"]
    token_calls = [r for r in tiktok.requests if r.path == "/v2/oauth/token/"]
    assert len(token_calls) == 1
    # no call went out with the expired token
    api_calls = [r for r in tiktok.requests if r.path.startswith("/v2/post/")]
    assert {r.headers["Authorization"] for r in api_calls} == {f"Bearer {saved['access_token']}"}
    assert len(tiktok.posts) == 1


def test_refused_token_is_refreshed_once(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    connect(tiktok, store, clock)
    tiktok.expire_access_tokens()  # revoked on the platform while our record says fresh
    publisher.submit(make_request(), receipts)
    statuses = [(r.path, r.status) for r in tiktok.requests if r.path.startswith("/v2/")]
    assert statuses[:3] == [
        ("/v2/post/publish/creator_info/query/", 401),
        ("/v2/oauth/token/", 200),
        ("/v2/post/publish/creator_info/query/", 200),
    ]
    assert len(store.saves) == 1 and len(tiktok.posts) == 1


def test_dead_refresh_token_needs_login(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    connect(tiktok, store, clock, refresh_token="rft.revoked", access_expires_at=0)
    with pytest.raises(PublishError) as caught:
        publisher.submit(make_request(), receipts)
    assert caught.value.account_status == "needs_login"
    assert caught.value.needs_attention and caught.value.certainly_not_posted
    assert receipts == []


def test_not_connected(
    publisher: TikTokApiPublisher, make_request: MakeRequest, receipts: Receipts
) -> None:
    with pytest.raises(PublishError) as caught:
        publisher.submit(make_request(), receipts)
    assert caught.value.code == "not_connected" and caught.value.certainly_not_posted


@pytest.mark.parametrize(
    ("creator", "options", "code"),
    [
        (
            {"privacy_level_options": ["SELF_ONLY"]},
            {"privacy_level": "PUBLIC_TO_EVERYONE"},
            "privacy_level_option_mismatch",
        ),
        ({"comment_disabled": True}, {"disable_comment": False}, "interaction_not_allowed"),
        ({"duet_disabled": True}, {"disable_duet": False}, "interaction_not_allowed"),
        ({"max_video_post_duration_sec": 60}, {"duration": 61.0}, "duration_too_long"),
    ],
    ids=["privacy", "comments", "duet", "duration"],
)
def test_creator_settings_refuse_before_init(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
    creator: dict,
    options: dict,
    code: str,
) -> None:
    connect(tiktok, store, clock)
    tiktok.set_creator(ACCOUNT.username, **creator)
    with pytest.raises(PublishError) as caught:
        publisher.submit(make_request(**options), receipts)
    assert caught.value.code == code
    assert caught.value.certainly_not_posted and not caught.value.retryable
    assert receipts == []
    assert not [r for r in tiktok.requests if "init" in r.path]


@pytest.mark.parametrize(
    ("reason", "retryable", "account_status", "says"),
    [
        ("internal", True, None, "internal"),
        ("spam_risk_too_many_posts", True, "cooldown", "spam_risk_too_many_posts"),
        ("spam_risk_user_banned_from_posting", False, "needs_attention", "banned"),
        ("spam_risk_text", False, "cooldown", "caption as spam"),
        ("auth_removed", False, "needs_login", "auth_removed"),
        ("duration_check_failed", False, None, "duration"),
        ("frame_rate_check_failed", False, None, "frame rate"),
    ],
)
def test_fail_reason_mapping(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
    reason: str,
    retryable: bool,
    account_status: str | None,
    says: str,
) -> None:
    connect(tiktok, store, clock)
    tiktok.fail_next(reason)
    request = make_request()
    receipt = publisher.submit(request, receipts)
    result, _ = _until_final(publisher, request, receipt)
    assert result.state is CheckState.FAILED
    assert result.retryable is retryable
    assert result.account_status == account_status
    assert result.reason and says in result.reason
    assert tiktok.posts == []


def test_inbox_draft(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    connect(tiktok, store, clock)
    request = make_request(mode="inbox")
    receipt = publisher.submit(request, receipts)
    result, _ = _until_final(publisher, request, receipt)
    assert result.state is CheckState.PUBLISHED and result.reason and "inbox" in result.reason
    assert not [r for r in tiktok.requests if "creator_info" in r.path]
    [post] = tiktok.posts
    assert post["kind"] == "inbox" and post["post_id"] is None


def test_pull_from_url(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    connect(tiktok, store, clock)
    request = make_request(
        source="url", video_url="http://127.0.0.1/media/v.mp4", privacy_level="FOLLOWER_OF_CREATOR"
    )
    receipt = publisher.submit(request, receipts)
    assert not [r for r in tiktok.requests if r.method == "PUT"]
    result, _ = _until_final(publisher, request, receipt)
    assert result.state is CheckState.PUBLISHED and result.post_id
    assert tiktok.posts[0]["video_url"] == "http://127.0.0.1/media/v.mp4"


def test_unverified_url_is_a_permanent_refusal(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    connect(tiktok, store, clock)
    with pytest.raises(PublishError) as caught:
        publisher.submit(make_request(source="url", video_url="http://127.0.0.3/v.mp4"), receipts)
    assert caught.value.code == "url_ownership_unverified"
    assert not caught.value.retryable and caught.value.certainly_not_posted
    assert caught.value.log_id


def test_spam_risk_at_init_cools_the_account_down(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    connect(tiktok, store, clock)
    tiktok.state.max_posts_per_day = 1
    publisher.submit(make_request(job_id=1), receipts)
    with pytest.raises(PublishError) as caught:
        publisher.submit(make_request(job_id=2), receipts)
    assert caught.value.code == "spam_risk_too_many_posts"
    assert caught.value.account_status == "cooldown" and caught.value.retryable
    assert caught.value.retry_after == 24 * 3600  # after the cooldown


@pytest.mark.parametrize(
    "fault",
    [
        Fault(
            r"video/init",
            status=429,
            headers={"Retry-After": "42"},
            body={"error": {"code": "rate_limit_exceeded", "message": "slow", "log_id": "x"}},
        ),
        Fault(
            r"video/init",
            status=503,
            body={"error": {"code": "internal_error", "message": "down", "log_id": "y"}},
        ),
        Fault(r"creator_info", drop_connection=True),
    ],
    ids=["429", "503", "no-answer"],
)
def test_transient_errors_are_retryable(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
    fault: Fault,
) -> None:
    connect(tiktok, store, clock)
    tiktok.faults.add(fault)
    with pytest.raises(PublishError) as caught:
        publisher.submit(make_request(), receipts)
    assert caught.value.retryable
    if fault.status == 429:
        assert caught.value.retry_after == 42.0 and caught.value.certainly_not_posted
    else:
        assert not caught.value.certainly_not_posted
    assert receipts == []


def test_upload_failure_after_receipt_is_retryable_but_not_certain(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    connect(tiktok, store, clock)
    tiktok.faults.add(Fault(r"^/upload/", status=500, times=5))
    with pytest.raises(PublishError) as caught:
        publisher.submit(make_request(), receipts)
    assert caught.value.retryable and not caught.value.certainly_not_posted
    assert len(receipts) == 1 and receipts[0].upload is not None
    assert receipts[0].upload.chunks_acked == 0  # nothing was acknowledged


def test_upload_url_expiry_starts_one_new_init(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    connect(tiktok, store, clock)
    request = make_request(size=15 * MB)
    seen: list[float | None] = []

    def progress(step: str, fraction: float | None) -> None:
        if step == "uploading":
            seen.append(fraction)
            if len(seen) == 1:
                clock.advance(3601)  # the hour runs out after the first chunk

    receipt = publisher.submit(request, receipts, progress)
    values = list(dict.fromkeys(r.value for r in receipts))  # in order, once each
    assert len(values) == 2 and values[-1] == receipt.value
    fresh = next(r for r in receipts if r.value == values[1])
    assert fresh.extra["replaces"] == values[0] and fresh.upload is not None
    assert "upload URL expired" in (fresh.upload.note or "")
    puts = [(r.path, r.status) for r in tiktok.requests if r.method == "PUT"]
    assert [s for _, s in puts] == [206, 403, 206, 206, 201]
    [post] = tiktok.posts  # published once, by the second publish_id
    assert post["publish_id"] == receipt.value and post["bytes"] == 15 * MB
    first = tiktok.publish(values[0])
    assert not first.complete


def test_reconcile_without_receipt_knows_a_file_upload_never_went_out(
    publisher: TikTokApiPublisher, make_request: MakeRequest
) -> None:
    """FILE_UPLOAD without its init's answer: no URL, so no bytes, so no post; a pull
    (PULL_FROM_URL) may be up all the same, and the API cannot find it."""
    answer = publisher.reconcile(make_request())
    assert isinstance(answer, NotPosted) and "bytes never arrived" in answer.why
    assert isinstance(publisher.reconcile(make_request(mode="inbox")), NotPosted)
    with pytest.raises(PublishError) as caught:
        publisher.reconcile(make_request(source="url", video_url="http://127.0.0.1:9/v.mp4"))
    assert caught.value.needs_attention and not caught.value.certainly_not_posted


def test_connect_runs_oauth_and_saves_the_pair(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    import httpx

    def browser(url: str) -> None:
        with httpx.Client(follow_redirects=True, timeout=10, trust_env=False) as b:
            assert b.get(url).status_code == 200

    tiktok.authorize_as(ACCOUNT.username)
    summary = publisher.connect(ACCOUNT, browser, timeout=10)
    assert "access_token" not in summary and summary["open_id"]
    saved = store.data[(ACCOUNT.id, "tiktok_api")]
    assert saved["open_id"] == summary["open_id"] and saved["access_token"].startswith("act.")
    publisher.submit(make_request(), receipts)  # the saved pair works
    assert len(tiktok.posts) == 1


def test_a_refresh_token_another_refresher_just_used_is_never_sent_again(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    # The GUI and `piper run` share one vault, each with its own refresh lock: both may
    # find the token expiring, and a refresh token works once.
    connect(tiktok, store, clock)
    clock.advance(2 * 3600 + 60)
    other_store = DictCredentialStore()
    other_store.data = store.data  # the same vault
    other = TikTokApiPublisher(other_store, publisher.settings, clock=clock, sleeper=clock.sleep)
    read = store.load

    def read_then_the_other_refreshes(account_id: int, route: str) -> dict:  # type: ignore[type-arg]
        creds = read(account_id, route)
        store.load = read  # type: ignore[method-assign]
        other.refresh_token(ACCOUNT, creds["access_token"])
        return creds

    store.load = read_then_the_other_refreshes  # type: ignore[method-assign]
    try:
        publisher.submit(make_request(), receipts)
    finally:
        other.close()
    refreshes = [r.status for r in tiktok.requests if r.path == "/v2/oauth/token/"]
    # theirs went through; ours found the stored pair rotated (the store's claim) and
    # used it without sending the spent refresh token
    assert refreshes == [200]
    current = store.data[(ACCOUNT.id, "tiktok_api")]["access_token"]
    api_calls = [r for r in tiktok.requests if r.path.startswith("/v2/post/")]
    assert {r.headers["Authorization"] for r in api_calls} == {f"Bearer {current}"}
    assert len(tiktok.posts) == 1
