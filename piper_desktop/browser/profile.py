"""What a browser context looks like (per account) and how the browser is run (per app).

`ProfileSettings` carries only the ordinary settings a real browser has (DESIGN.md,
"Scope"): user agent, viewport, locale, timezone, geolocation, colour scheme. The domain
layer maps its stored browser profiles onto it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from piper_desktop.logs import register_secret


@dataclass(frozen=True)
class ProfileSettings:
    user_agent: str | None = None
    viewport_width: int = 1280
    viewport_height: int = 800
    locale: str | None = "en-US"
    timezone_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    geo_accuracy: float = 50.0
    color_scheme: str | None = None  # "light" | "dark" | "no-preference"

    def context_options(self) -> dict[str, Any]:
        """Keyword arguments for Playwright's `browser.new_context`."""
        options: dict[str, Any] = {
            "viewport": {"width": self.viewport_width, "height": self.viewport_height},
        }
        if self.user_agent:
            options["user_agent"] = self.user_agent
        if self.locale:
            options["locale"] = self.locale
        if self.timezone_id:
            options["timezone_id"] = self.timezone_id
        if self.color_scheme:
            options["color_scheme"] = self.color_scheme
        if self.latitude is not None and self.longitude is not None:
            options["geolocation"] = {
                "latitude": self.latitude,
                "longitude": self.longitude,
                "accuracy": self.geo_accuracy,
            }
            options["permissions"] = ["geolocation"]
        return options


def _env_flag(name: str) -> bool | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


NO_SANDBOX_ENV = "PIPER_BROWSER_NO_SANDBOX"


@dataclass(frozen=True)
class BrowserSettings:
    """How Piper runs its browser. Each field has an environment override (from_env)."""

    # explicit browser executable (setting; env PIPER_BROWSER)
    executable: str | None = None
    # contexts open at once across all accounts (env PIPER_BROWSER_MAX_CONTEXTS)
    max_contexts: int = 4
    # the shared publishing browser runs headless unless asked (env PIPER_BROWSER_HEADLESS)
    headless: bool = True
    # visible windows (operator hand-off) forced headless: tests and CI have no display
    # (env PIPER_BROWSER_FORCE_HEADLESS)
    force_headless: bool = False
    # temp root for the driver's and Chromium's on-disk scratch (env PIPER_BROWSER_TEMP)
    temp_root: Path | None = None
    extra_args: tuple[str, ...] = field(default_factory=tuple)
    # let Chromium run without its sandbox: needed as root, where it cannot start one;
    # never assumed (setting browser.allow_no_sandbox; env PIPER_BROWSER_NO_SANDBOX=1)
    allow_no_sandbox: bool = False

    @classmethod
    def from_env(cls, **overrides: Any) -> BrowserSettings:
        settings = cls(**overrides)
        changes: dict[str, Any] = {}
        if "executable" not in overrides and os.environ.get("PIPER_BROWSER"):
            changes["executable"] = os.environ["PIPER_BROWSER"]
        if "max_contexts" not in overrides and os.environ.get("PIPER_BROWSER_MAX_CONTEXTS"):
            changes["max_contexts"] = max(1, int(os.environ["PIPER_BROWSER_MAX_CONTEXTS"]))
        headless = _env_flag("PIPER_BROWSER_HEADLESS")
        if "headless" not in overrides and headless is not None:
            changes["headless"] = headless
        force = _env_flag("PIPER_BROWSER_FORCE_HEADLESS")
        if "force_headless" not in overrides and force is not None:
            changes["force_headless"] = force
        no_sandbox = _env_flag(NO_SANDBOX_ENV)
        if "allow_no_sandbox" not in overrides and no_sandbox is not None:
            changes["allow_no_sandbox"] = no_sandbox
        if "temp_root" not in overrides and os.environ.get("PIPER_BROWSER_TEMP"):
            changes["temp_root"] = Path(os.environ["PIPER_BROWSER_TEMP"])
        return replace(settings, **changes) if changes else settings


def proxy_settings(proxy_url: str | None) -> dict[str, str] | None:
    """Playwright's proxy dict from `scheme://user:pass@host:port` (credentials decoded)."""
    if not proxy_url:
        return None
    parts = urlsplit(proxy_url)
    scheme = (parts.scheme or "http").lower()
    if scheme not in ("http", "https", "socks5"):
        raise ValueError(f"unsupported proxy scheme {scheme!r} (use http, https or socks5)")
    if not parts.hostname or not parts.port:
        raise ValueError("proxy URL needs a host and a port")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    proxy: dict[str, str] = {"server": f"{scheme}://{host}:{parts.port}"}
    if parts.username is not None:
        if scheme == "socks5":
            # BrowserHost puts a local relay (relay.py) in front of such a proxy
            raise ValueError("Chromium cannot authenticate to a SOCKS5 proxy; use a relay")
        password = unquote(parts.password or "")
        register_secret(password)
        proxy["username"] = unquote(parts.username)
        proxy["password"] = password
    return proxy


def redact_proxy(proxy_url: str | None) -> str:
    """The proxy URL without its password, for logs and messages."""
    if not proxy_url:
        return "direct"
    parts = urlsplit(proxy_url)
    user = f"{unquote(parts.username)}:***@" if parts.username else ""
    return f"{parts.scheme}://{user}{parts.hostname}:{parts.port}"
