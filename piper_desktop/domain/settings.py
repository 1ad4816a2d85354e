"""App settings: endpoint base URLs, API keys, limits. Stored in the vault.

Effective value = environment override (for tests and operators pointing Piper at a
local server) > stored value > default. Secret settings are never printed in full.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..logs import register_secret
from ..store.db import Database
from ..store.models import Setting
from . import fields as f
from .errors import ValidationError
from .import_columns import parse_mappings
from .telegram_chats import parse_chats
from .watch_folders import parse_folders, parse_last


@dataclass(frozen=True)
class SettingDef:
    key: str
    default: Any
    parse: f.Parser
    description: str
    env: str | None = None
    secret: bool = False


DEFS: dict[str, SettingDef] = {
    d.key: d
    for d in [
        SettingDef(
            "tiktok.api_base",
            "https://open.tiktokapis.com",
            f.text(500),
            "TikTok Content Posting API base URL",
            "PIPER_TIKTOK_API_BASE",
        ),
        SettingDef(
            "tiktok.auth_url",
            "https://www.tiktok.com/v2/auth/authorize/",
            f.text(500),
            "TikTok OAuth authorize URL",
            "PIPER_TIKTOK_AUTH_URL",
        ),
        SettingDef(
            "tiktok.web_base",
            "https://www.tiktok.com",
            f.text(500),
            "TikTok web (Studio upload page) base URL",
            "PIPER_TIKTOK_WEB_BASE",
        ),
        SettingDef("tiktok.client_key", None, f.secret(), "TikTok app client key", secret=True),
        SettingDef(
            "tiktok.client_secret", None, f.secret(), "TikTok app client secret", secret=True
        ),
        SettingDef("tiktok.chunk_size_mb", 10, f.integer(5, 64), "FILE_UPLOAD chunk size in MB"),
        SettingDef(
            "tiktok.compliance_mode",
            True,
            f.boolean(),
            "TikTok API posts need the operator's own privacy choice, never a default "
            "(TikTok's audit; off: your own audited flow, campaigns may carry defaults)",
        ),
        SettingDef(
            "tiktok.daily_posts_per_creator",
            15,
            f.integer(1, 1000),
            "Most TikTok API posts per creator per day (the account's day); more wait",
        ),
        SettingDef(
            "analytics.collect_every_minutes",
            60,
            f.integer(5, 1440),
            "Minutes between readings of the accounts' posts and counts (analytics)",
        ),
        SettingDef(
            "upload_post.base",
            "https://api.upload-post.com/api",
            f.text(500),
            "Upload-Post API base URL",
            "PIPER_UPLOAD_POST_BASE",
        ),
        SettingDef("upload_post.api_key", None, f.secret(), "Upload-Post API key", secret=True),
        SettingDef(
            "openrouter.base",
            "https://openrouter.ai/api/v1",
            f.text(500),
            "OpenRouter API base URL",
            "PIPER_OPENROUTER_BASE",
        ),
        SettingDef("openrouter.api_key", None, f.secret(), "OpenRouter API key", secret=True),
        SettingDef(
            "openrouter.model", "openai/gpt-4o-mini", f.text(200), "Model for caption suggestions"
        ),
        SettingDef(
            "telegram.base",
            "https://api.telegram.org",
            f.text(500),
            "Telegram Bot API base URL",
            "PIPER_TELEGRAM_BASE",
        ),
        SettingDef(
            "telegram.bot_token",
            None,
            f.secret(),
            "Telegram bot token for notifications and the intake bot",
            secret=True,
        ),
        SettingDef(
            "telegram.chat_id", None, f.secret(), "Telegram chat id for notifications", secret=True
        ),
        # the intake bot (intake/telegram_bot.py); the chats are set with `piper telegram
        # allow` or the GUI's Telegram bot box, the offset and time are the bot's own
        SettingDef(
            "telegram.local_server",
            False,
            f.boolean(),
            "telegram.base is your own Bot API server started with --local (no 20 MB limit)",
        ),
        SettingDef(
            "telegram.chats",
            None,
            parse_chats,
            "Chats the Telegram bot serves and where their videos go",
        ),
        SettingDef(
            "telegram.offset",
            None,
            f.integer(0),
            "The next Telegram update the bot asks for (kept by Piper)",
        ),
        SettingDef(
            "telegram.last_update",
            None,
            f.text(40),
            "When the Telegram bot last received an update (kept by Piper)",
        ),
        # the local automation API (intake/api): off until the operator turns it on
        SettingDef(
            "api.enabled",
            False,
            f.boolean(),
            "Serve the local automation API on 127.0.0.1 while Piper publishes",
        ),
        SettingDef(
            "api.port", 8765, f.integer(0, 65535), "Port of the local API (0: any free port)"
        ),
        SettingDef(
            "api.token",
            None,
            f.secret(),
            "Bearer token of the local API (piper api token [--rotate])",
            secret=True,
        ),
        # watched folders (intake/folders.py); set with `piper watch add` or the GUI
        SettingDef(
            "watch.folders",
            None,
            parse_folders,
            "Folders whose finished videos are queued, and where they go",
        ),
        SettingDef(
            "watch.stable_seconds",
            5,
            f.integer(1, 3600),
            "Seconds a watched file's size and time must stay unchanged before it is taken",
        ),
        SettingDef(
            "watch.scan_seconds",
            30,
            f.integer(2, 86400),
            "Seconds between full scans of watched folders (besides file events)",
        ),
        SettingDef(
            "watch.last",
            None,
            parse_last,
            "Each watched folder's last taken and failed file (kept by Piper)",
        ),
        SettingDef(
            "browser.executable",
            None,
            f.text(1000),
            "Browser executable (empty: find one)",
            "PIPER_BROWSER",
        ),
        SettingDef("browser.max_contexts", 4, f.integer(1, 64), "Concurrent browser contexts"),
        SettingDef("browser.headless", True, f.boolean(), "Run publishing browsers headless"),
        SettingDef(
            "browser.allow_no_sandbox",
            False,
            f.boolean(),
            "Let Chromium run without its sandbox (as root it cannot have one); weakens "
            "the isolation of web pages from this machine",
            "PIPER_BROWSER_NO_SANDBOX",
        ),
        SettingDef(
            "browser.selectors_file",
            None,
            f.text(1000),
            "Override file for site selectors",
            "PIPER_TIKTOK_SELECTORS",
        ),
        SettingDef(
            "browser.selector_drift",
            None,
            f.text(200_000),
            "Elements the site shows only through a fallback selector (JSON, kept by Piper)",
        ),
        SettingDef(
            "proxy.check_url",
            "https://ipinfo.io/json",
            f.text(500),
            "IP-info URL fetched through each proxy to check it: its answer gives the exit IP"
            " and country (ipinfo.io, ip-api.com, ipapi.co shapes)",
            "PIPER_PROXY_CHECK_URL",
        ),
        SettingDef("proxy.check_concurrency", 8, f.integer(1, 64), "Proxies checked at once"),
        SettingDef(
            "engine.max_workers", 4, f.integer(1, 64), "Jobs published at once (all routes)"
        ),
        SettingDef(
            "engine.limit.tiktok_api", 4, f.integer(1, 64), "Jobs at once on the TikTok API route"
        ),
        SettingDef(
            "engine.limit.upload_post", 4, f.integer(1, 64), "Jobs at once on the Upload-Post route"
        ),
        SettingDef(
            "engine.limit.browser", 2, f.integer(1, 64), "Jobs at once on the browser route"
        ),
        SettingDef(
            "engine.tick_seconds", 60, f.integer(5, 3600), "How often due jobs are re-checked"
        ),
        SettingDef(
            "engine.grace_minutes",
            30,
            f.integer(0, 10080),
            "A missed job later than this is re-slotted or marked missed",
        ),
        SettingDef(
            "engine.readiness_minutes",
            30,
            f.integer(0, 1440),
            "Readiness check this long before each job",
        ),
        SettingDef(
            "engine.duplicate_window_days",
            30,
            f.integer(0, 3650),
            "Refuse the same video to the same account within this many days",
        ),
        SettingDef("engine.max_attempts", 3, f.integer(1, 20), "Default attempts per job"),
        SettingDef(
            "engine.retry_base_seconds",
            60,
            f.integer(1, 86400),
            "First retry delay (doubles each attempt)",
        ),
        SettingDef(
            "engine.lease_seconds",
            900,
            f.integer(30, 86400),
            "How long a claimed job is held by one process",
        ),
        SettingDef(
            "engine.check_seconds",
            15,
            f.integer(1, 3600),
            "Longest wait between status checks of a submitted post",
        ),
        SettingDef(
            "engine.daily_post_cap",
            15,
            f.integer(1, 1000),
            "Platform cap on posts per account per day",
        ),
        SettingDef(
            "campaigns.stagger_minutes",
            7,
            f.integer(0, 720),
            "Minutes between two accounts' posts of one campaign (0: no stagger)",
        ),
        SettingDef(
            "campaigns.jitter_minutes",
            10,
            f.integer(0, 720),
            "Each campaign post goes up to this many minutes after its free slot, at random",
        ),
        SettingDef(
            "campaigns.default_privacy",
            "PUBLIC_TO_EVERYONE",
            f.text(
                40, pattern="PUBLIC_TO_EVERYONE|MUTUAL_FOLLOW_FRIENDS|FOLLOWER_OF_CREATOR|SELF_ONLY"
            ),
            "Who can watch a campaign's posts unless the campaign says (PUBLIC_TO_EVERYONE, "
            "MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR, SELF_ONLY)",
        ),
        SettingDef(
            "accounts.default_posting_window",
            "09:00-22:00",
            f.text(20, pattern=r"\d{1,2}:\d{2}-\d{1,2}:\d{2}"),
            "Posting window (account's local time) for imported accounts that give none",
        ),
        SettingDef(
            "accounts.import_mappings",
            {},
            parse_mappings,
            "Column mappings chosen when importing accounts, by header set (names only)",
        ),
        SettingDef(
            "jobs.require_connected",
            True,
            f.boolean(),
            "Refuse jobs for accounts not connected to the route (off: only warn)",
        ),
        SettingDef("notifications.enabled", True, f.boolean(), "Desktop notifications"),
        SettingDef(
            "ui.theme",
            "system",
            f.text(20, pattern="system|light|dark"),
            "Theme: system, light or dark",
        ),
        SettingDef("ui.start_minimized", False, f.boolean(), "Start in the tray"),
        SettingDef(
            "security.keychain",
            False,
            f.boolean(),
            "Remember the master password in the OS keychain",
        ),
        # Photo posts through the TikTok API: TikTok pulls images only from a URL prefix
        # verified for the app, so Piper PUTs them to the operator's bucket first.
        SettingDef(
            "photos.upload_target",
            None,
            f.text(500, pattern=r"s3://[a-z0-9.\-]{3,63}(/.*)?", single_line=True),
            "Where photo posts' images are uploaded first: s3://bucket/prefix",
        ),
        SettingDef(
            "photos.upload_endpoint",
            None,
            f.text(500, single_line=True),
            "The upload target's S3 endpoint URL (AWS, MinIO, R2, ...)",
            "PIPER_PHOTOS_UPLOAD_ENDPOINT",
        ),
        SettingDef(
            "photos.upload_region", "us-east-1", f.text(40, single_line=True), "Its S3 region"
        ),
        SettingDef(
            "photos.upload_access_key_id", None, f.text(200, single_line=True), "Its access key id"
        ),
        SettingDef(
            "photos.upload_secret_key", None, f.secret(), "Its secret access key", secret=True
        ),
        SettingDef(
            "photos.url_prefix",
            None,
            f.text(500, pattern=r"https?://\S+", single_line=True),
            "The TikTok-verified URL prefix the uploaded images are reachable under",
            "PIPER_PHOTOS_URL_PREFIX",
        ),
    ]
}


def mask_secret(value: Any) -> str:
    if value in (None, ""):
        return ""
    text = str(value)
    return "****" + text[-2:] if len(text) > 8 else "****"


class SettingsService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def definition(self, key: str) -> SettingDef:
        try:
            return DEFS[key]
        except KeyError:
            raise ValidationError(key, "unknown setting") from None

    def get(self, key: str) -> Any:
        spec = self.definition(key)
        if spec.env and os.environ.get(spec.env):
            return spec.parse(key, os.environ[spec.env])
        with self.db.session() as session:
            row = session.get(Setting, key)
            value = row.value if row is not None else spec.default
        if spec.secret and value:
            register_secret(str(value))
        return value

    def source(self, key: str) -> str:
        spec = self.definition(key)
        if spec.env and os.environ.get(spec.env):
            return f"env {spec.env}"
        with self.db.session() as session:
            return "stored" if session.get(Setting, key) is not None else "default"

    def set(self, key: str, raw: Any) -> Any:
        with self.db.write() as session:
            return self.set_in(session, key, raw)

    def set_in(self, session: Session, key: str, raw: Any) -> Any:
        """`set` inside the caller's write transaction (a value that must change together
        with other rows, e.g. the Telegram bot's offset with the jobs it queued)."""
        spec = self.definition(key)
        value = spec.parse(key, raw)
        if spec.secret and value:
            register_secret(str(value))
        row = session.get(Setting, key)
        if value is None:
            if row is not None:
                session.delete(row)
            return spec.default
        if row is None:
            session.add(Setting(key=key, value=value, is_secret=spec.secret))
        else:
            row.value = value
        return value

    def unset(self, key: str) -> None:
        self.set(key, None)

    def all(self, *, reveal: bool = False) -> list[dict[str, Any]]:
        with self.db.session() as session:
            stored = {row.key: row.value for row in session.scalars(select(Setting))}
        rows = []
        for key, spec in DEFS.items():
            if spec.env and os.environ.get(spec.env):
                value, source = os.environ[spec.env], f"env {spec.env}"
            elif key in stored:
                value, source = stored[key], "stored"
            else:
                value, source = spec.default, "default"
            if spec.secret and not reveal:
                value = mask_secret(value)
            rows.append(
                {
                    "key": key,
                    "value": value,
                    "source": source,
                    "secret": spec.secret,
                    "description": spec.description,
                }
            )
        return rows
