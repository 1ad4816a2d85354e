"""A stored session holding a cookie Chromium refuses (what the importer let through
before issue 16, item 7): `piper browser check` still answers and a browser job still
posts; the bad cookie is left out, by name, in the log. Real Chromium, Studio replica."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.engine import Engine, EngineConfig, ManualClock, PublisherFactory
from piper_desktop.routes.base import Publisher
from piper_desktop.routes.web.spec import build_web_publisher
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from tests.browser.fixtures import chromium_or_skip
from tests.conftest import piper_cmd, piper_env
from tests.engine.helpers import add_account, add_media
from tests.engine.test_browser_route import QUICK

pytestmark = pytest.mark.browser

# Each one made Playwright or Chromium refuse the whole storage state.
BAD = [
    {
        "name": "nan_expiry",
        "value": "v",
        "domain": ".tiktok.com",
        "path": "/",
        "expires": float("nan"),
    },
    {"name": "huge_expiry", "value": "v", "domain": ".tiktok.com", "path": "/", "expires": 1e300},
    {"name": "nul_value", "value": "a\x00b", "domain": ".tiktok.com", "path": "/", "expires": -1},
    {"name": "bad_domain", "value": "v", "domain": "tik tok.com", "path": "/", "expires": -1},
    "not a cookie",
]


@pytest.fixture
def studio() -> Iterator[TikTokStudioSandbox]:
    server = TikTokStudioSandbox()
    server.configure(processing_seconds=0.3, success_navigate_ms=300)
    with server:
        yield server


def _with_bad_cookies(state: dict[str, Any]) -> dict[str, Any]:
    return {**state, "cookies": [*BAD, *state["cookies"]]}


@pytest.mark.local_store  # `piper browser check` opens the data dir's file
def test_browser_check_answers_despite_a_bad_stored_cookie(
    services: Services, data_dir: Path, studio: TikTokStudioSandbox
) -> None:
    account = services.accounts.add({"username": "webby"})
    studio.create_session("webby")
    services.accounts.save_storage_state(
        account.id, _with_bad_cookies(studio.storage_state_for("webby"))
    )
    with tempfile.TemporaryDirectory(prefix="pb-", dir="/tmp") as short:
        env = piper_env(
            data_dir,
            PIPER_TIKTOK_WEB_BASE=studio.base_url,
            PIPER_BROWSER=chromium_or_skip(),
            PIPER_BROWSER_FORCE_HEADLESS="1",
            PIPER_BROWSER_TEMP=short,
        )
        checked = subprocess.run(
            [*piper_cmd(), "browser", "check", "webby", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=180,
        )
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["logged_in"] is True
    assert "Traceback" not in checked.stderr
    log = (data_dir / "logs" / "piper.log").read_text()
    assert "cookie 'nan_expiry'" in log and "cookie 'nul_value'" in log


def test_browser_job_posts_despite_a_bad_stored_cookie(
    services: Services, clock: ManualClock, studio: TikTokStudioSandbox, tmp_path: Path
) -> None:
    services.settings.set("tiktok.web_base", studio.base_url)
    services.settings.set("browser.executable", chromium_or_skip())
    services.settings.set("browser.headless", True)
    account = add_account(services, "alice", routes=["browser"])
    services.accounts.save_storage_state(
        account.id, _with_bad_cookies(studio.storage_state_for("alice"))
    )
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "alice.mp4").id,
        route="browser",
        at=clock.now(),
        caption="sunset #sunset",
        options={"privacy_level": "SELF_ONLY"},
        now=clock.now(),
    )
    closers: list[Callable[[], None]] = []

    def browser_route(values: dict[str, Any]) -> Publisher:
        publisher, close = build_web_publisher(services, values)
        publisher.timeouts = QUICK
        closers.append(close)
        return publisher

    engine = Engine(
        services,
        clock=clock,
        config=EngineConfig.from_settings(services.settings),
        factory=PublisherFactory(services, clock, builders={"browser": browser_route}),
        watch_system=False,
    )
    try:
        engine.run_once()
    finally:
        for close in closers:
            close()
    posted = services.jobs.get(job.id)
    assert posted.status == "published", posted.last_error
    assert [p.username for p in studio.posts] == ["alice"]
