"""Fixtures for tests that drive real Chromium against the local TikTok Studio replica.

Imported by `tests/browser/conftest.py` and by the web publisher tests. One BrowserHost
per test module keeps Chromium start-ups (and the 2-core machine) modest.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from piper_desktop.browser.executable import BrowserNotFound, find_browser
from piper_desktop.browser.host import BrowserHost
from piper_desktop.browser.profile import BrowserSettings
from piper_desktop.browser.sites import SiteConfig, load_site
from piper_desktop.routes.base import AccountRef, PostOptions, PublishRequest
from piper_desktop.sandbox.media import write_video
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox


def chromium_or_skip() -> str:
    try:
        return str(
            find_browser("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None).path
        )
    except BrowserNotFound as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def browser_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-temp")


@pytest.fixture(scope="module")
def browser_host(browser_temp: Path) -> Iterator[BrowserHost]:
    settings = BrowserSettings.from_env(  # the run's PIPER_BROWSER_NO_SANDBOX opt-in
        executable=chromium_or_skip(),
        max_contexts=4,
        force_headless=True,
        temp_root=browser_temp,
    )
    host = BrowserHost(settings).start()
    yield host
    host.stop()


@pytest.fixture
def studio() -> Iterator[TikTokStudioSandbox]:
    server = TikTokStudioSandbox()
    server.configure(processing_seconds=0.3, success_navigate_ms=300)
    with server:
        yield server


@pytest.fixture
def site(studio: TikTokStudioSandbox) -> SiteConfig:
    return load_site("tiktok", base_url=studio.base_url, env={})


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    return write_video(tmp_path / "sunset run.mp4", size=256 * 1024)


class StateBook:
    """Where the tests keep storage states (the domain keeps them in the vault)."""

    def __init__(self) -> None:
        self.states: dict[int, dict[str, Any]] = {}
        self.saves: list[int] = []

    def load(self, account: AccountRef) -> dict[str, Any] | None:
        return self.states.get(account.id)

    def save(self, account: AccountRef, state: dict[str, Any]) -> None:
        self.states[account.id] = state
        self.saves.append(account.id)


@pytest.fixture
def states() -> StateBook:
    return StateBook()


def make_request(
    video: Path,
    *,
    caption: str,
    account: AccountRef,
    options: PostOptions | None = None,
    job_id: int = 1,
) -> PublishRequest:
    data = video.read_bytes()
    return PublishRequest(
        job_id=job_id,
        idempotency_key=f"job-{job_id}",
        account=account,
        media_path=video,
        media_size=len(data),
        media_sha256=hashlib.sha256(data).hexdigest(),
        caption=caption,
        options=options or PostOptions(),
    )


def files_containing(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if needle in path.read_bytes():
                    hits.append(path)
            except OSError:
                continue
    return hits


__all__ = [
    "StateBook",
    "browser_host",
    "browser_temp",
    "chromium_or_skip",
    "files_containing",
    "make_request",
    "site",
    "states",
    "studio",
    "video_file",
]
