"""A local SOCKS5 relay for a browser context whose proxy needs a password.

Chromium cannot authenticate to a SOCKS5 proxy (Playwright refuses "socks5 proxy
authentication"), yet most residential proxies are exactly that. So such a context gets
its own relay on 127.0.0.1: Chromium speaks SOCKS5 without auth to it, and pproxy (a
maintained proxy library, run in-process on the browser loop) carries each connection on
to the account's proxy with its RFC 1929 username and password. The relay listens on
loopback only, for as long as its context is open.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote, urlsplit

import pproxy  # type: ignore[import-untyped]

from piper_desktop.logs import get_logger, register_secret

log = get_logger("browser")


def needs_relay(proxy_url: str | None) -> bool:
    """True for socks5:// (or socks5h://) URLs that carry a username."""
    if not proxy_url:
        return False
    parts = urlsplit(proxy_url)
    return parts.scheme.lower() in ("socks5", "socks5h") and parts.username is not None


class SocksRelay:
    """One relay: `await SocksRelay.start(url)`, then `relay.url` for Chromium, `stop()`."""

    def __init__(self, server: asyncio.Server, port: int) -> None:
        self._server = server
        self.port = port

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    @classmethod
    async def start(cls, proxy_url: str) -> SocksRelay:
        parts = urlsplit(proxy_url)
        if not parts.hostname or not parts.port:
            raise ValueError("proxy URL needs a host and a port")
        username = unquote(parts.username or "")
        password = unquote(parts.password or "")
        register_secret(password)
        if ":" in username:
            # pproxy splits its "user:pass" at the first colon (RFC 1929 allows one)
            raise ValueError("a SOCKS5 proxy username cannot contain ':'")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        # The credentials are set on the connection object, not written into pproxy's
        # URI syntax, where '#', '@' or '\n' in a password would be misread.
        upstream = pproxy.Connection(f"socks5://{host}:{parts.port}")
        upstream.users = [f"{username}:{password}".encode()]
        local = pproxy.Server("socks5://127.0.0.1:0")
        args: dict[str, Any] = {"rserver": [upstream], "verbose": _quiet}
        server: asyncio.Server = await local.start_server(args)
        port = int(server.sockets[0].getsockname()[1])
        log.debug("SOCKS5 relay on 127.0.0.1:%d for a proxy with a password", port)
        return cls(server, port)

    def stop(self) -> None:
        """Stop listening; the connections under way end with their context."""
        self._server.close()

    @property
    def listening(self) -> bool:
        return self._server.is_serving()


def _quiet(message: str) -> None:
    # pproxy's per-connection lines name destinations; debug is their level
    log.debug("relay: %s", message)
