"""Connecting an account to the Upload-Post route, and the client the CLI uses."""

from __future__ import annotations

from typing import Any

from ...clients.upload_post import UploadPostClient
from ...domain.errors import ValidationError
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
