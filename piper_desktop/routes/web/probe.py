"""Walking the upload page as far as just before posting, to find what the site changed.

Never clicks Post. Reports (selector name, found) for every selector of the site file
the walk meets, so that an operator learns the page changed before a slot fails.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from piper_desktop.browser.session import describe_navigation_error, is_login_url
from piper_desktop.routes.base import PublishError
from piper_desktop.routes.web.form import Attempt, StepTimeout

if TYPE_CHECKING:
    from piper_desktop.routes.web.publisher import WebPublisher


async def probe_page(
    publisher: WebPublisher, page: Page, media_path: Path | None
) -> list[tuple[str, bool]]:
    attempt = Attempt(publisher, page, None, None)
    site = publisher.site
    ms = attempt.ms(publisher.timeouts.probe)
    results: list[tuple[str, bool]] = []

    async def found(key: str, **params: str) -> bool:
        if not site.has(key):
            results.append((key, False))
            return False
        try:
            await attempt.loc(key, **params).first.wait_for(state="attached", timeout=ms)
            ok = True
        except PlaywrightError:
            ok = False
        results.append((key, ok))
        return ok

    def missing(*keys: str) -> None:
        results.extend((key, False) for key in keys)

    try:
        await page.goto(site.url("upload"), wait_until="domcontentloaded", timeout=ms * 5)
    except PlaywrightError as exc:
        results.append((f"page upload ({describe_navigation_error(exc)})", False))
        return results
    logged_in = not is_login_url(page.url, site)
    results.append(("page upload (logged in)", logged_in))
    if not logged_in:
        return results
    with contextlib.suppress(StepTimeout, PublishError):
        await attempt.find_form()
    if await attempt.visible(page.locator(site.selector("captcha"))):
        results.append(("captcha (blocks the page now)", True))
        return results
    if site.has("cookie_banner_accept") and await attempt.visible(
        page.locator(site.selector("cookie_banner_accept"))
    ):
        await found("cookie_banner")
        results.append(("cookie_banner_accept", True))
        with contextlib.suppress(StepTimeout, PublishError):
            await attempt.dismiss_banner()
    await found("file_card")
    if not await found("file_input") or media_path is None:
        return results
    try:
        await attempt.loc("file_input").first.set_input_files(str(media_path), timeout=ms)
    except PlaywrightError:
        results.append(("choose file", False))
        return results
    if not await found("upload_status"):
        missing("upload_done", "caption_editor", "post_button")
        return results
    try:
        await attempt.loc("upload_done").first.wait_for(
            state="visible", timeout=attempt.ms(publisher.timeouts.upload)
        )
        results.append(("upload_done", True))
    except PlaywrightError:
        results.append(("upload_done", False))
    for key in ("upload_file_name", "upload_replace"):
        if site.has(key):
            await found(key)
    if await found("caption_editor"):
        try:
            await attempt.loc("caption_editor").first.click(timeout=ms)
            await page.keyboard.press("End")
            await page.keyboard.type(" #piper", delay=publisher.timeouts.typing_delay_ms)
            await found("mention_popover")
            await found("mention_item_label")
            await found("mention_item_highlighted_label")
            await page.keyboard.press("Escape")
        except PlaywrightError:
            missing("mention_popover")
    await found("visibility_container")
    if await found("visibility_toggle"):
        await found("visibility_value")
        try:
            await attempt.loc("visibility_toggle").first.click(timeout=ms)
            label = (site.texts.get("visibility") or {}).get("PUBLIC_TO_EVERYONE", "")
            await found("visibility_option", label=label)
            await attempt.loc("visibility_toggle").first.click(timeout=ms)
        except PlaywrightError:
            missing("visibility_option")
    for key in (
        "comment_checkbox",
        "duet_checkbox",
        "stitch_checkbox",
        "disclose_switch",
        "aigc_switch",
    ):
        await found(key)
    if await found("schedule_later_radio"):
        await found("schedule_now_radio")
        try:
            await attempt.loc("schedule_later_radio").first.check(timeout=ms)
            if await found("schedule_date_input"):
                await attempt.loc("schedule_date_input").first.click(timeout=ms)
                await found("calendar_next_month")
                await probe_calendar_day(attempt, results, ms)
            if await found("schedule_time_input"):
                await attempt.loc("schedule_time_input").first.click(timeout=ms)
                await found("time_hour_option", hour="12")
                await found("time_minute_option", minute="30")
            await attempt.loc("schedule_now_radio").first.check(timeout=ms)
        except PlaywrightError:
            missing("schedule_pickers")
    await found("post_button")
    await found("post_button_enabled")
    return results


async def probe_calendar_day(attempt: Attempt, results: list[tuple[str, bool]], ms: float) -> None:
    tomorrow = datetime.now(await attempt.page_zone()) + timedelta(days=1)
    day = attempt.loc("calendar_day", date=tomorrow.strftime("%Y-%m-%d")).first
    try:
        if not await day.count():
            await attempt.loc("calendar_next_month").first.click(timeout=ms)
        await day.wait_for(state="attached", timeout=ms)
        results.append(("calendar_day", True))
    except PlaywrightError:
        results.append(("calendar_day", False))
