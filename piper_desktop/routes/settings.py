"""Reading a route's settings for the connect flows (CLI and GUI)."""

from __future__ import annotations

from ..domain.errors import ValidationError
from ..domain.services import Services


def required_setting(services: Services, key: str) -> str:
    value = services.settings.get(key)
    if not value:
        raise ValidationError(key, f"is not set: piper settings set {key} --stdin")
    return str(value)
