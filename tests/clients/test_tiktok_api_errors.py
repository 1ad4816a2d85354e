"""The TikTok client surfaces the platform's own error codes and log ids."""

from __future__ import annotations

import pytest

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.tiktok import TikTokClient, plan_chunks
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from tests.clients.helpers import MB, FakeClock

POST_INFO = {"title": "t", "privacy_level": "SELF_ONLY", "brand_content_toggle": False}


def _code(call) -> ApiError:  # type: ignore[no-untyped-def]
    with pytest.raises(ApiError) as caught:
        call()
    assert caught.value.log_id
    return caught.value


def test_unknown_and_expired_tokens(
    tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox, clock: FakeClock
) -> None:
    error = _code(lambda: tiktok_client.creator_info("act.not-a-token"))
    assert (error.code, error.http_status) == ("access_token_invalid", 401)
    token = tiktok_sandbox.issue_tokens()["access_token"]
    assert tiktok_client.creator_info(token).privacy_level_options
    clock.advance(2 * 3600 + 1)  # access tokens live 2 h
    assert _code(lambda: tiktok_client.creator_info(token)).code == "access_token_invalid"


def test_scope_not_authorized(
    tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    token = tiktok_sandbox.issue_tokens(scopes=("user.info.basic",))["access_token"]
    assert _code(lambda: tiktok_client.creator_info(token)).code == "scope_not_authorized"


def test_init_validation(tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox) -> None:
    token = tiktok_sandbox.issue_tokens()["access_token"]
    source = plan_chunks(20 * MB, 5 * MB).source_info()
    no_brand = {k: v for k, v in POST_INFO.items() if k != "brand_content_toggle"}
    error = _code(lambda: tiktok_client.init_video(token, post_info=no_brand, source_info=source))
    assert error.code == "invalid_params"
    bad_count = source | {"total_chunk_count": 5}
    error = _code(
        lambda: tiktok_client.init_video(token, post_info=POST_INFO, source_info=bad_count)
    )
    assert error.code == "invalid_params"
    small_chunk = {
        "source": "FILE_UPLOAD",
        "video_size": 20 * MB,
        "chunk_size": MB,
        "total_chunk_count": 20,
    }
    error = _code(
        lambda: tiktok_client.init_video(token, post_info=POST_INFO, source_info=small_chunk)
    )
    assert error.code == "invalid_params"
    unverified = {"source": "PULL_FROM_URL", "video_url": "http://127.0.0.2/v.mp4"}
    error = _code(
        lambda: tiktok_client.init_video(token, post_info=POST_INFO, source_info=unverified)
    )
    assert error.code == "url_ownership_unverified"
    assert not error.retryable


def test_unaudited_app_may_only_post_private(
    tiktok_sandbox: TikTokApiSandbox, clock: FakeClock
) -> None:
    with (
        TikTokApiSandbox(clock=clock, audited=False) as sandbox,
        TikTokClient(
            client_key=sandbox.client_key,
            client_secret=sandbox.client_secret,
            api_base=sandbox.base_url,
        ) as client,
    ):
        token = sandbox.issue_tokens()["access_token"]  # type: ignore[attr-defined]
        assert client.creator_info(token).privacy_level_options == ("SELF_ONLY",)
        public = POST_INFO | {"privacy_level": "PUBLIC_TO_EVERYONE"}
        pull = {"source": "PULL_FROM_URL", "video_url": "http://127.0.0.1/v.mp4"}
        error = _code(lambda: client.init_video(token, post_info=public, source_info=pull))
        assert error.code == "privacy_level_option_mismatch"


def test_server_errors_are_retryable(
    tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    token = tiktok_sandbox.issue_tokens()["access_token"]
    tiktok_sandbox.faults.add(
        Fault(
            r"creator_info",
            status=500,
            body={"error": {"code": "internal_error", "message": "boom", "log_id": "L1"}},
        )
    )
    error = _code(lambda: tiktok_client.creator_info(token))
    assert error.retryable and error.http_status == 500
    tiktok_sandbox.faults.add(Fault(r"creator_info", drop_connection=True))
    with pytest.raises(ApiError) as caught:
        tiktok_client.creator_info(token)
    assert caught.value.no_answer and caught.value.retryable
