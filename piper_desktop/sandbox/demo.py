"""Try-out mode (`piper --sandbox`): a throwaway data dir with sample accounts, proxies,
browser profiles, videos and running campaigns, all pointed at the local stand-ins, so
a newcomer sees posts go out end to end within the first minute.

No Qt here: the GUI calls `start_demo()`, tests may too. Everything lives in a temporary
directory removed by `DemoEnvironment.close()`.
"""

from __future__ import annotations

import secrets
import struct
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from piper_desktop.domain.services import Services
from piper_desktop.sandbox import start_sandboxes, stop_sandboxes
from piper_desktop.sandbox.env import sandbox_settings
from piper_desktop.sandbox.httpbase import SandboxServer
from piper_desktop.sandbox.media import write_video
from piper_desktop.sandbox.proxy import LocalProxy
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from piper_desktop.store.db import Database
from piper_desktop.store.vault import create_vault

DEMO_SERVERS = ("tiktok_api", "upload_post", "openrouter", "telegram", "tiktok_web", "proxy")
PROXY_USER, PROXY_PASSWORD = "piper", "sandbox"

VIDEOS = [
    ("Morning routine in 30 seconds", "Start the day right", ["morning", "routine"], 31.0),
    ("Three-ingredient pancakes", "Breakfast in five minutes", ["food", "recipe"], 45.0),
    ("City walk at dusk", "Golden hour on the river", ["travel", "city"], 58.0),
    ("Desk setup tour", "Everything on my desk, explained", ["tech", "setup"], 42.0),
    ("Sunday stretch", "Ten minutes for your back", ["fitness", "wellness"], 36.0),
]


@dataclass
class DemoEnvironment:
    data_dir: Path
    password: str = field(repr=False)
    db: Database
    servers: dict[str, SandboxServer]
    summary: dict[str, Any]
    _temp: tempfile.TemporaryDirectory[str] | None = None

    def services(self) -> Services:
        return Services(self.db)

    def close(self) -> None:
        stop_sandboxes(self.servers)
        self.db.close()
        if self._temp is not None:
            self._temp.cleanup()
            self._temp = None


def gradient_png(width: int, height: int, seed: int) -> bytes:
    """A colourful still to stand beside a demo video as its thumbnail."""
    a = ((seed * 67) % 200 + 40, (seed * 131) % 200 + 40, (seed * 29) % 200 + 40)
    b = ((seed * 17) % 160 + 20, (seed * 97) % 160 + 20, (seed * 53) % 160 + 60)
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            t = (x / width + y / height) / 2
            band = 18 if (x // 24 + y // 24) % 2 else 0
            rows.extend(min(255, int(a[i] * (1 - t) + b[i] * t) + band) for i in range(3))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + chunk(b"IEND", b"")
    )


def _check_proxies(services: Services, proxy_ids: list[int]) -> None:
    """Check the demo proxies once, so the list shows a working and a dead one."""
    from piper_desktop.clients.proxycheck import ProxySpec, check_proxies
    from piper_desktop.domain.proxies import proxy_url

    specs = [ProxySpec(i, proxy_url(services.proxies.get(i))) for i in proxy_ids]
    for result in check_proxies(specs, str(services.settings.get("proxy.check_url")), timeout=5):
        services.proxies.record_check(
            int(result.id),
            ok=result.ok,
            latency_ms=result.latency_ms,
            exit_ip=result.exit_ip,
            country=result.country,
            error=result.error,
        )


def seed_demo(
    services: Services,
    servers: dict[str, SandboxServer],
    media_dir: Path,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Fill an empty vault with the try-out data and start its first campaign."""
    now = now or datetime.now(UTC)
    for key, value in sandbox_settings(servers).items():
        services.settings.set(key, value)
    services.settings.set("engine.readiness_minutes", 0)
    # the stand-ins answer at once: check a submitted post every few seconds, so the
    # first ones show as published within the first minute
    services.settings.set("engine.check_seconds", 3)

    proxy_ids = []
    local_proxy = servers.get("proxy")
    if isinstance(local_proxy, LocalProxy):
        host, port = local_proxy.httpd.bound_address
        proxy_ids.append(
            services.proxies.add(
                {
                    "name": "Local demo proxy",
                    "host": host,
                    "port": port,
                    "username": PROXY_USER,
                    "password": PROXY_PASSWORD,
                    "kind": "residential",
                }
            ).id
        )
    # nothing listens on the discard port: this one shows what a dead proxy looks like
    proxy_ids.append(
        services.proxies.add({"name": "Unreachable proxy", "host": "127.0.0.1", "port": 9}).id
    )
    _check_proxies(services, proxy_ids)
    desktop = services.profiles.ensure_template("chrome-windows")
    phone = services.profiles.ensure_template("chrome-android")

    accounts: dict[str, dict[str, Any]] = {
        "demo_creator": {
            "display_name": "Demo Creator",
            "group": "Demo",
            "tags": ["api", "lifestyle"],
            "timezone": "America/New_York",
            "routes": ["tiktok_api"],
            "profile_id": desktop.id,
        },
        "demo_brand": {
            "display_name": "Demo Brand",
            "group": "Demo",
            "tags": ["brand"],
            "timezone": "Europe/Berlin",
            "routes": ["upload_post"],
            "profile_id": desktop.id,
        },
        "demo_studio": {
            "display_name": "Demo Studio (browser)",
            "group": "Browser",
            "tags": ["web"],
            "timezone": "Asia/Tokyo",
            "routes": ["browser"],
            "profile_id": phone.id,
            "proxy_id": proxy_ids[0],
        },
        "demo_sleepy": {
            "display_name": "Logged-out account",
            "group": "Browser",
            "timezone": "Australia/Sydney",
            "routes": ["browser"],
            "status": "needs_login",
        },
    }
    ids: dict[str, int] = {}
    for username, record in accounts.items():
        ids[username] = services.accounts.add(
            {
                "username": username,
                "min_spacing_minutes": 1,
                "max_posts_per_day": 20,
                **record,
            }
        ).id
    api = servers.get("tiktok_api")
    if isinstance(api, TikTokApiSandbox):
        # posting and analytics (video.list, user.info.stats), as a connect asks for
        tokens = api.issue_tokens(
            "demo_creator",
            ("user.info.basic", "user.info.stats", "video.list", "video.publish", "video.upload"),
        )
        # a few posts the creator made in the app, for `piper analytics collect`
        for days, title in ((9, "Behind the scenes"), (5, "Q&A live recap"), (2, "New drop")):
            api.add_video("demo_creator", title=title, create_time=now.timestamp() - days * 86400)
        expires = now.timestamp()
        services.accounts.save(
            ids["demo_creator"],
            "tiktok_api",
            {
                "access_token": tokens["access_token"],
                "refresh_token": tokens["refresh_token"],
                "access_expires_at": expires + float(tokens.get("expires_in", 86400)),
                "refresh_expires_at": expires + float(tokens.get("refresh_expires_in", 31536000)),
                "open_id": tokens.get("open_id", ""),
                "scope": tokens.get("scope", ""),
            },
        )
    services.accounts.save(ids["demo_brand"], "upload_post", {"profile": "demo_brand"})
    web = servers.get("tiktok_web")
    if isinstance(web, TikTokStudioSandbox):
        services.accounts.save_storage_state(
            ids["demo_studio"], web.storage_state_for("demo_studio")
        )

    media_dir.mkdir(parents=True, exist_ok=True)
    media_ids = []
    for number, (title, caption, tags, seconds) in enumerate(VIDEOS, start=1):
        stem = f"{number:02d}-{title.lower().replace(' ', '-')}"
        video = media_dir / f"{stem}.mp4"
        write_video(video, seconds=seconds)
        (media_dir / f"{stem}.png").write_bytes(gradient_png(320, 180, number * 7))
        item, _ = services.media.add(
            video, {"title": title, "default_caption": caption, "hashtags": tags}
        )
        media_ids.append(item.id)

    welcome = services.campaigns.create(
        {
            "name": "Welcome to Piper",
            "route": "tiktok_api",
            "media_ids": media_ids[:3],
            "account_selection": {"accounts": ["tiktok:demo_creator"]},
            "caption_template": "{caption} {hashtags}",
            "hashtags": ["piperdemo"],
            "options": {"privacy_level": "PUBLIC_TO_EVERYONE", "brand_content_toggle": False},
            "seed": 7,
        }
    )
    brand = services.campaigns.create(
        {
            "name": "Brand week",
            "route": "upload_post",
            "media_ids": media_ids[3:],
            "account_selection": {"accounts": ["tiktok:demo_brand"]},
            "caption_template": "{title} — {caption} {hashtags}",
            "hashtags": ["brand"],
            "options": {"platforms": ["tiktok"]},
            "seed": 11,
        }
    )
    services.campaigns.create(
        {
            "name": "Browser route demo (draft)",
            "route": "browser",
            "media_ids": media_ids[:2],
            "account_selection": {"accounts": ["tiktok:demo_studio"]},
            "seed": 13,
        }
    )
    jobs = services.campaigns.start(welcome.id, now=now)
    jobs += services.campaigns.start(brand.id, now=now)
    return {
        "accounts": len(ids),
        "proxies": len(proxy_ids),
        "media": len(media_ids),
        "campaigns": 3,
        "jobs": len(jobs),
    }


def start_demo(
    base: Path | None = None, *, names: tuple[str, ...] = DEMO_SERVERS
) -> DemoEnvironment:
    """Start the stand-ins, create a throwaway vault and fill it."""
    temp: tempfile.TemporaryDirectory[str] | None = None
    if base is None:
        temp = tempfile.TemporaryDirectory(prefix="piper-try-")
        base = Path(temp.name)
    data_dir = base / "data"
    password = secrets.token_urlsafe(24)
    # the registry's proxy stand-in accepts PROXY_USER / PROXY_PASSWORD
    servers = start_sandboxes(names, "127.0.0.1")
    try:
        db = create_vault(data_dir, password)
        summary = seed_demo(Services(db), servers, base / "videos")
    except BaseException:
        stop_sandboxes(servers)
        if temp is not None:
            temp.cleanup()
        raise
    return DemoEnvironment(data_dir, password, db, servers, summary, temp)
