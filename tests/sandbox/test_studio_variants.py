"""The Studio replica's layout variants, driven by plain Playwright in real Chromium.

Each variant must be served as described (sandbox/studio_variants.py) and still record a
post on the server exactly as the default page does: the bytes, the caption and its
entities, the visibility, the toggles, the schedule. The driver (studio_driver.py) uses
only what a person sees, so these tests hold the variants to the page, not to Piper.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Dialog
from playwright.async_api import Error as PlaywrightError

from piper_desktop.browser.host import BrowserHost
from piper_desktop.sandbox.studio_variants import (
    ALL_DIFFERENT,
    FEATURES,
    SWEEP,
    VARIANT_ENV,
    VariantError,
    parse_variant,
)
from piper_desktop.sandbox.tiktok_studio import Post as StudioPost
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from tests.browser import fixtures
from tests.sandbox.studio_driver import Post, form_frame, post_video

browser_temp = fixtures.browser_temp
browser_host = fixtures.browser_host
video_file = fixtures.video_file

CAPTION = "Sunset run #sunset with @piperfriend"


@pytest.fixture
def studio() -> Iterator[TikTokStudioSandbox]:
    server = TikTokStudioSandbox(variant="default")
    server.configure(processing_seconds=0.3, success_navigate_ms=200)
    with server:
        yield server


def drive(host: BrowserHost, studio: TikTokStudioSandbox, post: Post, user: str = "vera") -> None:
    state = studio.storage_state_for(user)

    async def work() -> None:
        browser = await host.browser()
        context = await browser.new_context(storage_state=state, timezone_id="UTC")  # type: ignore[arg-type]
        try:
            await post_video(await context.new_page(), studio.base_url, post)
        finally:
            await context.close()

    host.run(work, timeout=90)


def assert_recorded(studio: TikTokStudioSandbox, post: Post, video: Path) -> StudioPost:
    [record] = studio.posts
    data = video.read_bytes()
    assert record.sha256 == hashlib.sha256(data).hexdigest() and record.size == len(data)
    assert record.caption == post.caption
    assert {(e["type"], e["value"]) for e in record.text_extra} == {
        ("hashtag", "sunset"),
        ("mention", "piperfriend"),
    }
    visibility = {"Everyone": "PUBLIC_TO_EVERYONE", "Friends": "MUTUAL_FOLLOW_FRIENDS"}
    assert record.visibility == visibility.get(post.visibility, "SELF_ONLY")
    assert record.allow_comment is True and record.split is False
    assert record.aigc is post.aigc
    if post.duet is not None:
        assert record.allow_duet is post.duet
    expected_at = int(post.schedule.timestamp()) if post.schedule else None
    assert record.schedule_time == expected_at
    return record


def served(studio: TikTokStudioSandbox, path: str = "/tiktokstudio/upload") -> httpx.Response:
    cookies = {"sessionid": studio.create_session("probe")}
    with httpx.Client(base_url=studio.base_url, cookies=cookies) as client:
        return client.get(path)


# --- the setting, without a browser -------------------------------------------------------


def test_variant_setting_parses_switches_and_refuses_unknown_names(
    studio: TikTokStudioSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    assert parse_variant("file_button+plain_editor") == {"file_button", "plain_editor"}
    assert parse_variant("all_different") == set(ALL_DIFFERENT)
    with pytest.raises(VariantError, match="unknown studio variant 'file_buton'"):
        parse_variant("file_buton")
    with pytest.raises(VariantError, match="exclude each other"):
        parse_variant("visibility_listbox,visibility_select")
    # env and constructor
    with TikTokStudioSandbox(env={VARIANT_ENV: "plain_editor"}) as from_env:
        assert from_env.features == {"plain_editor"}
    with pytest.raises(VariantError):
        TikTokStudioSandbox(variant="nope")
    with caplog.at_level(logging.WARNING, "piper.sandbox"):
        typo = TikTokStudioSandbox(env={VARIANT_ENV: "plain_edtor"})
    typo.httpd.server_close()
    assert typo.features == frozenset()
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        f"{VARIANT_ENV}: unknown studio variant 'plain_edtor'"
    ]
    # a running server switches over HTTP; a bad name changes nothing and says why
    with httpx.Client(base_url=studio.base_url) as client:
        bad = client.post("/__sandbox__/variant", json={"variant": "nope"})
        assert bad.status_code == 400 and "unknown studio variant 'nope'" in bad.json()["error"]
        ok = client.post("/__sandbox__/variant", json={"variant": "iframe+slow"})
        assert ok.json()["features"] == ["iframe", "slow"]
        assert set(ok.json()["known"]) >= set(FEATURES)
    assert studio.variant == "iframe+slow"
    page = served(studio)
    assert page.status_code == 302 and page.headers["location"] == "/creator-center/upload"
    shell = served(studio, "/creator-center/upload").text
    assert 'src="/creator#/upload?scene=creator_center"' in shell
    framed = served(studio, "/creator").text
    assert '"in_frame": true' in framed and '"render_delay_ms": 800' in framed
    assert studio.state()["features"] == ["iframe", "slow"]
    studio.variant = "default"
    assert served(studio).status_code == 200


# --- in Chromium ------------------------------------------------------------------------


@pytest.mark.browser
def test_default_page_posts(
    browser_host: BrowserHost, studio: TikTokStudioSandbox, video_file: Path
) -> None:
    post = Post(video_file, CAPTION, visibility="Friends", duet=True, aigc=True)
    drive(browser_host, studio, post)
    assert_recorded(studio, post, video_file)
    assert post.handled == ["cookie banner"]


@pytest.mark.browser
def test_all_different_posts_a_scheduled_video(
    browser_host: BrowserHost, studio: TikTokStudioSandbox, video_file: Path
) -> None:
    studio.variant = "all_different"
    when = (datetime.now(UTC) + timedelta(hours=26)).replace(second=0, microsecond=0)
    when += timedelta(minutes=(-when.minute) % 5)
    post = Post(video_file, CAPTION, visibility="Only you", schedule=when)
    drive(browser_host, studio, post)
    assert_recorded(studio, post, video_file)
    assert {"cookie banner", "tour", "got it", "content check", "split"} <= set(post.handled)


@pytest.mark.browser
def test_switches_and_native_schedule_fields_record_alike(
    browser_host: BrowserHost, studio: TikTokStudioSandbox, video_file: Path
) -> None:
    studio.variant = "toggle_switches+schedule_picker"
    when = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    when += timedelta(minutes=(-when.minute) % 5)
    post = Post(video_file, CAPTION, visibility="Friends", duet=True, schedule=when)
    drive(browser_host, studio, post)
    record = assert_recorded(studio, post, video_file)
    assert record.allow_stitch is False


@pytest.mark.browser
def test_unknown_modal_blocks_the_form_until_dismissed(
    browser_host: BrowserHost, studio: TikTokStudioSandbox, video_file: Path
) -> None:
    studio.variant = "unknown_modal"
    state = studio.storage_state_for("uma")
    seen: dict[str, Any] = {}

    async def work() -> None:
        browser = await browser_host.browser()
        context = await browser.new_context(storage_state=state)  # type: ignore[arg-type]
        page = await context.new_page()
        try:
            await page.goto(studio.base_url + "/tiktokstudio/upload")
            await page.get_by_role("button", name="Allow all").click()
            frame = await form_frame(page)
            await frame.locator("input[type=file]").set_input_files(str(video_file))
            survey = page.get_by_role("dialog", name="Help us improve TikTok Studio")
            await survey.wait_for()
            try:  # the form takes no clicks while it is up
                await page.locator("[contenteditable=true]").click(timeout=800)
                seen["clicked"] = True
            except PlaywrightError as exc:
                seen["refused"] = exc.message.splitlines()[0]
            seen["inert"] = await page.locator("#root").evaluate("el => el.inert")
            await survey.get_by_role("button", name="Close").click()
            await page.locator("[contenteditable=true]").click(timeout=2000)
            seen["inert_after"] = await page.locator("#root").evaluate("el => el.inert")
        finally:
            await context.close()

    browser_host.run(work, timeout=60)
    assert "clicked" not in seen and "Timeout" in seen["refused"]
    assert seen["inert"] is True and seen["inert_after"] is False


@pytest.mark.browser
def test_leaving_a_filled_form_asks_first(
    browser_host: BrowserHost, studio: TikTokStudioSandbox, video_file: Path
) -> None:
    studio.variant = "known_interrupters"
    state = studio.storage_state_for("lea")
    dialogs: list[str] = []

    async def work() -> None:
        browser = await browser_host.browser()
        context = await browser.new_context(storage_state=state)  # type: ignore[arg-type]
        page = await context.new_page()

        async def accept(dialog: Dialog) -> None:
            dialogs.append(dialog.type)
            await dialog.accept()

        page.on("dialog", accept)
        try:
            await page.goto(studio.base_url + "/tiktokstudio/upload")
            await page.get_by_role("button", name="Allow all").click()  # a person was here
            await page.locator("input[type=file]").set_input_files(str(video_file))
            await page.get_by_role("dialog", name="Product tour").wait_for()
            await page.goto(studio.base_url + "/tiktokstudio/content")
        finally:
            await context.close()

    browser_host.run(work, timeout=60)
    assert dialogs == ["beforeunload"]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("variant", [v for v in SWEEP if v != "unknown_modal"])
def test_every_variant_posts(
    browser_host: BrowserHost, studio: TikTokStudioSandbox, video_file: Path, variant: str
) -> None:
    studio.variant = variant
    post = Post(video_file, CAPTION, visibility="Only you")
    drive(browser_host, studio, post, user=f"user_{variant}"[:24])
    assert_recorded(studio, post, video_file)
