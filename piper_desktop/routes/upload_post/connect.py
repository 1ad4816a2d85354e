"""Connecting accounts to the Upload-Post route (one by name, or all by matching the
API key's profiles to the accounts' names), and the client the CLI uses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ...clients.upload_post import UploadPostClient
from ...domain.errors import ValidationError
from ...domain.name_match import Named, NameMatch, match_by_name
from ...domain.services import Services
from ...store.enums import JobRoute
from ...store.models import Account
from ..settings import required_setting


def connect_upload_post(services: Services, account: Account, profile: str) -> dict[str, Any]:
    profile = profile.strip()
    if not profile:
        raise ValidationError("profile", "give the Upload-Post profile name")
    services.accounts.save(account.id, JobRoute.UPLOAD_POST.value, {"profile": profile})
    return {
        "account": f"{account.platform}:{account.username}",
        "route": JobRoute.UPLOAD_POST.value,
        "profile": profile,
    }


def upload_post_client(services: Services) -> UploadPostClient:
    return UploadPostClient(
        required_setting(services, "upload_post.api_key"),
        base_url=services.settings.get("upload_post.base"),
    )


def list_profiles(services: Services) -> list[str]:
    """The profile names the Upload-Post API key offers (ValidationError without a key,
    ApiError when the API refuses)."""
    with upload_post_client(services) as client:
        return [profile.username for profile in client.profiles()]


def propose_profiles(accounts: Sequence[Named], profiles: Iterable[str]) -> NameMatch[str]:
    """Each account with the profile of its name (any case, a leading @ ignored)."""
    return match_by_name(accounts, ((name, name) for name in profiles))
