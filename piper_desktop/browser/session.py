"""Account sessions in the browser: is this account logged in, and a window for a person.

- `check_logged_in`: logged in means the site's session cookie is present and the upload
  page does not redirect to the login page. Returns the updated storage state too.
- `open_visible` (for `piper browser open ACCOUNT`): a headed window at a URL; returns
  the storage state when the operator closes it. `VisibleWindow` is the same thing as
  an object, for callers (the web publisher's hand-off) that keep driving the page.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, Page
from playwright.async_api import Error as PlaywrightError

from piper_desktop.browser.cookies import find_cookie
from piper_desktop.browser.host import BrowserHost, capture_state
from piper_desktop.browser.profile import ProfileSettings
from piper_desktop.browser.sites import SiteConfig
from piper_desktop.logs import get_logger

log = get_logger("browser")

# Chromium's network error names -> what an operator should read.
_NET_ERRORS = {
    "ERR_PROXY_CONNECTION_FAILED": "proxy unreachable",
    "ERR_TUNNEL_CONNECTION_FAILED": "proxy refused the connection",
    "ERR_PROXY_AUTH_UNSUPPORTED": "proxy authentication failed (407)",
    "ERR_INVALID_AUTH_CREDENTIALS": "proxy authentication failed (407)",
    "ERR_PROXY_AUTH_REQUESTED": "proxy authentication failed (407)",
    "ERR_NAME_NOT_RESOLVED": "host not found",
    "ERR_CONNECTION_REFUSED": "connection refused",
    "ERR_CONNECTION_RESET": "connection reset",
    "ERR_TIMED_OUT": "connection timed out",
    "ERR_INTERNET_DISCONNECTED": "no network",
}


class BrowserSessionError(RuntimeError):
    pass


def describe_navigation_error(exc: PlaywrightError) -> str:
    message = exc.message or str(exc)
    for code, meaning in _NET_ERRORS.items():
        if code in message:
            return f"{meaning} ({code})"
    return message.splitlines()[0] if message else "navigation failed"


def is_login_url(url: str, site: SiteConfig) -> bool:
    return urlsplit(url).path.rstrip("/") == site.path("login").rstrip("/")


async def check_logged_in_async(
    host: BrowserHost,
    profile: ProfileSettings,
    proxy_url: str | None,
    storage_state: dict[str, Any] | None,
    site: SiteConfig,
) -> tuple[bool, dict[str, Any] | None]:
    if find_cookie(storage_state, site.session_cookie, site.host) is None:
        return False, storage_state  # nothing to try: no session cookie for this site
    async with host.session(profile, proxy_url, storage_state) as lease:
        page = await lease.context.new_page()
        try:
            response = await page.goto(site.url("upload"), wait_until="domcontentloaded")
        except PlaywrightError as exc:
            raise BrowserSessionError(describe_navigation_error(exc)) from None
        if response is not None and response.status == 407:
            raise BrowserSessionError("proxy authentication failed (407)")
        redirected = is_login_url(page.url, site)
    state = lease.state if lease.state is not None else storage_state
    logged_in = not redirected and find_cookie(state, site.session_cookie, site.host) is not None
    return logged_in, state


def check_logged_in(
    host: BrowserHost,
    profile: ProfileSettings,
    proxy_url: str | None,
    storage_state: dict[str, Any] | None,
    site: SiteConfig,
    timeout: float = 90,
) -> tuple[bool, dict[str, Any] | None]:
    """(logged in?, updated storage state). Raises BrowserSessionError on network trouble."""
    return host.run(
        lambda: check_logged_in_async(host, profile, proxy_url, storage_state, site), timeout
    )


class VisibleWindow:
    """A headed browser window for one account, until the operator closes it."""

    def __init__(self, host: BrowserHost, context: BrowserContext, page: Page) -> None:
        self.host = host
        self.context = context
        self.page = page
        self.last_state: dict[str, Any] | None = None
        self._closed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        context.on("page", self._watch)
        self._watch(page)
        context.on("close", lambda _c: self._closed.set())

    def _watch(self, page: Page) -> None:
        page.on("close", self._page_closed)
        page.on("load", lambda _p: self._spawn_snapshot())

    def _spawn_snapshot(self) -> None:
        task = asyncio.ensure_future(self._snapshot())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _page_closed(self, _page: Page) -> None:
        if not self.context.pages:
            self._closed.set()

    async def _snapshot(self) -> None:
        # Keep the latest state: if the operator quits the whole browser, the context
        # is gone before we can ask it.
        state = await capture_state(self.context)
        if state is not None:
            self.last_state = state

    @classmethod
    async def open(
        cls,
        host: BrowserHost,
        profile: ProfileSettings,
        proxy_url: str | None,
        storage_state: dict[str, Any] | None,
        url: str,
    ) -> VisibleWindow:
        context = await host.open_context(profile, proxy_url, storage_state, visible=True)
        page = await context.new_page()
        window = cls(host, context, page)
        window.last_state = storage_state
        try:
            await page.goto(url, wait_until="domcontentloaded")
        except PlaywrightError as exc:
            log.warning(
                "visible window could not load its page: %s", describe_navigation_error(exc)
            )
        return window

    @property
    def is_open(self) -> bool:
        return not self._closed.is_set() and not self.page.is_closed()

    async def wait_closed(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._closed.wait(), timeout)

    async def close(self) -> dict[str, Any] | None:
        """Close the window; returns the final storage state (or the last one seen)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        state = await capture_state(self.context)
        if state is not None:
            self.last_state = state
        with contextlib.suppress(PlaywrightError):
            await self.context.close()
        return self.last_state


async def open_visible_async(
    host: BrowserHost,
    profile: ProfileSettings,
    proxy_url: str | None,
    storage_state: dict[str, Any] | None,
    url: str,
    timeout: float | None = None,
) -> dict[str, Any] | None:
    window = await VisibleWindow.open(host, profile, proxy_url, storage_state, url)
    with contextlib.suppress(TimeoutError):
        await window.wait_closed(timeout)
    return await window.close()


def open_visible(
    host: BrowserHost,
    profile: ProfileSettings,
    proxy_url: str | None,
    storage_state: dict[str, Any] | None,
    url: str,
    timeout: float | None = None,
) -> dict[str, Any] | None:
    """Open a window at `url`; block until the operator closes it (or `timeout`).

    Returns the storage state to store for the account."""
    return host.run(
        lambda: open_visible_async(host, profile, proxy_url, storage_state, url, timeout)
    )
