from __future__ import annotations

from collections.abc import Iterator

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.telegram import TelegramSandbox
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.conftest import STORES, store_services
from tests.engine.helpers import MADE_ENGINES


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(autouse=True)
def close_engines() -> Iterator[None]:
    """Publishers keep their HTTP clients open between calls: close what a test made."""
    yield
    while MADE_ENGINES:
        MADE_ENGINES.pop().factory.close()


@pytest.fixture
def upload_post(clock: ManualClock) -> Iterator[UploadPostSandbox]:
    """Upload-Post on loopback, on the test's clock (its records carry engine time)."""
    with UploadPostSandbox(clock=clock.time, rate_limit=(10_000, 60.0)) as sandbox:
        yield sandbox  # type: ignore[misc]


@pytest.fixture
def tiktok(clock: ManualClock) -> Iterator[TikTokApiSandbox]:
    with TikTokApiSandbox(clock=clock.time) as sandbox:
        yield sandbox  # type: ignore[misc]


@pytest.fixture
def telegram() -> Iterator[TelegramSandbox]:
    with TelegramSandbox() as sandbox:
        yield sandbox  # type: ignore[misc]


@pytest.fixture(params=STORES)
def services(request: pytest.FixtureRequest) -> Services:
    """The engine's tests run on both stores: the local SQLCipher file and a team's
    PostgreSQL (tests/conftest.py `store_services`)."""
    return store_services(request)
