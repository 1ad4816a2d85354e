"""Walking the upload page as far as just before posting, to find what the site changed.

Never clicks Post. Reports, for every element of the site file the walk meets, whether
it was found and which of its candidates matched — a fallback matching is drift: the
page changed, and the next change may break the post (see `drift.py`).
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
from piper_desktop.routes.spec import ProbeFinding
from piper_desktop.routes.web.form import Attempt, StepTimeout
from piper_desktop.routes.web.locate import ElementMissing

if TYPE_CHECKING:
    from playwright.async_api import Locator

    from piper_desktop.routes.web.publisher import WebPublisher


class Walk:
    def __init__(self, publisher: WebPublisher, page: Page) -> None:
        self.attempt = Attempt(publisher, page, None, None)
        self.site = publisher.site
        self.page = page
        self.ms = self.attempt.ms(publisher.timeouts.probe)
        self.upload_ms = self.attempt.ms(publisher.timeouts.upload)
        self.results: list[ProbeFinding] = []

    async def found(self, key: str, *, visible: bool = True, **params: str) -> Locator | None:
        if not self.site.has(key):
            return None
        try:
            located = await self.attempt.el.find(key, self.ms, visible=visible, params=params)
        except (ElementMissing, PlaywrightError):
            self.results.append(ProbeFinding(key, False))
            return None
        match = self.attempt.matched.get(key)
        self.results.append(
            ProbeFinding(
                key, True, match.index if match else None, match.candidate if match else None
            )
        )
        return located

    def missing(self, *keys: str) -> None:
        self.results.extend(ProbeFinding(key, False) for key in keys)

    async def choose(self, media_path: Path) -> bool:
        file_input = await self.found("file_input", visible=False)
        try:
            if file_input is not None:
                await file_input.set_input_files(str(media_path), timeout=self.ms)
                return True
            button = await self.found("file_select_button")
            if button is None:
                return False
            async with self.page.expect_file_chooser(timeout=self.ms) as chosen:
                await button.click(timeout=self.ms)
            await (await chosen.value).set_files(str(media_path), timeout=self.ms)
            return True
        except PlaywrightError:
            self.results.append(ProbeFinding("choose file", False))
            return False


async def probe_page(
    publisher: WebPublisher, page: Page, media_path: Path | None
) -> list[ProbeFinding]:
    walk = Walk(publisher, page)
    attempt, site, ms, results = walk.attempt, publisher.site, walk.ms, walk.results
    try:
        await page.goto(site.url("upload"), wait_until="domcontentloaded", timeout=ms * 5)
    except PlaywrightError as exc:
        results.append(ProbeFinding(f"page upload ({describe_navigation_error(exc)})", False))
        return results
    logged_in = not is_login_url(page.url, site)
    results.append(ProbeFinding("page upload (logged in)", logged_in))
    if not logged_in:
        return results
    with contextlib.suppress(StepTimeout, PublishError):
        await attempt.find_form()
    if attempt.el.root is not page:
        match = attempt.matched.get("upload_iframe")
        results.append(
            ProbeFinding(
                "upload_iframe",
                True,
                match.index if match else None,
                match.candidate if match else None,
            )
        )
    if await attempt.el.present("captcha", root=page) or await attempt.el.present("captcha"):
        results.append(ProbeFinding("captcha (blocks the page now)", True))
        return results
    await walk.found("file_card")
    if media_path is None:
        await walk.found("file_input", visible=False)
        return results
    if not await walk.choose(media_path):
        return results
    if not await walk.found("upload_status"):
        walk.missing("upload_done", "caption_editor", "post_button")
        return results
    try:
        await attempt.el.find("upload_done", walk.upload_ms)
        match = attempt.matched.get("upload_done")
        results.append(
            ProbeFinding(
                "upload_done",
                True,
                match.index if match else None,
                match.candidate if match else None,
            )
        )
    except (ElementMissing, PlaywrightError):
        results.append(ProbeFinding("upload_done", False))
    for key in ("upload_file_name", "upload_replace"):
        await walk.found(key)
    await probe_caption(walk)
    await probe_visibility(walk)
    for key in (
        "comment_checkbox",
        "duet_checkbox",
        "stitch_checkbox",
        "disclose_switch",
        "aigc_switch",
    ):
        await walk.found(key)
    await probe_schedule(walk)
    await walk.found("post_button")
    await walk.found("post_button_enabled")
    return results


async def probe_caption(walk: Walk) -> None:
    editor = await walk.found("caption_editor")
    if editor is None:
        return
    page = walk.page
    try:
        await editor.click(timeout=walk.ms)
        await page.keyboard.press("ControlOrMeta+End")
        await page.keyboard.type(" #piper", delay=walk.attempt.t.typing_delay_ms)
        await walk.found("mention_item_label")
        await walk.found("mention_item_highlighted_label")
        await walk.found("mention_popover")
        await page.keyboard.press("Escape")
    except PlaywrightError:
        walk.missing("mention_popover")


async def probe_visibility(walk: Walk) -> None:
    await walk.found("visibility_container")
    toggle = await walk.found("visibility_toggle")
    if toggle is None:
        return
    await walk.found("visibility_value")
    try:
        if await toggle.evaluate("el => el.tagName") == "SELECT":
            return
        await toggle.click(timeout=walk.ms)
        label = (walk.site.texts.get("visibility") or {}).get("PUBLIC_TO_EVERYONE", "")
        await walk.found("visibility_option", label=label)
        await toggle.click(timeout=walk.ms)
    except PlaywrightError:
        walk.missing("visibility_option")


async def probe_schedule(walk: Walk) -> None:
    later = await walk.found("schedule_later_radio")
    if later is None:
        return
    now = await walk.found("schedule_now_radio")
    ms = walk.ms
    try:
        await later.check(timeout=ms)
        date_input = await walk.found("schedule_date_input")
        if date_input is not None:
            await date_input.click(timeout=ms)
            await walk.found("calendar_next_month")
            await probe_calendar_day(walk)
        time_input = await walk.found("schedule_time_input")
        if time_input is not None:
            await time_input.click(timeout=ms)
            await walk.found("time_hour_option", hour="12")
            await walk.found("time_minute_option", minute="30")
        if now is not None:
            await now.check(timeout=ms)
    except PlaywrightError:
        walk.missing("schedule_pickers")


async def probe_calendar_day(walk: Walk) -> None:
    tomorrow = datetime.now(await walk.attempt.page_zone()) + timedelta(days=1)
    date = tomorrow.strftime("%Y-%m-%d")
    try:
        if not await walk.attempt.loc("calendar_day", date=date).count():
            await walk.attempt.loc("calendar_next_month").first.click(timeout=walk.ms)
    except PlaywrightError:
        pass
    await walk.found("calendar_day", date=date)
