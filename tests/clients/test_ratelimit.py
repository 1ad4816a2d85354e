"""The limiter waits before the platform would refuse (clock injected, no real waiting)."""

from __future__ import annotations

import pytest

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.ratelimit import RateLimits, SlidingWindowLimiter
from piper_desktop.clients.tiktok import DEFAULT_LIMITS, TikTokClient
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from tests.clients.helpers import FakeClock

PULL = {"source": "PULL_FROM_URL", "video_url": "http://127.0.0.1/v.mp4"}
POST_INFO = {"title": "t", "privacy_level": "SELF_ONLY", "brand_content_toggle": False}


def test_limiter_waits_for_the_oldest_call_to_leave_the_window() -> None:
    clock = FakeClock(0.0)
    limiter = SlidingWindowLimiter(3, 60.0, clock=clock, sleeper=clock.sleep, margin=0.0)
    for _ in range(3):
        assert limiter.acquire("k") == 0.0
        clock.advance(1.0)
    assert limiter.wait_time("k") == pytest.approx(57.0)
    assert limiter.acquire("k") == pytest.approx(57.0)
    assert clock.slept == [pytest.approx(57.0)]
    # another key has its own window
    assert limiter.acquire("other") == 0.0


def _client(sandbox: TikTokApiSandbox, clock: FakeClock, limits: RateLimits) -> TikTokClient:
    return TikTokClient(
        client_key=sandbox.client_key,
        client_secret=sandbox.client_secret,
        api_base=sandbox.base_url,
        clock=clock,
        limits=limits,
        timeout=10.0,
    )


def test_seventh_init_waits_instead_of_429(
    tiktok_sandbox: TikTokApiSandbox, clock: FakeClock
) -> None:
    token = tiktok_sandbox.issue_tokens()["access_token"]
    limits = RateLimits(DEFAULT_LIMITS, clock=clock, sleeper=clock.sleep)
    start = clock()
    with _client(tiktok_sandbox, clock, limits) as client:
        for _ in range(7):
            client.init_video(token, post_info=POST_INFO, source_info=PULL)
    statuses = [r.status for r in tiktok_sandbox.requests if r.path.endswith("/video/init/")]
    assert statuses == [200] * 7
    assert clock() - start >= 60.0  # it waited out the window (on the fake clock)


def test_without_the_limiter_the_platform_refuses(
    tiktok_sandbox: TikTokApiSandbox, clock: FakeClock
) -> None:
    token = tiktok_sandbox.issue_tokens()["access_token"]
    with _client(tiktok_sandbox, clock, RateLimits({})) as client:
        for _ in range(6):
            client.init_video(token, post_info=POST_INFO, source_info=PULL)
        with pytest.raises(ApiError) as caught:
            client.init_video(token, post_info=POST_INFO, source_info=PULL)
    assert caught.value.http_status == 429
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.retryable
    assert caught.value.retry_after == 60.0
