"""Resolve a job that waits for the operator the way its reason needs (the Dashboard's
attention list, the Jobs panel's Resolve):

- not connected to its route (or the API login expired) → that route's connect flow,
  then the job is queued again — only once the account is connected;
- wrong route (the route cannot be used) → pick another route, then queue it again;
- unknown outcome → the account's profile opens, and the operator gives the post's
  address to mark it published (or leaves it as it is);
- login and captcha stay the browser's (dashboard.py: a login window, or the job's
  hand-off where the route offers one).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from ..domain.planner import AttentionItem
from ..routes.connected import not_connected
from ..routes.registry import default_routes
from .browser_actions import BrowserActions
from .connect_flow import ConnectFlow
from .context import AppContext
from .tasks import run_task


class JobResolver:
    def __init__(
        self, ctx: AppContext, owner: QWidget, browser: BrowserActions | None = None
    ) -> None:
        self.ctx = ctx
        self.owner = owner
        self.browser = browser
        self.flow: ConnectFlow | None = None
        self.dialog: Any = None

    def handles(self, item: AttentionItem) -> bool:
        return item.job_id is not None and item.action in ("connect", "change_route", "check")

    def resolve(self, item: AttentionItem) -> None:
        if item.action == "connect":
            self.connect(item)
        elif item.action == "change_route":
            self.change_route(item)
        elif item.action == "check":
            self.check(item)

    # --- not connected: the route's connect flow, then the job again -----------------------
    def connect(self, item: AttentionItem) -> None:
        assert item.job_id is not None and item.account_id is not None
        job_id, account_id = item.job_id, item.account_id
        services = self.ctx.services
        route = item.route or services.jobs.get(job_id).route
        username = services.accounts.get(account_id).username

        def then_retry() -> None:
            def retry() -> str:
                if not_connected(services, route, [account_id]):
                    return f"@{username} is still not connected; job #{job_id} keeps waiting"
                services.jobs.retry(job_id)
                return f"job #{job_id} queued again"

            run_task(retry, self._said, self._failed, owner=self.owner)

        self.flow = ConnectFlow(
            self.ctx, self.owner, route, [(account_id, username)], then_retry, self.browser
        )
        self.flow.start()

    # --- wrong route: another one, then the job again ------------------------------------------
    def change_route(self, item: AttentionItem) -> None:
        from .dialogs import choose

        assert item.job_id is not None
        job_id = item.job_id
        current = item.route or self.ctx.services.jobs.get(job_id).route
        choices = [(spec.label, spec.name) for spec in default_routes() if spec.name != current]
        services = self.ctx.services

        def chosen(route: str | None) -> None:
            if not route:
                return

            def change() -> str:
                services.jobs.change_route(job_id, route)
                services.jobs.retry(job_id)
                return f"job #{job_id} now goes through {route}, queued again"

            run_task(change, self._said, self._failed, owner=self.owner)

        self.dialog = choose(
            self.owner,
            "Change the route",
            f"Job #{job_id} cannot go through {current}. Post it through:",
            choices,
            chosen,
        )

    # --- unknown outcome: look at the profile, then mark it ------------------------------------
    def check(self, item: AttentionItem) -> None:
        from .dialogs import ask_text

        assert item.job_id is not None and item.account_id is not None
        job_id = item.job_id
        services = self.ctx.services
        username = services.accounts.get(item.account_id).username
        base = str(services.settings.get("tiktok.web_base") or "").rstrip("/")
        self.ctx.open_url(f"{base}/@{username}")

        def mark(url: str) -> None:
            url = url.strip()
            if not url:
                return
            run_task(
                lambda: services.jobs.mark_published(job_id, url) and None,
                lambda _r: self._said(f"job #{job_id} marked published"),
                self._failed,
                owner=self.owner,
            )

        self.dialog = ask_text(
            self.owner,
            "Did it go out?",
            f"Job #{job_id}: nobody knows whether the post went out. Look at @{username}'s "
            "profile; if the post is there, paste its address to mark the job published.",
            mark,
        )

    def _said(self, text: str) -> None:
        self.ctx.success(text)
        self.ctx.changed("jobs")
        self.ctx.changed("accounts")

    def _failed(self, exc: BaseException) -> None:
        self.ctx.error(str(exc))
