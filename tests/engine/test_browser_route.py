"""The browser route through the engine: real Chromium against the TikTok Studio replica.

One engine, one browser, three accounts: a logged-in one posts (its evidence kept as an
artifact), one meets a captcha (needs a person, screenshots kept), and one whose session
expired is flagged by the readiness check before its slot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.engine import Engine, EngineConfig, ManualClock, PublisherFactory
from piper_desktop.routes.base import Publisher
from piper_desktop.routes.web.form import WebTimeouts
from piper_desktop.routes.web.spec import build_web_publisher
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from tests.browser.fixtures import chromium_or_skip
from tests.engine.helpers import add_account, add_media

pytestmark = pytest.mark.browser
PNG = b"\x89PNG\r\n\x1a\n"
QUICK = WebTimeouts(
    page_load=20,
    step=8,
    upload=30,
    suggestion=4,
    post_result=20,
    content=10,
    probe=2,
    typing_delay_ms=4,
)


@pytest.fixture
def studio() -> Iterator[TikTokStudioSandbox]:
    server = TikTokStudioSandbox()
    server.configure(processing_seconds=0.3, success_navigate_ms=300)
    with server:
        yield server


def test_browser_jobs_post_need_a_person_or_are_flagged_before_the_slot(
    services: Services, clock: ManualClock, studio: TikTokStudioSandbox, tmp_path: Path
) -> None:
    services.settings.set("tiktok.web_base", studio.base_url)
    services.settings.set("browser.executable", chromium_or_skip())
    services.settings.set("browser.headless", True)
    jobs = {}
    for name in ("alice", "bob", "carol"):
        account = add_account(services, name, routes=["browser"])
        services.accounts.save_storage_state(account.id, studio.storage_state_for(name))
        at = clock.now() + (timedelta(minutes=20) if name == "carol" else timedelta())
        jobs[name] = services.jobs.add(
            account_id=account.id,
            media_id=add_media(services, tmp_path, f"{name}.mp4").id,
            route="browser",
            at=at,
            caption=f"{name} at sunset #sunset",
            options={"privacy_level": "SELF_ONLY"},
            now=clock.now(),
        )
    studio.require_captcha("load", "bob")
    studio.expire_sessions("carol")
    closers: list[Callable[[], None]] = []

    def browser_route(values: dict[str, Any]) -> Publisher:
        # the engine's own adapter, with step timeouts sized for a local replica
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
        problems = engine.check_readiness()
        assert [(p.job_id, p.scope) for p in problems] == [(jobs["carol"].id, "account")]
        engine.run_once()
    finally:
        for close in closers:
            close()

    posted = services.jobs.get(jobs["alice"].id)
    assert posted.status == "published", posted.last_error
    assert [p.username for p in studio.posts] == ["alice"]
    assert posted.receipt_kind == "post_url" and posted.post_url == studio.posts[0].url
    evidence = services.jobs.artifacts(posted.id)
    assert [a.name for a in evidence] == ["evidence.png"]
    assert evidence[0].content.startswith(PNG)

    blocked = services.jobs.get(jobs["bob"].id)
    assert blocked.status == "needs_attention" and "captcha" in (blocked.last_error or "")
    kept = {a.name: a for a in services.jobs.artifacts(blocked.id)}
    assert kept["screenshot.png"].content.startswith(PNG)
    assert b"captcha_container" in kept["page.html"].content

    flagged = services.jobs.get(jobs["carol"].id)
    assert flagged.status == "needs_attention"
    assert "logged out" in (flagged.attention_reason or "")
    assert services.accounts.get(flagged.account_id).status == "needs_attention"


def test_scheduled_probe_reports_drift_before_a_post_fails(
    services: Services, clock: ManualClock, studio: TikTokStudioSandbox, tmp_path: Path
) -> None:
    """The page renamed its markup (the sandbox's v2): the scheduled probe still finds
    every element through a fallback, records it as drift and warns; nothing is posted."""
    from piper_desktop.routes.web.drift import drift_rows

    services.settings.set("tiktok.web_base", studio.base_url)
    services.settings.set("browser.executable", chromium_or_skip())
    services.settings.set("browser.headless", True)
    studio.configure(variant="v2")
    account = add_account(services, "dora", routes=["browser"])
    services.accounts.save_storage_state(account.id, studio.storage_state_for("dora"))
    services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "dora.mp4").id,
        route="browser",
        at=clock.now() + timedelta(hours=3),
        caption="later",
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
    warnings: list[Any] = []
    services.events.subscribe(lambda event: warnings.append(event))
    try:
        missing = engine.run_duty("selector_probe")
    finally:
        for close in closers:
            close()
    assert missing == [], "every element before the upload is still found"
    drift = {row.element: row for row in drift_rows(services)}
    assert drift["file_input"].matched == "input[type=file][accept*='video']"
    assert drift["file_input"].site == "tiktok" and drift["file_input"].first_seen
    [warning] = [e for e in warnings if (e.data or {}).get("code") == "selectors_drift"]
    assert "file_input" in warning.message and "fallback" in warning.message
    assert studio.posts == [] and studio.uploads == []
