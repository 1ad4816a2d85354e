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

from playwright.async_api import Dialog, FrameLocator, Locator, Page, expect
from playwright.async_api import Error as PlaywrightError
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
from piper_desktop.routes.web.locate import ElementMissing, Elements, Match

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
    def __init__(self, step: str, seconds: float, detail: str | None = None) -> None:
        message = f"step '{step}' timed out after {seconds:g}s"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.step = step
        self.seconds = seconds
        self.detail = detail


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def caption_norm(text: str) -> str:
    """A caption as compared with the page's: spaces collapsed, lines kept."""
    lines = (re.sub(r"[^\S\n]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(lines).strip()


def _label_norm(text: str) -> str:
    """A dropdown's shown value without its caret or other decoration ("Only you ▾")."""
    return re.sub(r"^[^\w]+|[^\w]+$", "", _norm(text))


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
        self.el = Elements(self.site, page, page)
        self.request = request
        self.on_progress = on_progress
        self.post_clicked = False
        self.step_name = "start"
        self.notes: list[str] = []
        self.armed = False
        # what the form was set to, read back before posting
        self.caption_shown: str | None = None

    # --- plumbing ------------------------------------------------------------------
    @property
    def matched(self) -> dict[str, Match]:
        return self.el.matched

    def loc(self, key: str, **params: str) -> Locator:
        """Every candidate of `key` in the form (for checks that do not wait)."""
        return self.el.union(key, params=params)

    async def find(self, key: str, seconds: float | None = None, **params: str) -> Locator:
        return await self.el.find(
            key, self.ms(self.t.step if seconds is None else seconds), params=params
        )

    async def present(self, key: str, **params: str) -> bool:
        return await self.el.present(key, params=params)

    def note(self, text: str) -> None:
        log.info("web post: %s", text)
        self.notes.append(text)

    async def progress(self, message: str, fraction: float | None = None) -> None:
        if self.on_progress is not None:
            await self.pub.host.on_caller(self.on_progress, message, fraction)

    async def step(self, name: str, seconds: float, action: Callable[[], Awaitable[T]]) -> T:
        self.step_name = name
        log.debug("web step: %s", name)
        try:
            return await asyncio.wait_for(action(), seconds + 5)
        except ElementMissing as exc:
            blocker = await self.blocker()
            if blocker is not None:
                raise blocker from None
            raise StepTimeout(name, seconds, str(exc)) from None
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
        if await self.el.present("captcha", root=self.page) or await self.el.present("captcha"):
            return PublishError(
                "a captcha blocks the upload page; solve it in the account's browser",
                code="captcha",
                needs_attention=True,
                certainly_not_posted=not_posted,
            )
        if self.site.has("blocking_dialog"):
            unknown = await self._unknown_dialogs()
            if unknown:
                return PublishError(
                    f"an unexpected dialog blocks the page: {unknown[-1]!r}",
                    code="blocking_dialog",
                    needs_attention=True,
                    certainly_not_posted=not_posted,
                )
        return None

    async def _unknown_dialogs(self) -> list[str]:
        """The texts of visible dialogs that are neither a known step nor an interrupter."""
        texts = []
        scopes = [self.page] if self.el.root is self.page else [self.page, self.el.root]
        for scope in scopes:
            dialogs = self.el.union("blocking_dialog", scope).filter(visible=True)
            known = [self.el.union(key, scope) for key in self.site.known_dialogs]
            known += [self.el.union_of(i.detect, scope) for i in self.site.interrupters]
            with contextlib.suppress(PlaywrightError):
                for index in range(await dialogs.count()):
                    dialog = dialogs.nth(index)
                    if not await self._is_one_of(dialog, known):
                        texts.append(_norm(await dialog.inner_text(timeout=2000))[:160])
        return texts

    @staticmethod
    async def _is_one_of(dialog: Locator, known: list[Locator]) -> bool:
        for locator in known:
            if await dialog.and_(locator).count() or await dialog.filter(has=locator).count():
                return True
        return False

    async def raise_if_blocked(self) -> None:
        blocker = await self.blocker()
        if blocker is not None:
            raise blocker

    async def disarm(self) -> None:
        """Hand the page to a person: no more dismissing overlays or answering prompts."""
        await self.el.disarm()
        if self.armed:
            self.page.remove_listener("dialog", self._browser_dialog)
            self.armed = False

    async def _browser_dialog(self, dialog: Dialog) -> None:
        # a leave-page prompt only comes when Piper itself moves on (posted, or looking
        # the post up): leave. Any other alert is answered "no" and noted.
        if dialog.type == "beforeunload":
            await dialog.accept()
            return
        self.note(f"the site asked {dialog.message[:80]!r}; answered no")
        await dialog.dismiss()

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

    def _form_ready(self, root: Page | FrameLocator) -> Locator:
        # The form is there once its file input, its select button or a finished upload is.
        ready = self.el.union("file_input", root).or_(self.el.union("upload_status", root))
        if self.site.has("file_select_button"):
            ready = ready.or_(self.el.union("file_select_button", root))
        return ready

    async def find_form(self) -> None:
        if is_login_url(self.page.url, self.site):
            await self.raise_if_blocked()
        if not self.armed:
            await self.el.arm(self.page, self.ms(self.t.step))
            self.page.on("dialog", self._browser_dialog)
            self.armed = True

        async def ready() -> None:
            target = self._form_ready(self.page).or_(self.el.union("captcha", self.page))
            if self.site.has("upload_iframe"):
                target = target.or_(self.el.union("upload_iframe", self.page))
            await target.first.wait_for(state="attached", timeout=self.ms(self.t.step))
            if self.site.has("upload_iframe") and not await self._form_ready(self.page).count():
                frame = await self.el.find(
                    "upload_iframe", self.ms(self.t.step), visible=False, root=self.page
                )
                if frame is not None:
                    inner = frame.content_frame
                    await (
                        self._form_ready(inner)
                        .or_(self.el.union("captcha", inner))
                        .first.wait_for(state="attached", timeout=self.ms(self.t.step))
                    )
                    self.el.root = inner
                    await self.el.arm(inner, self.ms(self.t.step))

        await self.step("find upload form", self.t.step, ready)

    async def current_file_done(self, name: str) -> bool:
        if not await self.present("upload_status"):
            return False
        if self.site.has("upload_file_name") and await self.present("upload_file_name"):
            shown = _norm(await self.loc("upload_file_name").first.inner_text())
            if shown != name:
                return False
        return await self.present("upload_done")

    async def choose_file(self) -> None:
        assert self.request is not None
        path = self.request.media_path
        if await self.current_file_done(path.name):
            return  # resumed on a form that already holds this upload
        if await self.present("upload_status") and await self.present("upload_replace"):

            async def replace() -> None:
                await (await self.find("upload_replace")).click(timeout=self.ms(self.t.step))

            await self.step("replace previous file", self.t.step, replace)

        async def choose() -> None:
            ms = self.ms(self.t.step)
            chooser = self.loc("file_input")
            if self.site.has("file_select_button"):
                chooser = chooser.or_(self.loc("file_select_button").filter(visible=True))
            try:
                await chooser.first.wait_for(state="attached", timeout=ms)
            except PlaywrightTimeout:
                tried = self.site.candidates("file_input")
                if self.site.has("file_select_button"):
                    tried += self.site.candidates("file_select_button")
                raise ElementMissing("file_input", tried) from None
            if await self.loc("file_input").count():
                found = await self.el.find("file_input", ms, visible=False)
                await found.set_input_files(str(path), timeout=ms)
                return
            # no input in the page until a person clicks "Select video": take the chooser
            button = await self.find("file_select_button")
            async with self.page.expect_file_chooser(timeout=ms) as chosen:
                await button.click(timeout=ms)
            await (await chosen.value).set_files(str(path), timeout=ms)

        await self.step("choose video file", self.t.step, choose)
        await self.progress("uploading video", 0.1)
        await self.wait_upload()

    async def wait_upload(self) -> None:
        async def done() -> None:
            outcome = self.loc("upload_done").or_(self.el.union("captcha", self.page))
            if self.site.has("upload_failed"):
                outcome = outcome.or_(self.loc("upload_failed"))
            try:
                await outcome.filter(visible=True).first.wait_for(timeout=self.ms(self.t.upload))
            except PlaywrightTimeout:
                raise ElementMissing("upload_done", self.site.candidates("upload_done")) from None
            await self.raise_if_blocked()
            if await self.present("upload_failed"):
                text = _norm(
                    await self.loc("upload_failed").filter(visible=True).first.inner_text()
                )
                raise PublishError(
                    f"the site could not take the video: {text}",
                    code="upload_failed",
                    retryable=True,
                    certainly_not_posted=True,
                )
            await self.el.which(
                "upload_done", self.site.candidates("upload_done"), self.el.root, True
            )
            await self.find("post_button_enabled")

        await self.step("wait upload finished", self.t.upload, done)
        await self.progress("video uploaded", 0.6)

    async def editor_text(self) -> str:
        editor = await self.find("caption_editor")
        return str(await editor.inner_text(timeout=self.ms(self.t.step)))

    async def write_caption(self, caption: str) -> None:
        editor = await self.step("find caption", self.t.step, lambda: self.find("caption_editor"))
        if caption_norm(await editor.inner_text()) == caption_norm(caption):
            return
        keyboard = self.page.keyboard

        async def clear() -> None:
            await editor.click(timeout=self.ms(self.t.step))
            await keyboard.press("ControlOrMeta+A")
            await keyboard.press("Backspace")
            await expect(editor).to_have_text(re.compile(r"^\s*$"), timeout=self.ms(self.t.step))

        await self.step("clear caption", self.t.step, clear)
        pieces = caption_tokens(caption)
        skip_space = False
        for index, (kind, text) in enumerate(pieces):
            if kind == "text":
                if skip_space and text[:1] == " ":
                    text = text[1:]  # the editor already put a space after the tag
                skip_space = False
                if text:
                    await self.step("fill caption", self.t.step, partial(self.insert, text))
                continue
            nxt = pieces[index + 1][1] if index + 1 < len(pieces) else ""
            skip_space = await self.pick_suggestion(editor, text, nxt)

    async def insert(self, text: str) -> None:
        """Plain text goes in at once (one input event per line); newlines as Enter."""
        keyboard = self.page.keyboard
        for number, line in enumerate(text.split("\n")):
            if number:
                await keyboard.press("Enter")
            if line:
                await keyboard.insert_text(line)

    async def pick_suggestion(self, editor: Locator, tag: str, following: str) -> bool:
        """Type `tag` and choose it from the suggestions, as a person does.

        Returns True if the editor added a space after it (so the caller skips one). When
        the site offers no such suggestion the tag stays plain text (noted, not fatal)."""
        keyboard = self.page.keyboard
        await self.step(
            "type caption tag",
            self.t.step,
            lambda: keyboard.type(tag, delay=self.t.typing_delay_ms),
        )
        exact = re.compile(rf"^\s*{re.escape(tag)}\s*$", re.IGNORECASE)

        def matching(rows: Locator) -> Locator:
            # a row is the tag's label itself, or holds an element whose text is the tag
            rows = rows.filter(visible=True)
            return rows.filter(has_text=exact).or_(rows.filter(has=self.el.root.get_by_text(exact)))

        items = matching(self.loc("mention_item_label"))
        try:
            await items.first.wait_for(timeout=self.ms(self.t.suggestion))
        except PlaywrightTimeout:
            self.note(f"no suggestion offered for {tag}; left as plain text")
            if await self.present("mention_item_label") or await self.present("mention_popover"):
                await keyboard.press("Escape")
            return False
        await self.el.which(
            "mention_item_label", self.site.candidates("mention_item_label"), self.el.root, True
        )

        async def choose() -> None:
            highlighted = matching(self.loc("mention_item_highlighted_label"))
            if await highlighted.count():
                await self.el.which(
                    "mention_item_highlighted_label",
                    self.site.candidates("mention_item_highlighted_label"),
                    self.el.root,
                    True,
                )
                await keyboard.press("Enter")
            else:
                await items.first.click(timeout=self.ms(self.t.step))
            await expect(items).to_have_count(0, timeout=self.ms(self.t.step))

        try:
            await self.step(f"pick {tag[0]} suggestion", self.t.step, choose)
        except StepTimeout:
            self.note(f"could not choose the suggestion for {tag}; left as typed")
        if not await self._focused(editor):
            await editor.click(timeout=self.ms(self.t.step))
            await keyboard.press("ControlOrMeta+End")
        shown = await editor.inner_text(timeout=self.ms(self.t.step))
        added_space = shown.endswith((" ", "\xa0"))
        if added_space and following[:1] != " ":
            # The editor appended a space; the caption has none here (end, newline, ',').
            await keyboard.press("Backspace")
            return False
        return added_space

    async def _focused(self, editor: Locator) -> bool:
        try:
            return bool(
                await editor.evaluate(
                    "el => el === document.activeElement || el.contains(document.activeElement)"
                )
            )
        except PlaywrightError:
            return False

    async def visibility_shown(self) -> str:
        if await self.present("visibility_value"):
            return _label_norm(
                await self.loc("visibility_value").filter(visible=True).first.inner_text()
            )
        toggle = await self.find("visibility_toggle")
        return _label_norm(
            str(
                await toggle.evaluate(
                    "el => el.tagName === 'SELECT' ? (el.selectedOptions[0] || {}).text || ''"
                    " : el.innerText"
                )
            )
        )

    def visibility_label(self, options: PostOptions) -> str:
        labels = self.site.texts.get("visibility") or {}
        label = labels.get(options.privacy_level) if isinstance(labels, dict) else None
        if not isinstance(label, str):
            raise PublishError(
                f"unknown privacy level {options.privacy_level!r}",
                code="invalid_params",
                certainly_not_posted=True,
            )
        return label

    async def set_visibility(self, options: PostOptions) -> None:
        label = self.visibility_label(options)

        async def choose() -> None:
            if await self.visibility_shown() == label:
                return
            ms = self.ms(self.t.step)
            toggle = await self.find("visibility_toggle")
            if await toggle.evaluate("el => el.tagName") == "SELECT":
                await toggle.select_option(label=label, timeout=ms)
            else:
                await toggle.click(timeout=ms)
                option = await self.find("visibility_option", label=label)
                await option.click(timeout=ms)
            shown = await self.visibility_shown()
            if shown != label:
                value = self.loc("visibility_value").filter(has_text=label)
                if self.site.has("visibility_value") and await self.loc("visibility_value").count():
                    await value.first.wait_for(timeout=ms)
                else:
                    await expect(toggle).to_contain_text(label, timeout=ms)

        await self.step("set visibility", self.t.step, choose)

    async def set_checkbox(self, key: str, wanted: bool, name: str) -> None:
        async def flip() -> None:
            box = await self.find(key)
            if await box.is_disabled():
                if wanted and not await box.is_checked():
                    self.note(f"{name} is not allowed by the site for this post; left off")
                return
            if await box.is_checked() != wanted:
                await box.set_checked(wanted, timeout=self.ms(self.t.step))

        await self.step(f"set {name}", self.t.step, flip)

    async def switch_on(self, switch: Locator) -> bool:
        state = await switch.get_attribute("aria-checked")
        if state is not None:
            return state == "true"
        return await switch.is_checked()

    async def set_switch(self, key: str, wanted: bool, name: str) -> None:
        async def flip() -> None:
            switch = await self.find(key)
            if await self.switch_on(switch) == wanted:
                return
            await switch.click(timeout=self.ms(self.t.step))
            await expect(switch).to_have_attribute(
                "aria-checked", "true" if wanted else "false", timeout=self.ms(self.t.step)
            )

        await self.step(f"set {name}", self.t.step, flip)

    async def set_extra(self, key: str, wanted: bool, name: str, switch: bool) -> None:
        """An extra the site may not offer: absent or failing, the post goes on (noted)."""
        if not self.site.has(key) or not await self.present(key):
            if wanted:
                self.note(f"the page offers no {name} control; left as the site has it")
            return
        try:
            if switch:
                await self.set_switch(key, wanted, name)
            else:
                await self.set_checkbox(key, wanted, name)
        except StepTimeout as exc:
            if wanted:
                raise
            self.note(f"{name} left as the site has it ({exc})")

    async def set_options(self, options: PostOptions) -> None:
        await self.set_checkbox("comment_checkbox", not options.disable_comment, "comment")
        await self.set_checkbox("duet_checkbox", not options.disable_duet, "duet")
        await self.set_checkbox("stitch_checkbox", not options.disable_stitch, "stitch")
        disclose = options.brand_content_toggle or options.brand_organic_toggle
        await self.set_extra("disclose_switch", disclose, "branded content disclosure", True)
        if disclose:
            await self.set_checkbox(
                "brand_organic_checkbox", options.brand_organic_toggle, "your brand"
            )
            await self.set_checkbox(
                "brand_content_checkbox", options.brand_content_toggle, "branded content"
            )
        await self.set_extra("aigc_switch", options.is_aigc, "AI-generated content", True)

    async def page_zone(self) -> ZoneInfo:
        name = await self.page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    async def schedule_local(self, options: PostOptions, account: AccountRef) -> datetime | None:
        if not options.scheduled_at:
            return None
        when = parse_schedule(options.scheduled_at, options.timezone or account.timezone)
        return round_up_5min(when.astimezone(await self.page_zone()))

    async def set_schedule(self, options: PostOptions, account: AccountRef) -> datetime | None:
        local = await self.schedule_local(options, account)
        if local is None:
            if self.site.has("schedule_now_radio") and await self.present("schedule_now_radio"):
                await self.set_checkbox("schedule_now_radio", True, "post now")
            return None
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
            await (await self.find("schedule_later_radio")).check(timeout=ms)
            date_input = await self.find("schedule_date_input")
            if await _kind_of(date_input) in ("date", "text-editable"):
                await date_input.fill(date_text, timeout=ms)  # a native date field
            else:
                await date_input.click(timeout=ms)
                day = self.loc("calendar_day", date=date_text).filter(visible=True)
                for _ in range(3):
                    if await day.count():
                        break
                    await (await self.find("calendar_next_month")).click(timeout=ms)
                await (await self.find("calendar_day", date=date_text)).click(timeout=ms)
            time_input = await self.find("schedule_time_input")
            kind = await _kind_of(time_input)
            if kind == "select":
                await time_input.select_option(f"{hour}:{minute}", timeout=ms)
            elif kind in ("time", "text-editable"):
                await time_input.fill(f"{hour}:{minute}", timeout=ms)
            else:
                await time_input.click(timeout=ms)
                await (await self.find("time_hour_option", hour=hour)).click(timeout=ms)
                await (await self.find("time_minute_option", minute=minute)).click(timeout=ms)

        await self.step("set schedule", self.t.step, pick)
        return local

    async def schedule_shown(self) -> tuple[str, str]:
        ms = self.ms(self.t.step)
        shown_date = await (await self.find("schedule_date_input")).input_value(timeout=ms)
        shown_time = await (await self.find("schedule_time_input")).input_value(timeout=ms)
        return shown_date, shown_time

    async def fill(self, request: PublishRequest) -> datetime | None:
        await self.raise_if_blocked()
        await self.choose_file()
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
        button = await self.step(
            "find post button", self.t.step, lambda: self.find("post_button_enabled")
        )
        self.post_clicked = True  # from here on the outcome is unknown until confirmed
        await self.step(
            "click post", self.t.step, lambda: button.click(timeout=self.ms(self.t.step))
        )

        async def outcome() -> str:
            waiting = self.loc("success_modal").or_(self.el.union("captcha", self.page))
            waiting = waiting.or_(self.el.union("success_modal", self.page))
            for key in ("post_now_confirm", "error_toast"):
                if self.site.has(key):
                    waiting = waiting.or_(self.loc(key))
            try:
                await waiting.filter(visible=True).first.wait_for(
                    timeout=self.ms(self.t.post_result)
                )
            except PlaywrightTimeout:
                raise ElementMissing(
                    "success_modal", self.site.candidates("success_modal")
                ) from None
            if await self.present("post_now_confirm"):
                return "confirm"
            if await self.present("success_modal") or await self.el.present(
                "success_modal", root=self.page
            ):
                return "success"
            await self.raise_if_blocked()
            text = ""
            if await self.present("error_toast"):
                text = _norm(await self.loc("error_toast").filter(visible=True).first.inner_text())
            raise PublishError(
                f"the site did not accept the post: {text or 'no reason shown'}",
                code="post_refused",
                needs_attention=True,
            )

        result = await self.step("wait post result", self.t.post_result, outcome)
        if result == "confirm":

            async def confirm() -> None:
                await (await self.find("post_now_confirm")).click(timeout=self.ms(self.t.step))

            await self.step("confirm post now", self.t.step, confirm)
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
        rows = self.el.union("content_row", self.page)
        wanted = _norm(caption)
        for index in range(await rows.count()):
            row = rows.nth(index)
            text_el = self.el.union("content_row_caption", row)
            text = _norm(await (text_el.first if await text_el.count() else row).inner_text())
            if text != wanted and not (len(wanted) > 60 and text.startswith(wanted[:60])):
                continue
            link = self.el.union("content_row_link", row).first
            href = await link.get_attribute("href") if await link.count() else None
            if not href:
                continue
            status = ""
            if self.site.has("content_row_status"):
                status_el = self.el.union("content_row_status", row)
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


async def _kind_of(field: Locator) -> str:
    """How a schedule field takes its value: "select", "date"/"time" (native inputs),
    "text-editable" (a plain input one may type in), or "picker" (opens a popup)."""
    return str(
        await field.evaluate(
            """el => el.tagName === 'SELECT' ? 'select'
                : el.tagName === 'INPUT' && (el.type === 'date' || el.type === 'time') ? el.type
                : el.tagName === 'INPUT' && !el.readOnly && el.type === 'text' ? 'text-editable'
                : 'picker'"""
        )
    )


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
