from __future__ import annotations

from collections.abc import Iterator

import pytest

from piper_desktop.clients.tiktok import TikTokClient
from piper_desktop.sandbox.openrouter import OpenRouterSandbox
from piper_desktop.sandbox.telegram import TelegramSandbox
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.clients.helpers import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tiktok_sandbox(clock: FakeClock) -> Iterator[TikTokApiSandbox]:
    with TikTokApiSandbox(clock=clock) as sandbox:
        yield sandbox  # type: ignore[misc]


@pytest.fixture
def tiktok_client(tiktok_sandbox: TikTokApiSandbox, clock: FakeClock) -> Iterator[TikTokClient]:
    client = TikTokClient(
        client_key=tiktok_sandbox.client_key,
        client_secret=tiktok_sandbox.client_secret,
        api_base=tiktok_sandbox.base_url,
        auth_url=tiktok_sandbox.auth_url,
        clock=clock,
        upload_retry_delays=(0.0, 0.0, 0.0),
        sleeper=clock.sleep,
        timeout=10.0,
    )
    with client:
        yield client


@pytest.fixture
def upload_post_sandbox() -> Iterator[UploadPostSandbox]:
    with UploadPostSandbox() as sandbox:
        yield sandbox  # type: ignore[misc]


@pytest.fixture
def openrouter_sandbox() -> Iterator[OpenRouterSandbox]:
    with OpenRouterSandbox() as sandbox:
        yield sandbox  # type: ignore[misc]


@pytest.fixture
def telegram_sandbox() -> Iterator[TelegramSandbox]:
    with TelegramSandbox() as sandbox:
        yield sandbox  # type: ignore[misc]
