"""Adapter between the engine and the browser layer (browser/, publishing/web.py).

Builds the `WebPublisher` with one shared `BrowserHost`, hands it the account's stored
session and browser profile from the vault, and answers the readiness question "is the
stored session still logged in?". Imported lazily: Playwright loads only when a job
actually takes the browser route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.services import Services
from ..logs import get_logger
from ..publishing.base import AccountRef, Publisher, PublishError

log = get_logger("engine")


def _not_available(reason: str) -> PublishError:
    return PublishError(
        reason, code="route_not_configured", certainly_not_posted=True, needs_attention=True
    )


def profile_settings(services: Services, account_id: int) -> Any:
    """The account's browser profile as the browser layer's ProfileSettings."""
    from ..browser.profile import ProfileSettings

    account = services.accounts.get(account_id)
    profile = account.profile
    zone = account.timezone if account.timezone and account.timezone != "UTC" else None
    if profile is None:
        return ProfileSettings(timezone_id=zone)
    return ProfileSettings(
        user_agent=profile.user_agent or None,
        viewport_width=profile.viewport_width,
        viewport_height=profile.viewport_height,
        locale=profile.locale or None,
        timezone_id=profile.timezone or zone,
        latitude=profile.geolocation_lat,
        longitude=profile.geolocation_lon,
        color_scheme=profile.color_scheme or None,
    )


def build_web_publisher(
    services: Services, values: dict[str, Any]
) -> tuple[Publisher, Callable[[], None]]:
    try:
        from ..browser.host import BrowserHost
        from ..browser.profile import BrowserSettings
        from ..browser.sites import load_site
        from ..publishing.web import WebPublisher
    except ImportError as exc:  # Playwright missing from this installation
        raise _not_available(f"the browser route is not available here: {exc}") from None
    overrides: dict[str, Any] = {}
    if values.get("browser.executable"):
        overrides["executable"] = str(values["browser.executable"])
    if values.get("browser.max_contexts"):
        overrides["max_contexts"] = int(values["browser.max_contexts"])
    if values.get("browser.headless") is not None:
        overrides["headless"] = bool(values["browser.headless"])
    host = BrowserHost(BrowserSettings.from_env(**overrides))
    try:
        site = load_site(
            "tiktok",
            override_path=values.get("browser.selectors_file") or None,
            base_url=values.get("tiktok.web_base") or None,
        )
    except (OSError, ValueError) as exc:
        raise _not_available(f"the site selectors cannot be loaded: {exc}") from None

    def load_state(account: AccountRef) -> dict[str, Any] | None:
        return services.accounts.storage_state(account.id)

    def save_state(account: AccountRef, state: dict[str, Any]) -> None:
        services.accounts.save_storage_state(account.id, state)

    publisher = WebPublisher(
        host,
        site,
        load_state=load_state,
        save_state=save_state,
        profile_for=lambda account: profile_settings(services, account.id),
    )
    return publisher, host.stop


def session_problem(publisher: Any, services: Services, account: AccountRef) -> str | None:
    """Why the account's stored browser session cannot post, or None if it can."""
    from ..browser.session import BrowserSessionError, check_logged_in

    state = services.accounts.storage_state(account.id)
    if not publisher.host.started:
        publisher.host.start()
    try:
        logged_in, new_state = check_logged_in(
            publisher.host,
            profile_settings(services, account.id),
            account.proxy_url,
            state,
            publisher.site,
        )
    except BrowserSessionError as exc:
        # the network or the proxy; the proxy has its own check: ask again later
        raise PublishError(f"the browser could not reach the site: {exc}", retryable=True) from None
    if new_state is not None and new_state != state:
        services.accounts.save_storage_state(account.id, new_state)
    if not logged_in:
        return "the stored browser session is logged out; log in again with `piper browser open`"
    return None


def probe_selectors(publisher: Any, account: AccountRef) -> list[str]:
    """Selector names the upload page no longer shows (empty: all found)."""
    return [name for name, found in publisher.probe(account) if not found]
