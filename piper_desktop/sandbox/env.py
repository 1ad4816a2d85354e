"""The environment overrides that point Piper at running sandbox stand-ins.

Derived from `api_sandbox_settings` (setting key -> value) and each setting's own
environment override, so the mapping lives in one place.
"""

from __future__ import annotations

from piper_desktop.domain.settings import DEFS
from piper_desktop.sandbox import api_sandbox_settings
from piper_desktop.sandbox.httpbase import SandboxServer


def sandbox_settings(servers: dict[str, SandboxServer]) -> dict[str, str]:
    """Every setting that points Piper at the running stand-ins (demo keys included)."""
    values = dict(api_sandbox_settings(servers))
    if "tiktok_web" in servers:
        values["tiktok.web_base"] = servers["tiktok_web"].base_url
        # the replica answers the proxy health check too
        values["proxy.check_url"] = servers["tiktok_web"].base_url + "/api/ip"
    return values


def sandbox_env(servers: dict[str, SandboxServer]) -> dict[str, str]:
    """The base URLs as environment overrides (secrets are not settable by env)."""
    env: dict[str, str] = {}
    for key, value in sandbox_settings(servers).items():
        name = DEFS[key].env
        if name and not DEFS[key].secret:
            env[name] = value
    return env
