"""The web route's Publisher: posts through the account's own browser session on TikTok
Studio's upload page (the form itself is walked by `form.Attempt`).

On any failure the error carries a screenshot and the page's HTML. The storage state is
handed to `save_state` after every session, success or not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from piper_desktop.browser.host import BrowserHost
from piper_desktop.browser.profile import ProfileSettings
from piper_desktop.browser.session import VisibleWindow, is_login_url
from piper_desktop.browser.sites import SiteConfig
from piper_desktop.domain.media_limits import TIKTOK_WEB
from piper_desktop.domain.session_leases import SESSION_WAIT, SessionBusy, SessionLeases
from piper_desktop.logs import get_logger
from piper_desktop.routes.base import (
    AccountRef,
    CheckResult,
    CheckState,
    ProgressCallback,
    PublishError,
    PublishRequest,
    Receipt,
    ReceiptCallback,
)
from piper_desktop.routes.media_check import refuse_unfit_media
from piper_desktop.routes.spec import ProbeFinding
from piper_desktop.routes.web.form import Attempt, StepTimeout, WebTimeouts
from piper_desktop.routes.web.locate import Match
from piper_desktop.routes.web.probe import probe_page
from piper_desktop.routes.web.readback import read_back
from piper_desktop.store.enums import JobRoute

log = get_logger("routes")
T = TypeVar("T")

StateLoader = Callable[[AccountRef], "dict[str, Any] | None"]
# (site name, element -> the candidate that matched): where drift is recorded
MatchSink = Callable[[str, "dict[str, Match]"], None]
StateSaver = Callable[[AccountRef, "dict[str, Any]"], None]
ProfileLookup = Callable[[AccountRef], ProfileSettings]


@dataclass
class Handoff:
    """A visible window an operator works in for one job (see begin_handoff)."""

    request: PublishRequest
    window: VisibleWindow
    blocked_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.window.is_open

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Block until the operator closes the window; False when `timeout` passed."""

        async def work() -> bool:
            try:
                await self.window.wait_closed(timeout)
            except TimeoutError:
                return False
            return True

        return self.window.host.run(work)

    def close(self) -> None:
        """Close the window for the operator (the session is saved on resume)."""
        self.window.host.run(self.window.close)


class WebPublisher:
    """The browser route: posts through TikTok Studio's web upload page."""

    def __init__(
        self,
        host: BrowserHost,
        site: SiteConfig,
        *,
        load_state: StateLoader,
        save_state: StateSaver,
        profile_for: ProfileLookup | None = None,
        timeouts: WebTimeouts | None = None,
        route: str = JobRoute.BROWSER,
        on_matches: MatchSink | None = None,
        sessions: SessionLeases | None = None,
    ) -> None:
        self.host = host
        # one machine at a time per account session (domain/session_leases.py)
        self.sessions = sessions
        self.site = site
        self.load_state = load_state
        self.save_state = save_state
        self.profile_for = profile_for or default_profile
        self.timeouts = timeouts or WebTimeouts()
        self.route = route
        self.on_matches = on_matches

    # --- helpers -----------------------------------------------------------------------
    def _run(self, work: Callable[[], Awaitable[T]]) -> T:
        if not self.host.started:
            self.host.start()
        return self.host.run(work)

    async def _with_page(
        self,
        account: AccountRef,
        work: Callable[[Page], Awaitable[T]],
    ) -> T:
        await self.host.on_caller(self._take_session, account, "publishing")
        try:
            state = await self.host.on_caller(self.load_state, account)
            profile = await self.host.on_caller(self.profile_for, account)
            async with self.host.session(
                profile,
                account.proxy_url,
                state,
                on_state=lambda new_state: self.save_state(account, new_state),
            ) as lease:
                page = await lease.context.new_page()
                return await work(page)
        finally:
            await self.host.on_caller(self._release_session, account)

    def _take_session(self, account: AccountRef, purpose: str) -> None:
        if self.sessions is None:
            return
        try:
            self.sessions.take(account.id, purpose)
        except SessionBusy as exc:
            # nothing was sent: the engine tries again once the other desktop is done
            raise PublishError(
                str(exc),
                code="session_busy",
                retryable=True,
                certainly_not_posted=True,
                retry_after=SESSION_WAIT,
            ) from None

    def _release_session(self, account: AccountRef) -> None:
        if self.sessions is not None:
            self.sessions.release(account.id)

    @staticmethod
    def _fail(exc: BaseException, attempt: Attempt, artifacts: dict[str, bytes]) -> PublishError:
        if isinstance(exc, PublishError):
            error = exc
        elif isinstance(exc, StepTimeout):
            error = PublishError(
                str(exc),
                code="step_timeout",
                retryable=not attempt.post_clicked,
                needs_attention=attempt.post_clicked,
                certainly_not_posted=not attempt.post_clicked,
            )
        else:
            message = exc.message if isinstance(exc, PlaywrightError) else str(exc)
            error = PublishError(
                f"browser error during step '{attempt.step_name}': {message.splitlines()[0]}",
                code="browser_error",
                retryable=not attempt.post_clicked,
                needs_attention=attempt.post_clicked,
                certainly_not_posted=not attempt.post_clicked,
            )
        if not error.artifacts:
            error.artifacts = artifacts
        return error

    async def _publish(
        self,
        attempt: Attempt,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        *,
        navigate: bool = True,
    ) -> Receipt:
        try:
            if navigate:
                await attempt.open_upload()
            else:
                await attempt.find_form()
            scheduled = await attempt.fill(request)
            await read_back(attempt, request, scheduled)
            evidence = await attempt.post()
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self._fail(exc, attempt, await attempt.artifacts()) from exc
        finally:
            await self.report_matches(attempt)
        await attempt.progress("posted; looking up the post", 0.9)
        try:
            url = await attempt.find_post_url(request.caption, go=False)
        except (PublishError, StepTimeout, PlaywrightError) as exc:
            log.warning("posted, but the content page did not show the post: %s", exc)
            url = None
        receipt = Receipt(
            kind="post_url",
            value=url or fallback_post_id(request),
            post_url=url,
            extra={
                "evidence_png": evidence,
                "post_url": url,
                "scheduled_at": scheduled.isoformat() if scheduled else None,
                # what the page did not offer (a suggestion, an extra): kept with the receipt
                "notes": "; ".join(attempt.notes) or None,
                "fallbacks": ", ".join(
                    f"{key}: {m.candidate}" for key, m in attempt.matched.items() if m.fallback
                )
                or None,
            },
        )
        await self.host.on_caller(on_receipt, receipt)
        return receipt

    async def report_matches(self, attempt: Attempt) -> None:
        if self.on_matches is not None and attempt.matched:
            try:
                await self.host.on_caller(self.on_matches, self.site.name, dict(attempt.matched))
            except Exception as exc:  # the drift record must never cost a post
                log.warning("could not record which selectors matched: %s", exc)

    # --- Publisher ----------------------------------------------------------------------
    def submit(
        self,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        refuse_unfit_media(request, TIKTOK_WEB)  # before any browser starts

        async def work(page: Page) -> Receipt:
            attempt = Attempt(self, page, request, on_progress)
            return await self._publish(attempt, request, on_receipt)

        return self._run(lambda: self._with_page(request.account, work))

    def check(self, request: PublishRequest, receipt: Receipt) -> CheckResult:
        scheduled_at = receipt.extra.get("scheduled_at") if receipt.extra else None
        if scheduled_at:
            when = datetime.fromisoformat(scheduled_at)
            left = (when - datetime.now(when.tzinfo)).total_seconds()
            if left > 0:
                return CheckResult(
                    CheckState.PENDING, post_url=receipt.post_url, next_check_in=left + 60
                )
        if receipt.post_url and not scheduled_at:
            return CheckResult(CheckState.PUBLISHED, post_url=receipt.post_url)
        found = self._look_up(request)
        if found is None:
            return CheckResult(
                CheckState.NEEDS_ATTENTION,
                reason="the post is not on the account's content page",
            )
        url, status = found
        if status == self.site.texts.get("status_scheduled", "Scheduled"):
            return CheckResult(CheckState.PENDING, post_url=url, next_check_in=300)
        return CheckResult(CheckState.PUBLISHED, post_url=url)

    def _look_up(self, request: PublishRequest) -> tuple[str, str] | None:
        async def work(page: Page) -> tuple[str, str] | None:
            return await Attempt(self, page, request, None).find_post(request.caption, go=True)

        return self._run(lambda: self._with_page(request.account, work))

    def reconcile(self, request: PublishRequest) -> Receipt | None:
        """After a crash: the post if the content page lists it, None if it does not."""
        try:
            found = self._find_on_content_page(request)
        except StepTimeout as exc:
            raise PublishError(str(exc), code="step_timeout", needs_attention=True) from None
        if found is None:
            return None
        return Receipt(kind="post_url", value=found, post_url=found, extra={"post_url": found})

    def _find_on_content_page(self, request: PublishRequest) -> str | None:
        async def work(page: Page) -> str | None:
            attempt = Attempt(self, page, request, None)
            return await attempt.find_post_url(request.caption, go=True)

        return self._run(lambda: self._with_page(request.account, work))

    # --- probe ----------------------------------------------------------------------------
    def probe(self, account: AccountRef, media_path: Path | None = None) -> list[ProbeFinding]:
        """Walk the upload page as far as just before posting; per element, found and
        which candidate matched.

        Never clicks Post. Without `media_path` only what precedes the upload is checked."""

        async def work(page: Page) -> list[ProbeFinding]:
            return await probe_page(self, page, media_path)

        return self._run(lambda: self._with_page(account, work))

    # --- operator hand-off ----------------------------------------------------------------
    def begin_handoff(
        self, request: PublishRequest, on_progress: ProgressCallback | None = None
    ) -> Handoff:
        """Open a visible window on the upload page with the job's form filled as far as
        the site lets us; whatever blocks (a captcha) is left for the operator."""

        async def work() -> Handoff:
            # held until the hand-off ends (resume_after_handoff releases it)
            await self.host.on_caller(self._take_session, request.account, "operator window")
            state = await self.host.on_caller(self.load_state, request.account)
            profile = await self.host.on_caller(self.profile_for, request.account)
            window = await VisibleWindow.open(
                self.host, profile, request.account.proxy_url, state, self.site.url("upload")
            )
            attempt = Attempt(self, window.page, request, on_progress)
            blocked: str | None = None
            try:
                await attempt.find_form()
                await attempt.fill(request)
            except PublishError as exc:
                blocked = exc.code or exc.reason
            except (StepTimeout, PlaywrightError) as exc:
                blocked = str(exc).splitlines()[0]
            await attempt.disarm()
            return Handoff(request, window, blocked)

        return self._run(work)

    def resume_after_handoff(
        self,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        handoff: Handoff | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        """Carry on after the operator resolved what blocked the job.

        - If the hand-off window is still open and the form is still there, continue in
          it (no second upload).
        - Otherwise look at the content page: a post with this caption is this job's post
          (returned as the receipt); if the page certainly lists none, publish anew; if
          the content page cannot be read, the job still needs a person."""
        try:
            return self._resume_after_handoff(request, on_receipt, handoff, on_progress)
        finally:
            self._release_session(request.account)  # taken by begin_handoff

    def _resume_after_handoff(
        self,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        handoff: Handoff | None,
        on_progress: ProgressCallback | None,
    ) -> Receipt:

        async def in_window() -> Receipt | None:
            assert handoff is not None
            attempt = Attempt(self, handoff.window.page, request, on_progress)
            try:
                form_there = await attempt.loc("file_input").count() > 0 or await attempt.visible(
                    attempt.loc("upload_status")
                )
                if is_login_url(handoff.window.page.url, self.site) or not form_there:
                    return None
                return await self._publish(attempt, request, on_receipt, navigate=False)
            finally:
                state = await handoff.window.close()
                if state is not None:
                    await self.host.on_caller(self.save_state, request.account, state)

        if handoff is not None:
            if handoff.is_open:
                receipt = self._run(in_window)
                if receipt is not None:
                    return receipt
            else:
                state = self._run(handoff.window.close)
                if state is not None:
                    self.save_state(request.account, state)
        try:
            found = self._find_on_content_page(request)
        except (StepTimeout, PlaywrightError) as exc:
            raise PublishError(
                f"cannot tell whether the post went out: {exc}",
                code="unknown_outcome",
                needs_attention=True,
            ) from None
        if found is not None:
            receipt = Receipt(
                kind="post_url", value=found, post_url=found, extra={"post_url": found}
            )
            on_receipt(receipt)
            return receipt
        return self.submit(request, on_receipt, on_progress)


def default_profile(account: AccountRef) -> ProfileSettings:
    try:
        ZoneInfo(account.timezone)
        zone: str | None = account.timezone
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    return ProfileSettings(timezone_id=zone)


def fallback_post_id(request: PublishRequest) -> str:
    """Identifies a web post when the site showed no URL: account, file, time."""
    return f"web:{request.account.username}:{request.media_sha256[:16]}:{int(time.time())}"
