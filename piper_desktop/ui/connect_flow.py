"""Connecting accounts to a route from wherever the GUI finds them unconnected (the
campaign wizard's review, Resolve on a "not connected" job): the route's own connect
flow, one account after another — TikTok API consent in the browser, an Upload-Post
profile name, a browser window to log in. The flows themselves are route_connect's and
BrowserActions'; this only walks the accounts and says how each went."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtWidgets import QWidget

from ..store.enums import JobRoute
from .browser_actions import BrowserActions
from .context import AppContext
from .tasks import run_task


class ConnectFlow:
    """Connect `accounts` ((id, username) pairs) to `route`, then call `on_done`."""

    def __init__(
        self,
        ctx: AppContext,
        owner: QWidget,
        route: str,
        accounts: Sequence[tuple[int, str]],
        on_done: Callable[[], None],
        browser: BrowserActions | None = None,
    ) -> None:
        self.ctx = ctx
        self.owner = owner
        self.route = route
        self.left = list(accounts)
        self.on_done = on_done
        self.browser = browser
        self.connected: list[str] = []
        self.dialog: Any = None

    def start(self) -> None:
        self._next()

    def _next(self) -> None:
        if not self.left:
            self.ctx.changed("accounts")
            self.on_done()
            return
        account_id, username = self.left.pop(0)
        services = self.ctx.services
        if self.route == JobRoute.TIKTOK_API:
            from .route_connect import connect_tiktok

            self.ctx.info(f"Connecting @{username} to the TikTok API: consent in your browser…")
            self._run(username, lambda: connect_tiktok(services, account_id, self.ctx.request_url))
        elif self.route == JobRoute.UPLOAD_POST:
            from .dialogs import ask_text

            def with_profile(profile: str) -> None:
                from .route_connect import connect_upload_post

                self._run(username, lambda: connect_upload_post(services, account_id, profile))

            self.dialog = ask_text(
                self.owner,
                "Connect Upload-Post",
                f"Upload-Post profile name for @{username}:",
                with_profile,
            )
            self.dialog.rejected.connect(self._stop)
        else:
            browser = self.browser or BrowserActions(services)
            self.browser = browser
            self.ctx.info(f"Log @{username} in in the browser window, then close it.")
            self._run(username, lambda: browser.open_window(account_id))

    def _stop(self) -> None:
        """The operator cancelled: the rest are not asked; the caller checks again."""
        self.left.clear()
        self._next()

    def _run(self, username: str, work: Callable[[], Any]) -> None:
        def done(result: Any) -> None:
            warning = result.get("warning") if isinstance(result, dict) else None
            if warning:
                self.ctx.warn(f"Connected, but {warning}")
            else:
                self.ctx.success(f"@{username} connected")
            self.connected.append(username)
            self._next()

        def failed(exc: BaseException) -> None:
            self.ctx.error(f"@{username}: {exc}")
            self._next()

        run_task(work, done, failed, owner=self.owner)
