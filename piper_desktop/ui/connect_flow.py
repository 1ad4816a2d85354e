"""Connecting accounts to a route from wherever the GUI finds them unconnected (the
campaign wizard's review, Resolve on a "not connected" job): the "Connect accounts"
dialog (ui/bulk_connect.py) over those accounts — TikTok sign-ins one after another,
Upload-Post profiles by name, browser sessions from cookies files or a login window.
`on_done` runs when the dialog closes; the caller asks again who is connected."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtWidgets import QWidget

from .browser_actions import BrowserActions
from .bulk_connect import BulkConnectDialog, open_bulk_connect
from .context import AppContext


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
        self.accounts = list(accounts)
        self.on_done = on_done
        self.browser = browser
        self.dialog: BulkConnectDialog | None = None

    def start(self) -> None:
        self.dialog = open_bulk_connect(
            self.ctx, self.owner, self.route, self.accounts, self._closed, browser=self.browser
        )

    @property
    def connected(self) -> list[str]:
        rows = self.dialog.rows if self.dialog is not None else []
        return [r.username for r in rows if r.kind == "connected"]

    def _closed(self) -> None:
        self.ctx.changed("accounts")
        self.on_done()
