"""The account's browser session and profile, as the web route and `piper browser` use
them: the profile from the vault as the browser layer's settings, and the question "is
the stored session still logged in?"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...browser.profile import ProfileSettings
from ...domain.services import Services
from ...domain.session_leases import SessionBusy, SessionLeases
from ..base import AccountRef, PublishError

if TYPE_CHECKING:
    from .publisher import WebPublisher


def profile_settings(services: Services, account_id: int) -> ProfileSettings:
    """The account's browser profile as the browser layer's ProfileSettings."""
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


def session_problem(publisher: WebPublisher, services: Services, account: AccountRef) -> str | None:
    """Why the account's stored browser session cannot post, or None if it can."""
    # Playwright loads only when a browser job or command asks
    from ...browser.session import BrowserSessionError, check_logged_in

    leases = SessionLeases(services.db)
    try:
        leases.take(account.id, "login check", shared=False)
    except SessionBusy:
        return None  # someone has the session open (logged in, then): not ours to judge now
    try:
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
            raise PublishError(
                f"the browser could not reach the site: {exc}", retryable=True
            ) from None
        if new_state is not None and new_state != state:
            services.accounts.save_storage_state(account.id, new_state)
    finally:
        leases.release(account.id)
    if not logged_in:
        return "the stored browser session is logged out; log in again with `piper browser open`"
    return None
