"""A small driver for the Studio replica, written as a person uses the page: user-facing
locators (role and name, label, visible text), Playwright's own locator handlers for the
overlays a person clicks away, and nothing of Piper's publisher. The variant tests use it
to prove each layout variant can be posted through and records the post on the server.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from playwright.async_api import Frame, FrameLocator, Locator, Page

TIMEOUT_MS = 8_000


@dataclass
class Post:
    """What the driver posts: the video, the caption (tags picked from suggestions)."""

    video: Path
    caption: str
    visibility: str = "Everyone"  # as the page names it
    duet: bool | None = None
    aigc: bool = False
    schedule: datetime | None = None  # in the page's time zone, on a 5-minute step
    handled: list[str] = field(default_factory=list)  # overlays the handlers dismissed


_TAG = re.compile(r"(?:(?<=\s)|^)([#@][\w.]*\w)")


async def form_frame(page: Page) -> Frame:
    """The frame holding the form: the page itself, or the Creator Center's iframe."""
    anything = page.get_by_role("button", name="Select video").or_(page.locator("iframe"))
    await anything.first.wait_for(timeout=TIMEOUT_MS)
    if await page.locator("iframe").count():
        handle = await page.locator("iframe").first.element_handle()
        frame = await handle.content_frame() if handle else None
        assert frame is not None
        await frame.get_by_role("button", name="Select video").wait_for(timeout=TIMEOUT_MS)
        return frame
    return page.main_frame


async def dismiss_known_overlays(page: Page, frame: Frame, post: Post) -> None:
    """What a person clicks away without reading twice: cookies, tours, "Got it", "Not now".

    Playwright takes handlers' locators from the main frame only: overlays inside the
    Creator Center's iframe are reached through a frame locator."""
    scope: Page | FrameLocator = page if frame is page.main_frame else page.frame_locator("iframe")

    def handler(name: str, button: Locator) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            post.handled.append(name)
            await button.click()

        return run

    cookie = page.get_by_role("button", name="Allow all")
    await page.add_locator_handler(cookie, handler("cookie banner", cookie))
    for name, dialog, button in (
        ("tour", scope.get_by_role("dialog", name="Product tour"), "Skip"),
        ("got it", scope.get_by_role("dialog", name="Introducing auto-save"), "Got it"),
        ("content check", scope.get_by_role("dialog", name="automatic content checks"), "Not now"),
        ("split", scope.get_by_role("dialog", name="Split your video"), "Not now"),
    ):
        await page.add_locator_handler(
            dialog, handler(name, dialog.get_by_role("button", name=button, exact=True))
        )


async def type_caption(page: Page, frame: Frame, editor: Locator, caption: str) -> None:
    await editor.click()
    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.press("Backspace")
    # a suggestion is the tag's text anywhere but in the editor itself
    outside_editor = frame.locator(":not([contenteditable] *)")
    pos = 0
    skip_space = False
    for match in _TAG.finditer(caption):
        plain = caption[pos : match.start()]
        if skip_space and plain.startswith(" "):
            plain = plain[1:]
        await page.keyboard.type(plain)
        tag = match.group(1)
        await page.keyboard.type(tag)
        # the list shows the tag itself first and highlighted: Enter takes it (and a space)
        item = frame.get_by_text(tag, exact=True).and_(outside_editor)
        await item.first.wait_for(timeout=TIMEOUT_MS)
        await page.keyboard.press("Enter")
        await item.first.wait_for(state="hidden", timeout=TIMEOUT_MS)
        pos = match.end()
        skip_space = True
        if not caption[pos:].startswith(" "):
            await page.keyboard.press("Backspace")
            skip_space = False
    rest = caption[pos:]
    if skip_space and rest.startswith(" "):
        rest = rest[1:]
    await page.keyboard.type(rest)


async def choose_visibility(frame: Frame, label: str) -> None:
    combo = frame.get_by_role("combobox")
    if await combo.count():
        if await combo.evaluate("el => el.tagName") == "SELECT":
            await combo.select_option(label=label)
            return
        await combo.click()
    else:
        await frame.get_by_role("button", name="Who can watch this video").click()
    await frame.get_by_role("option", name=label, exact=True).click()


async def pick_schedule(frame: Frame, when: datetime) -> None:
    await frame.get_by_label("Schedule").check()
    date_field = frame.get_by_label("Date", exact=True)
    if await date_field.count():  # native fields, labelled
        await date_field.fill(f"{when:%Y-%m-%d}")
        await frame.get_by_label("Time", exact=True).select_option(f"{when:%H:%M}")
        return
    # the default calendar and time-list popups have no accessible names
    await frame.locator(".date-picker-input").click()
    day = frame.locator(f".calendar-wrapper [data-date='{when:%Y-%m-%d}']")
    while not await day.count():
        await frame.locator(".calendar-wrapper .arrow.next").click()
    await day.click()
    await frame.locator(".time-picker-input").click()
    await (
        frame.locator(".tiktok-timer-container .hour-option")
        .get_by_text(f"{when:%H}", exact=True)
        .click()
    )
    await (
        frame.locator(".tiktok-timer-container .minute-option")
        .get_by_text(f"{when:%M}", exact=True)
        .click()
    )


async def post_video(page: Page, base_url: str, post: Post) -> None:
    """Open the upload page, fill the form as asked and post; returns once the site says so."""
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(base_url + "/tiktokstudio/upload")
    frame = await form_frame(page)
    await dismiss_known_overlays(page, frame, post)
    async with page.expect_file_chooser() as chooser:
        await frame.get_by_role("button", name="Select video").click()
    await (await chooser.value).set_files(str(post.video))
    editor = frame.locator("[contenteditable=true]")
    await editor.wait_for()
    await frame.get_by_text("Uploaded", exact=True).wait_for()
    await type_caption(page, frame, editor, post.caption)
    await choose_visibility(frame, post.visibility)
    if post.duet is not None:
        await frame.get_by_label("Duet").set_checked(post.duet)
    if post.aigc:
        await frame.get_by_role("switch", name="AI-generated content").click()
    if post.schedule is not None:
        await pick_schedule(frame, post.schedule)
    button = frame.get_by_role("button", name="Post", exact=True)
    await button.click()
    confirm = frame.get_by_role("alertdialog").or_(frame.get_by_role("dialog"))
    post_now = confirm.get_by_role("button", name="Post now")
    done = frame.get_by_text("Your video has been uploaded")
    await post_now.or_(done).first.wait_for()
    if await post_now.count():
        await post_now.click()
    await page.wait_for_url("**/tiktokstudio/content")
