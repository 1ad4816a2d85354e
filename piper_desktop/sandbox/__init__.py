"""Local stand-ins for the external services Piper talks to (see DESIGN.md).

Only tests and `piper sandbox` / `piper --sandbox` import this package. `SANDBOXES`
maps a name to a factory taking the loopback host; adding a stand-in is one line.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from piper_desktop.sandbox.httpbase import SandboxServer
from piper_desktop.sandbox.openrouter import OpenRouterSandbox
from piper_desktop.sandbox.proxy import LocalProxy
from piper_desktop.sandbox.socks import LocalSocksProxy
from piper_desktop.sandbox.telegram import TelegramSandbox
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox


def _seconds(name: str) -> float:
    """A delay from the environment (a slow uplink for `piper sandbox`); 0 when unset."""
    try:
        return max(float(os.environ.get(name, "") or 0), 0.0)
    except ValueError:
        return 0.0


def _tiktok_api(host: str) -> TikTokApiSandbox:
    return TikTokApiSandbox(
        host,
        chunk_delay=_seconds("PIPER_SANDBOX_TIKTOK_CHUNK_DELAY"),
        ack_delay=_seconds("PIPER_SANDBOX_TIKTOK_ACK_DELAY"),
    )


SANDBOXES: dict[str, Callable[[str], SandboxServer]] = {
    "tiktok_api": _tiktok_api,
    "upload_post": lambda host: UploadPostSandbox(host),
    "openrouter": lambda host: OpenRouterSandbox(host),
    "telegram": lambda host: TelegramSandbox(host),
    "tiktok_web": lambda host: TikTokStudioSandbox(host),
    "proxy": lambda host: LocalProxy(host, users={"piper": "sandbox"}),
    "socks5": lambda host: LocalSocksProxy(host, users={"piper": "sandbox"}),
}
API_SANDBOXES = ("tiktok_api", "upload_post", "openrouter", "telegram")


def start_sandboxes(
    names: tuple[str, ...] | None = None,
    host: str = "127.0.0.1",
    studio_variant: str | None = None,
) -> dict[str, SandboxServer]:
    """Start the named stand-ins (all when None); stops the started ones on failure.

    `studio_variant` is the Studio replica's layout (studio_variants.py); None leaves it
    to $PIPER_SANDBOX_STUDIO_VARIANT."""
    started: dict[str, SandboxServer] = {}
    try:
        for name in names if names is not None else tuple(SANDBOXES):
            if name == "tiktok_web" and studio_variant is not None:
                server: SandboxServer = TikTokStudioSandbox(host, variant=studio_variant)
            else:
                server = SANDBOXES[name](host)
            started[name] = server.start()
    except BaseException:
        stop_sandboxes(started)
        raise
    return started


def start_api_sandboxes(host: str = "127.0.0.1") -> dict[str, SandboxServer]:
    return start_sandboxes(API_SANDBOXES, host)


def stop_sandboxes(servers: dict[str, SandboxServer]) -> None:
    for server in servers.values():
        server.stop()


def api_sandbox_settings(servers: dict[str, SandboxServer]) -> dict[str, str]:
    """Settings (keys as in domain/settings.py) that point Piper at running API stand-ins,
    with the stand-ins' fixed demo credentials."""
    out: dict[str, str] = {}
    tiktok = servers.get("tiktok_api")
    if isinstance(tiktok, TikTokApiSandbox):
        out |= {
            "tiktok.api_base": tiktok.base_url,
            "tiktok.auth_url": tiktok.auth_url,
            "tiktok.client_key": tiktok.client_key,
            "tiktok.client_secret": tiktok.client_secret,
        }
    upload_post = servers.get("upload_post")
    if isinstance(upload_post, UploadPostSandbox):
        out |= {
            "upload_post.base": upload_post.api_base,
            "upload_post.api_key": upload_post.api_key,
        }
    openrouter = servers.get("openrouter")
    if isinstance(openrouter, OpenRouterSandbox):
        out |= {"openrouter.base": openrouter.api_base, "openrouter.api_key": openrouter.api_key}
    telegram = servers.get("telegram")
    if isinstance(telegram, TelegramSandbox):
        out |= {"telegram.base": telegram.base_url, "telegram.bot_token": telegram.token}
    return out
