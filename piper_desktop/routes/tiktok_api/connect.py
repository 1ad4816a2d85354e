"""Connecting an account to the TikTok Content Posting API route (CLI and GUI).

Reads the endpoints and the app's keys from settings and keeps the token pair in the
vault through the accounts service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...clients.tiktok import TikTokClient, TokenSet
from ...domain.accounts import normalise_username
from ...domain.errors import ValidationError
from ...domain.name_match import same_name
from ...domain.proxies import proxy_url
from ...domain.services import Services
from ...store.enums import JobRoute
from ...store.models import Account
from ..settings import required_setting


def tiktok_client(services: Services, account: Account | None = None) -> TikTokClient:
    proxy = account.proxy if account is not None else None
    return TikTokClient(
        client_key=required_setting(services, "tiktok.client_key"),
        client_secret=required_setting(services, "tiktok.client_secret"),
        api_base=services.settings.get("tiktok.api_base"),
        auth_url=services.settings.get("tiktok.auth_url"),
        proxy_url=proxy_url(proxy) if proxy is not None else None,
    )


def connect_tiktok(
    services: Services,
    account: Account,
    *,
    open_url: Callable[[str], object] | None = None,
    refresh_token: str | None = None,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """OAuth 2.0 + PKCE through the system browser and a loopback listener, or an
    existing refresh token (headless). Saves the token pair at once and returns what the
    platform says about the creator (never the tokens)."""
    if refresh_token:
        with tiktok_client(services, account) as client:
            return _keep(services, account, client, client.refresh(refresh_token))
    if open_url is None:
        raise ValidationError("refresh_token", "give a refresh token or a way to open the browser")
    with TikTokConsent(services, account, timeout=timeout) as consent:
        open_url(consent.url)
        return consent.wait()


class TikTokConsent:
    """One account's sign-in in steps, for flows that show the link (to copy or open)
    and may cancel the wait: the listener is up once this exists; `wait` blocks until
    the person consents, the time limit passes, or `cancel` (any thread) is called —
    then it saves the tokens like `connect_tiktok`. Close it (or use `with`)."""

    def __init__(self, services: Services, account: Account, *, timeout: float = 300.0) -> None:
        self.services = services
        self.account = account
        self.timeout = timeout
        self._client = tiktok_client(services, account)
        try:
            self._sign_in = self._client.loopback_authorization()
        except BaseException:
            self._client.close()
            raise
        self.url = self._sign_in.url

    def wait(self) -> dict[str, Any]:
        """OAuthCancelled when cancelled, OAuthError on refusal or timeout."""
        tokens = self._sign_in.wait(self.timeout)
        return _keep(self.services, self.account, self._client, tokens)

    def cancel(self) -> None:
        self._sign_in.cancel()

    def close(self) -> None:
        self._sign_in.close()
        self._client.close()

    def __enter__(self) -> TikTokConsent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _keep(
    services: Services, account: Account, client: TikTokClient, tokens: TokenSet
) -> dict[str, Any]:
    """Save the token pair at once, then who it posts as; what the platform says about
    the creator (never the tokens)."""
    route = JobRoute.TIKTOK_API.value
    services.accounts.save(account.id, route, tokens.to_credentials())
    creator = client.creator_info(tokens.access_token)
    mismatch = identity_mismatch(account.username, creator.username)
    # kept beside the tokens: who the pair posts as, and whether that was a surprise
    services.accounts.save(
        account.id,
        route,
        {
            **tokens.to_credentials(),
            "creator_username": creator.username,
            "identity_mismatch": mismatch is not None,
            # what `jobs add` names when --privacy is missing (compliance mode)
            "privacy_level_options": list(creator.privacy_level_options),
        },
    )
    result: dict[str, Any] = {
        "account": f"{account.platform}:{account.username}",
        "route": route,
        "open_id": tokens.open_id,
        "scope": tokens.scope,
        "creator_username": creator.username,
        "privacy_level_options": list(creator.privacy_level_options),
        "max_video_post_duration_sec": creator.max_video_post_duration_sec,
    }
    if mismatch is not None:
        result["warning"] = mismatch
    return result


def identity_mismatch(username: str, creator_username: str | None) -> str | None:
    """A warning when the TikTok login belongs to another creator than the account's
    name says (posts would go out under that creator), else None."""
    if not creator_username or same_name(username, creator_username):
        return None
    return (
        f"@{normalise_username(username)} is now connected to the TikTok creator "
        f"@{normalise_username(creator_username)}: posts will go out as "
        f"@{normalise_username(creator_username)}; if that is wrong, connect it again "
        "signed in as the right creator"
    )
