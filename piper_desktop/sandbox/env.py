"""The environment overrides that point Piper at running sandbox stand-ins.

One place maps each stand-in to the setting it replaces, for `piper sandbox` (which
prints them), `piper --sandbox` (which applies them) and tests.
"""

from __future__ import annotations

from piper_desktop.sandbox.httpbase import SandboxServer

# stand-in name -> (environment override, path under the server's base URL)
OVERRIDES: dict[str, tuple[str, str]] = {
    "tiktok_api": ("PIPER_TIKTOK_API_BASE", ""),
    "upload_post": ("PIPER_UPLOAD_POST_BASE", "/api"),
    "openrouter": ("PIPER_OPENROUTER_BASE", "/api/v1"),
    "telegram": ("PIPER_TELEGRAM_BASE", ""),
    "tiktok_web": ("PIPER_TIKTOK_WEB_BASE", ""),
}


def sandbox_env(servers: dict[str, SandboxServer]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, server in servers.items():
        if name in OVERRIDES:
            var, suffix = OVERRIDES[name]
            env[var] = server.base_url + suffix
    if "tiktok_api" in servers:
        env["PIPER_TIKTOK_AUTH_URL"] = servers["tiktok_api"].base_url + "/v2/auth/authorize/"
    if "tiktok_web" in servers:
        # the replica answers the proxy health check too
        env["PIPER_PROXY_CHECK_URL"] = servers["tiktok_web"].base_url + "/api/ip"
    return env
