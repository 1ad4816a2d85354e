"""Connecting an account to a publishing route, and caption suggestions for the library.

The CLI and the GUI both call these; they read endpoints and keys from settings and keep
what they obtain (tokens, profile names) in the vault through the accounts service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..clients.openrouter import OpenRouterClient
from ..clients.tiktok import TikTokClient, TokenSet
from ..clients.upload_post import UploadPostClient
from ..domain.errors import ValidationError
from ..domain.proxies import proxy_url
from ..domain.services import Services
from ..store.models import Account
from .captions import suggest_captions


def _required_setting(services: Services, key: str) -> str:
    value = services.settings.get(key)
    if not value:
        raise ValidationError(key, f"is not set: piper settings set {key} --stdin")
    return str(value)


def tiktok_client(services: Services, account: Account | None = None) -> TikTokClient:
    proxy = account.proxy if account is not None else None
    return TikTokClient(
        client_key=_required_setting(services, "tiktok.client_key"),
        client_secret=_required_setting(services, "tiktok.client_secret"),
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
    with tiktok_client(services, account) as client:
        tokens: TokenSet
        if refresh_token:
            tokens = client.refresh(refresh_token)
        elif open_url is not None:
            tokens = client.authorize_with_loopback(open_url, timeout=timeout)
        else:
            raise ValidationError(
                "refresh_token", "give a refresh token or a way to open the browser"
            )
        services.accounts.save(account.id, "tiktok_api", tokens.to_credentials())
        creator = client.creator_info(tokens.access_token)
    return {
        "account": f"{account.platform}:{account.username}",
        "route": "tiktok_api",
        "open_id": tokens.open_id,
        "scope": tokens.scope,
        "creator_username": creator.username,
        "privacy_level_options": list(creator.privacy_level_options),
        "max_video_post_duration_sec": creator.max_video_post_duration_sec,
    }


def connect_upload_post(services: Services, account: Account, profile: str) -> dict[str, Any]:
    profile = profile.strip()
    if not profile:
        raise ValidationError("profile", "give the Upload-Post profile name")
    services.accounts.save(account.id, "upload_post", {"profile": profile})
    return {
        "account": f"{account.platform}:{account.username}",
        "route": "upload_post",
        "profile": profile,
    }


def caption_suggestions(
    services: Services,
    media_id: int,
    *,
    account: Account | None = None,
    n: int = 3,
    model: str | None = None,
) -> list[str]:
    """Suggestions only: nothing is posted or stored until the operator picks one."""
    item = services.media.get(media_id)
    key = _required_setting(services, "openrouter.api_key")
    with OpenRouterClient(key, base_url=services.settings.get("openrouter.base")) as client:
        return suggest_captions(
            client,
            model or services.settings.get("openrouter.model"),
            item.title or "",
            item.notes,
            account.username if account is not None else "",
            item.hashtags,
            n=n,
        )


def upload_post_client(services: Services) -> UploadPostClient:
    return UploadPostClient(
        _required_setting(services, "upload_post.api_key"),
        base_url=services.settings.get("upload_post.base"),
    )
