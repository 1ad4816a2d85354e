"""The TikTok Studio upload form, walked step by step in one page.

Every step waits on a condition with its own timeout and names itself when it times out
("step 'wait upload finished' timed out after 60s"); there are no fixed sleeps. Whatever
blocks the page — the login page, a captcha, a dialog we do not know — is reported as
needing a person (DESIGN.md: captcha, 2FA and expired sessions are not automated away).
All page URLs and selectors come from the site file (`resources/sites/tiktok.json`).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urljoin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Frame, Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from piper_desktop.browser.session import describe_navigation_error, is_login_url
from piper_desktop.logs import get_logger
from piper_desktop.routes.base import (
    AccountRef,
    PostOptions,
    ProgressCallback,
    PublishError,
    PublishRequest,
)

if TYPE_CHECKING:
    from piper_desktop.routes.web.publisher import WebPublisher

log = get_logger("routes")
T = TypeVar("T")

MIN_SCHEDULE = timedelta(minutes=15)
MAX_SCHEDULE = timedelta(days=10)
# hashtags are word characters; mentions also allow dots (TikTok usernames)
_TOKEN_RE = re.compile(r"(?:(?<=\s)|^)(#\w+|@[\w.]*\w)")


@dataclass(frozen=True)
class WebTimeouts:
    """Seconds per kind of step (typing_delay_ms: the pause between keystrokes)."""

    page_load: float = 45
    step: float = 20
    upload: float = 600
    suggestion: float = 6
    post_result: float = 120
    content: float = 30
    probe: float = 4
    typing_delay_ms: float = 30


class StepTimeout(Exception):
    def __init__(self, step: str, seconds: float) -> None:
        super().__init__(f"step '{step}' timed out after {seconds:g}s")
        self.step = step
        self.seconds = seconds


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def caption_tokens(caption: str) -> list[tuple[str, str]]:
    """Split a caption into ("text", ...) and ("tag", "#word"/"@name") pieces."""
    pieces: list[tuple[str, str]] = []
    pos = 0
    for match in _TOKEN_RE.finditer(caption):
        if match.start() > pos:
            pieces.append(("text", caption[pos : match.start()]))
        pieces.append(("tag", match.group(1)))
        pos = match.end()
    if pos < len(caption):
        pieces.append(("text", caption[pos:]))
    return pieces


@dataclass
class Attempt:
    """One walk through the upload form in one page."""

    def __init__(
        self,
        publisher: WebPublisher,
        page: Page,
        request: PublishRequest | None,
        on_progress: ProgressCallback | None,
    ) -> None:
        self.pub = publisher
        self.site = publisher.site
        self.t = publisher.timeouts
        self.page = page
        self.root: Page | Frame = page
        self.request = request
        self.on_progress = on_progress
        self.post_clicked = False
        self.step_name = "start"

    # --- plumbing ------------------------------------------------------------------
    def loc(self, key: str, **params: str) -> Locator:
        return self.root.locator(self.site.selector(key, **params))

    async def progress(self, message: str, fraction: float | None = None) -> None:
        if self.on_progress is not None:
            await self.pub.host.on_caller(self.on_progress, message, fraction)

    async def step(self, name: str, seconds: float, action: Callable[[], Awaitable[T]]) -> T:
        self.step_name = name
        log.debug("web step: %s", name)
        try:
            return await asyncio.wait_for(action(), seconds + 5)
        except (PlaywrightTimeout, TimeoutError):
            blocker = await self.blocker()
            if blocker is not None:
                raise blocker from None
            raise StepTimeout(name, seconds) from None

    async def visible(self, locator: Locator) -> bool:
        try:
            return await locator.first.is_visible()
        except PlaywrightError:
            return False

    async def blocker(self) -> PublishError | None:
        """What stops a person from using the form right now, as the error to raise."""
        not_posted = not self.post_clicked
        if is_login_url(self.page.url, self.site):
            return PublishError(
                "the session has expired: the site asks to log in",
                code="needs_login",
                needs_attention=True,
                account_status="needs_login",
                certainly_not_posted=not_posted,
            )
        if await self.visible(self.loc("captcha")):
            return PublishError(
                "a captcha blocks the upload page; solve it in the account's browser",
                code="captcha",
                needs_attention=True,
                certainly_not_posted=not_posted,
            )
        if self.site.has("blocking_dialog"):
            dialogs = self.loc("blocking_dialog")
            known = 0
            for key in self.site.known_dialogs:
                if self.site.has(key) and await self.visible(self.loc(key)):
                    known += 1
            texts = []
            for index in range(await dialogs.count()):
                dialog = dialogs.nth(index)
                if await dialog.is_visible():
                    texts.append(_norm(await dialog.inner_text())[:160])
            if len(texts) > known:
                return PublishError(
                    f"an unexpected dialog blocks the page: {texts[-1]!r}",
                    code="blocking_dialog",
                    needs_attention=True,
                    certainly_not_posted=not_posted,
                )
        return None

    async def raise_if_blocked(self) -> None:
        blocker = await self.blocker()
        if blocker is not None:
            raise blocker

    def ms(self, seconds: float) -> float:
        return seconds * 1000

    # --- the form --------------------------------------------------------------------
    async def open_upload(self) -> None:
        async def go() -> None:
            try:
                await self.page.goto(
                    self.site.url("upload"),
                    wait_until="domcontentloaded",
                    timeout=self.ms(self.t.page_load),
                )
            except PlaywrightTimeout:
                raise
            except PlaywrightError as exc:
                reason = describe_navigation_error(exc)
                if "407" in reason:
                    # a wrong proxy password does not fix itself by retrying
                    raise PublishError(
                        f"could not open the upload page: {reason}",
                        code="proxy_auth",
                        needs_attention=True,
                        certainly_not_posted=True,
                    ) from None
                raise PublishError(
                    f"could not open the upload page: {reason}",
                    code="navigation",
                    retryable=True,
                    certainly_not_posted=True,
                ) from None

        await self.step("open upload page", self.t.page_load, go)
        await self.find_form()

    async def find_form(self) -> None:
        if is_login_url(self.page.url, self.site):
            await self.raise_if_blocked()
        if self.site.has("upload_iframe"):
            frame_el = self.page.locator(self.site.selector("upload_iframe"))
            if await frame_el.count():
                frame = await frame_el.first.element_handle()
                content = await frame.content_frame() if frame else None
                if content is not None:
                    self.root = content

        async def ready() -> None:
            # The form is there once its file input or a finished upload block is.
            target = (
                self.loc("file_input")
                .or_(self.loc("upload_status"))
                .or_(self.page.locator(self.site.selector("captcha")))
            )
            await target.first.wait_for(state="attached", timeout=self.ms(self.t.step))

        await self.step("find upload form", self.t.step, ready)

    async def dismiss_banner(self) -> None:
        if not self.site.has("cookie_banner_accept"):
            return
        accept = self.page.locator(self.site.selector("cookie_banner_accept"))
        if not await self.visible(accept):
            return

        async def click() -> None:
            await accept.first.click(timeout=self.ms(self.t.step))
            await self.page.locator(self.site.selector("cookie_banner")).first.wait_for(
                state="detached", timeout=self.ms(self.t.step)
            )

        await self.step("dismiss cookie banner", self.t.step, click)

    async def current_file_done(self, name: str) -> bool:
        if not await self.visible(self.loc("upload_status")):
            return False
        if self.site.has("upload_file_name"):
            shown = _norm(await self.loc("upload_file_name").first.inner_text())
            if shown != name:
                return False
        return await self.visible(self.loc("upload_done"))

    async def choose_file(self) -> None:
        assert self.request is not None
        path = self.request.media_path
        if await self.current_file_done(path.name):
            return  # resumed on a form that already holds this upload
        if await self.visible(self.loc("upload_status")) and self.site.has("upload_replace"):
            await self.step(
                "replace previous file",
                self.t.step,
                lambda: self.loc("upload_replace").first.click(timeout=self.ms(self.t.step)),
            )

        async def choose() -> None:
            await self.loc("file_input").first.set_input_files(
                str(path), timeout=self.ms(self.t.step)
            )

        await self.step("choose video file", self.t.step, choose)
        await self.progress("uploading video", 0.1)
        await self.wait_upload()

    async def wait_upload(self) -> None:
        async def done() -> None:
            outcome = self.loc("upload_done").or_(self.page.locator(self.site.selector("captcha")))
            if self.site.has("upload_failed"):
                outcome = outcome.or_(self.loc("upload_failed"))
            await outcome.first.wait_for(state="visible", timeout=self.ms(self.t.upload))
            await self.raise_if_blocked()
            if self.site.has("upload_failed") and await self.visible(self.loc("upload_failed")):
                text = _norm(await self.loc("upload_failed").first.inner_text())
                raise PublishError(
                    f"the site could not take the video: {text}",
                    code="upload_failed",
                    retryable=True,
                    certainly_not_posted=True,
                )
            await self.loc("post_button_enabled").first.wait_for(
                state="visible", timeout=self.ms(self.t.step)
            )

        await self.step("wait upload finished", self.t.upload, done)
        await self.progress("video uploaded", 0.6)

    async def editor_text(self) -> str:
        return str(await self.loc("caption_editor").first.inner_text())

    async def write_caption(self, caption: str) -> None:
        if _norm(await self.editor_text()) == _norm(caption):
            return
        editor = self.loc("caption_editor").first
        keyboard = self.page.keyboard

        async def clear() -> None:
            await editor.click(timeout=self.ms(self.t.step))
            await keyboard.press("ControlOrMeta+A")
            await keyboard.press("Backspace")
            handle = await editor.element_handle()
            await self.root.wait_for_function(
                "el => el.innerText.replace(/\\s/g, '') === ''",
                arg=handle,
                timeout=self.ms(self.t.step),
            )

        await self.step("clear caption", self.t.step, clear)
        pieces = caption_tokens(caption)
        skip_space = False
        for index, (kind, text) in enumerate(pieces):
            if kind == "text":
                if skip_space and text[:1] == " ":
                    text = text[1:]  # the editor already put a space after the tag
                skip_space = False
                if text:
                    await self.step(
                        "type caption",
                        self.t.step + len(text) * self.t.typing_delay_ms / 1000,
                        partial(keyboard.type, text, delay=self.t.typing_delay_ms),
                    )
                continue
            nxt = pieces[index + 1][1] if index + 1 < len(pieces) else ""
            skip_space = await self.pick_suggestion(text, nxt)
        typed = _norm(await self.editor_text())
        if typed != _norm(caption):
            raise PublishError(
                "the caption on the page differs from the one asked for",
                code="caption_mismatch",
                needs_attention=True,
                certainly_not_posted=True,
            )

    async def pick_suggestion(self, tag: str, following: str) -> bool:
        """Type `tag` and choose it from the popover with Enter, as a person does.

        Returns True if the editor added a space after it (so the caller skips one)."""
        keyboard = self.page.keyboard
        await self.step(
            "type caption",
            self.t.step,
            lambda: keyboard.type(tag, delay=self.t.typing_delay_ms),
        )
        wanted = re.compile(rf"^\s*{re.escape(tag)}\s*$", re.IGNORECASE)
        item = self.loc("mention_item_label").filter(has_text=wanted)
        try:
            await item.first.wait_for(state="visible", timeout=self.ms(self.t.suggestion))
        except PlaywrightTimeout:
            # No such suggestion: leave the tag as typed text.
            log.info("no suggestion offered for a caption tag; typed as text")
            if await self.visible(self.loc("mention_popover")):
                await keyboard.press("Escape")
            return False

        async def choose() -> None:
            for _ in range(12):
                label = self.loc("mention_item_highlighted_label").first
                if wanted.match(await label.inner_text(timeout=self.ms(self.t.step))):
                    break
                await keyboard.press("ArrowDown")
            else:
                raise PublishError(
                    f"could not highlight the suggestion {tag!r}",
                    code="suggestion",
                    needs_attention=True,
                    certainly_not_posted=True,
                )
            await keyboard.press("Enter")
            await self.loc("mention_popover").first.wait_for(
                state="hidden", timeout=self.ms(self.t.step)
            )

        await self.step(f"pick {tag[0]} suggestion", self.t.step, choose)
        if not following or following[:1] not in (" ",):
            # The editor appended a space; the caption has none here (end, newline, ',').
            await keyboard.press("Backspace")
            return False
        return True

    async def set_visibility(self, options: PostOptions) -> None:
        labels = self.site.texts.get("visibility") or {}
        label = labels.get(options.privacy_level)
        if label is None:
            raise PublishError(
                f"unknown privacy level {options.privacy_level!r}",
                code="invalid_params",
                certainly_not_posted=True,
            )
        if _norm(await self.loc("visibility_value").first.inner_text()) == label:
            return

        async def choose() -> None:
            await self.loc("visibility_toggle").first.click(timeout=self.ms(self.t.step))
            await self.loc("visibility_option", label=label).first.click(
                timeout=self.ms(self.t.step)
            )
            value = self.loc("visibility_value").filter(has_text=label)
            await value.first.wait_for(state="visible", timeout=self.ms(self.t.step))

        await self.step("set visibility", self.t.step, choose)

    async def set_checkbox(self, key: str, wanted: bool, name: str) -> None:
        box = self.loc(key).first
        if await box.is_disabled():
            if wanted and not await box.is_checked():
                log.info("%s is not allowed by the site for this post; left off", name)
            return
        await self.step(
            f"set {name}",
            self.t.step,
            lambda: box.set_checked(wanted, timeout=self.ms(self.t.step)),
        )

    async def set_switch(self, key: str, wanted: bool, name: str) -> None:
        switch = self.loc(key).first
        if (await switch.get_attribute("aria-checked") == "true") == wanted:
            return

        async def flip() -> None:
            await switch.click(timeout=self.ms(self.t.step))
            expected = "true" if wanted else "false"
            await (
                self.loc(key)
                .and_(self.root.locator(f"[aria-checked={expected}]"))
                .first.wait_for(state="visible", timeout=self.ms(self.t.step))
            )

        await self.step(f"set {name}", self.t.step, flip)

    async def set_options(self, options: PostOptions) -> None:
        await self.set_checkbox("comment_checkbox", not options.disable_comment, "comment")
        await self.set_checkbox("duet_checkbox", not options.disable_duet, "duet")
        await self.set_checkbox("stitch_checkbox", not options.disable_stitch, "stitch")
        disclose = options.brand_content_toggle or options.brand_organic_toggle
        if self.site.has("disclose_switch"):
            await self.set_switch("disclose_switch", disclose, "branded content disclosure")
            if disclose:
                await self.set_checkbox(
                    "brand_organic_checkbox", options.brand_organic_toggle, "your brand"
                )
                await self.set_checkbox(
                    "brand_content_checkbox", options.brand_content_toggle, "branded content"
                )
        if self.site.has("aigc_switch"):
            await self.set_switch("aigc_switch", options.is_aigc, "AI-generated content")

    async def page_zone(self) -> ZoneInfo:
        name = await self.page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    async def set_schedule(self, options: PostOptions, account: AccountRef) -> datetime | None:
        if not options.scheduled_at:
            if self.site.has("schedule_now_radio") and await self.loc("schedule_now_radio").count():
                await self.set_checkbox("schedule_now_radio", True, "post now")
            return None
        when = parse_schedule(options.scheduled_at, options.timezone or account.timezone)
        local = round_up_5min(when.astimezone(await self.page_zone()))
        now = datetime.now(local.tzinfo)
        if not (now + MIN_SCHEDULE <= local <= now + MAX_SCHEDULE):
            raise PublishError(
                "the site schedules 15 minutes to 10 days ahead; "
                f"{local.isoformat(timespec='minutes')} is outside that",
                code="invalid_schedule",
                certainly_not_posted=True,
            )
        date_text = local.strftime("%Y-%m-%d")
        hour, minute = local.strftime("%H"), local.strftime("%M")

        async def pick() -> None:
            ms = self.ms(self.t.step)
            await self.loc("schedule_later_radio").first.check(timeout=ms)
            await self.loc("schedule_date_input").first.click(timeout=ms)
            day = self.loc("calendar_day", date=date_text).first
            for _ in range(3):
                if await day.count():
                    break
                await self.loc("calendar_next_month").first.click(timeout=ms)
            await day.click(timeout=ms)
            await self.loc("schedule_time_input").first.click(timeout=ms)
            await self.loc("time_hour_option", hour=hour).first.click(timeout=ms)
            await self.loc("time_minute_option", minute=minute).first.click(timeout=ms)
            shown_date = await self.loc("schedule_date_input").first.input_value(timeout=ms)
            shown_time = await self.loc("schedule_time_input").first.input_value(timeout=ms)
            if shown_date != date_text or shown_time != f"{hour}:{minute}":
                raise PublishError(
                    f"the schedule pickers show {shown_date} {shown_time}, "
                    f"not {date_text} {hour}:{minute}",
                    code="schedule_not_set",
                    needs_attention=True,
                    certainly_not_posted=True,
                )

        await self.step("set schedule", self.t.step, pick)
        return local

    async def fill(self, request: PublishRequest) -> datetime | None:
        await self.dismiss_banner()
        await self.raise_if_blocked()
        await self.choose_file()
        await self.dismiss_banner()
        await self.raise_if_blocked()
        await self.write_caption(request.caption)
        await self.set_visibility(request.options)
        await self.set_options(request.options)
        scheduled = await self.set_schedule(request.options, request.account)
        await self.progress("form filled", 0.8)
        return scheduled

    async def post(self) -> bytes:
        """Click Post (confirming "Post now" if asked); returns the success screenshot."""
        await self.raise_if_blocked()
        self.post_clicked = True  # from here on the outcome is unknown until confirmed
        await self.step(
            "click post",
            self.t.step,
            lambda: self.loc("post_button_enabled").first.click(timeout=self.ms(self.t.step)),
        )

        async def outcome() -> str:
            waiting = self.loc("success_modal").or_(
                self.page.locator(self.site.selector("captcha"))
            )
            for key in ("post_now_confirm", "error_toast"):
                if self.site.has(key):
                    waiting = waiting.or_(self.loc(key))
            await waiting.first.wait_for(state="visible", timeout=self.ms(self.t.post_result))
            if self.site.has("post_now_confirm") and await self.visible(
                self.loc("post_now_confirm")
            ):
                return "confirm"
            if await self.visible(self.loc("success_modal")):
                return "success"
            await self.raise_if_blocked()
            text = ""
            if self.site.has("error_toast") and await self.visible(self.loc("error_toast")):
                text = _norm(await self.loc("error_toast").first.inner_text())
            raise PublishError(
                f"the site did not accept the post: {text or 'no reason shown'}",
                code="post_refused",
                needs_attention=True,
            )

        result = await self.step("wait post result", self.t.post_result, outcome)
        if result == "confirm":
            await self.step(
                "confirm post now",
                self.t.step,
                lambda: self.loc("post_now_confirm").first.click(timeout=self.ms(self.t.step)),
            )
            result = await self.step("wait post result", self.t.post_result, outcome)
        return await self.page.screenshot()

    async def find_post_url(self, caption: str, go: bool) -> str | None:
        found = await self.find_post(caption, go)
        return found[0] if found else None

    async def find_post(self, caption: str, go: bool) -> tuple[str, str] | None:
        """(URL, status text) of the newest post on the content page whose caption
        matches, or None if the page lists no such post."""
        content_path = self.site.path("content")

        async def reach() -> None:
            if not go and content_path in self.page.url:
                return
            if not go:
                try:
                    # after posting, the site navigates there by itself
                    await self.page.wait_for_url(
                        f"**{content_path}*", timeout=self.ms(self.t.content) / 3
                    )
                    return
                except PlaywrightTimeout:
                    pass
            await self.page.goto(
                self.site.url("content"),
                wait_until="domcontentloaded",
                timeout=self.ms(self.t.content),
            )

        await self.step("open content page", self.t.content, reach)
        if is_login_url(self.page.url, self.site):
            await self.raise_if_blocked()
        rows = self.page.locator(self.site.selector("content_row"))
        wanted = _norm(caption)
        for index in range(await rows.count()):
            row = rows.nth(index)
            text_el = row.locator(self.site.selector("content_row_caption"))
            text = _norm(await (text_el.first if await text_el.count() else row).inner_text())
            if text != wanted and not (len(wanted) > 60 and text.startswith(wanted[:60])):
                continue
            link = row.locator(self.site.selector("content_row_link")).first
            href = await link.get_attribute("href") if await link.count() else None
            if not href:
                continue
            status = ""
            if self.site.has("content_row_status"):
                status_el = row.locator(self.site.selector("content_row_status"))
                if await status_el.count():
                    status = _norm(await status_el.first.inner_text())
            return urljoin(self.page.url, href), status
        return None

    async def artifacts(self) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with contextlib.suppress(PlaywrightError):
            found["screenshot.png"] = await self.page.screenshot(full_page=True, timeout=10_000)
        with contextlib.suppress(PlaywrightError):
            found["page.html"] = (await self.page.content()).encode("utf-8")
        return found


def parse_schedule(value: str, zone_name: str | None) -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PublishError(
            f"scheduled_at is not an ISO 8601 time: {value!r}",
            code="invalid_schedule",
            certainly_not_posted=True,
        ) from None
    if when.tzinfo is None:
        try:
            when = when.replace(tzinfo=ZoneInfo(zone_name or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            when = when.replace(tzinfo=ZoneInfo("UTC"))
    return when


def round_up_5min(when: datetime) -> datetime:
    """The site's time pickers step by 5 minutes: the first step not before `when`."""
    when = when.replace(second=0, microsecond=0) + (
        timedelta(minutes=1) if when.second or when.microsecond else timedelta()
    )
    extra = (-when.minute) % 5
    return when + timedelta(minutes=extra)
