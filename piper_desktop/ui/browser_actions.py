"""The browser layer as the GUI uses it: a visible window for an account, a session
check, cookie import/export. Plain Python (no Qt): every call blocks, so panels run them
through `run_task`. One Chromium host is started on first use and stopped at quit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..domain.proxies import proxy_url
from ..domain.services import Services
from ..domain.session_leases import SessionLeases
from ..logs import get_logger
from ..store.enums import AccountStatus

if TYPE_CHECKING:  # the browser layer is imported on first use (Playwright is heavy)
    from ..browser.host import BrowserHost
    from ..browser.profile import ProfileSettings
    from ..browser.sites import SiteConfig

log = get_logger("ui")


@dataclass(frozen=True)
class CookieResult:
    imported: int
    skipped: list[str]
    total: int


class BrowserActions:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._host: BrowserHost | None = None
        self._lock = threading.Lock()

    # --- the shared browser ------------------------------------------------------------
    def host(self) -> BrowserHost:
        from ..browser.host import BrowserHost
        from ..browser.profile import BrowserSettings

        with self._lock:
            if self._host is None:
                settings = self.services.settings
                overrides: dict[str, Any] = {
                    "max_contexts": int(settings.get("browser.max_contexts") or 4)
                }
                executable = settings.get("browser.executable")
                if executable:
                    overrides["executable"] = executable
                overrides["allow_no_sandbox"] = bool(settings.get("browser.allow_no_sandbox"))
                self._host = BrowserHost(BrowserSettings.from_env(**overrides)).start()
            return self._host

    def stop(self) -> None:
        with self._lock:
            host, self._host = self._host, None
        if host is not None:
            host.stop()

    def site(self) -> SiteConfig:
        from ..browser.sites import load_site

        settings = self.services.settings
        return load_site(
            "tiktok",
            override_path=settings.get("browser.selectors_file"),
            base_url=settings.get("tiktok.web_base"),
        )

    def _context_parts(
        self, account_id: int
    ) -> tuple[ProfileSettings, str | None, dict[str, Any] | None]:
        from ..browser.profile import ProfileSettings

        account = self.services.accounts.get(account_id)
        profile = account.profile
        options: dict[str, Any] = {"timezone_id": account.timezone or None}
        if profile is not None:
            options.update(
                user_agent=profile.user_agent,
                viewport_width=profile.viewport_width,
                viewport_height=profile.viewport_height,
                locale=profile.locale,
                timezone_id=profile.timezone or account.timezone or None,
                latitude=profile.geolocation_lat,
                longitude=profile.geolocation_lon,
                color_scheme=profile.color_scheme,
            )
        proxy = proxy_url(account.proxy) if account.proxy is not None else None
        state = self.services.accounts.storage_state(account_id)
        return ProfileSettings(**options), proxy, state

    # --- actions --------------------------------------------------------------------------
    def open_window(
        self, account_id: int, url: str | None = None, timeout: float | None = None
    ) -> str:
        """A visible window for the operator (log in, solve a captcha); blocks until it
        is closed, then keeps the session it ends with."""
        from ..browser.session import open_visible

        # not beside this desktop's own engine publishing on the same session either
        with SessionLeases(self.services.db).hold(account_id, "browser window", shared=False):
            profile, proxy, state = self._context_parts(account_id)
            site = self.site()
            final = open_visible(
                self.host(), profile, proxy, state, url or site.url("upload"), timeout
            )
            if final is not None:
                self.services.accounts.save_storage_state(account_id, final)
        return "browser closed; session saved" if final is not None else "browser closed"

    def resolve_job(self, job_id: int, timeout: float | None = None) -> str:
        """The job's page in the account's window; once the operator closes it, the job
        goes on (published only when certain nothing was posted twice)."""
        from ..engine.handoff import resolve_job, until_window_closed

        result = resolve_job(self.services, job_id, wait_for_operator=until_window_closed(timeout))
        status = result["status"]
        if status in ("published", "verifying", "submitted"):
            job = self.services.jobs.get(job_id)
            account = self.services.accounts.get(job.account_id)
            if account.status in (AccountStatus.NEEDS_LOGIN, AccountStatus.NEEDS_ATTENTION):
                self.services.accounts.set_status(account.id, AccountStatus.ACTIVE)
        return f"job #{job_id} {status.replace('_', ' ')}"

    def check_session(self, account_id: int) -> bool:
        """Is the account logged in? Saves the refreshed session and marks the account
        needs_login (or active again) to match."""
        from ..browser.session import check_logged_in

        with SessionLeases(self.services.db).hold(account_id, "login check", shared=False):
            profile, proxy, state = self._context_parts(account_id)
            logged_in, new_state = check_logged_in(
                self.host(), profile, proxy, state, self.site()
            )
            if new_state is not None and new_state != state:
                self.services.accounts.save_storage_state(account_id, new_state)
        account = self.services.accounts.get(account_id)
        if not logged_in and account.status != AccountStatus.DISABLED:
            self.services.accounts.set_status(
                account_id, AccountStatus.NEEDS_LOGIN, "no valid session: log in again"
            )
        elif logged_in and account.status == AccountStatus.NEEDS_LOGIN:
            self.services.accounts.set_status(account_id, AccountStatus.ACTIVE)
        return logged_in

    def import_cookies(self, account_id: int, text: str) -> CookieResult:
        from ..routes.web.cookie_files import import_cookie_text

        result = import_cookie_text(self.services, account_id, text)
        return CookieResult(result.imported, result.skipped, result.total)

    def export_cookies(self, account_id: int, fmt: str = "json") -> str:
        from ..browser.cookies import cookies_of, to_json, to_netscape

        cookies = cookies_of(self.services.accounts.storage_state(account_id))
        return to_netscape(cookies) if fmt == "netscape" else to_json(cookies)
