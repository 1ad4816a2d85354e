"""The API's bearer token: one secret setting in the vault, made on first need.

Every request reads the stored token afresh, so a rotation (`piper api token --rotate`,
the GUI's Rotate) shuts the old token out at once, even in an engine already serving.
"""

from __future__ import annotations

import hmac
import secrets

from ...domain.settings import SettingsService

TOKEN_KEY = "api.token"


def ensure_token(settings: SettingsService) -> str:
    """The stored token, made (and stored) when there is none yet."""
    token = settings.get(TOKEN_KEY)
    return str(token) if token else rotate_token(settings)


def rotate_token(settings: SettingsService) -> str:
    token = secrets.token_urlsafe(32)
    settings.set(TOKEN_KEY, token)
    return token


def token_matches(settings: SettingsService, presented: str) -> bool:
    """Whether `presented` is the stored token, compared in constant time."""
    stored = settings.get(TOKEN_KEY)
    if not stored or not presented:
        return False
    return hmac.compare_digest(str(stored).encode(), presented.encode())
