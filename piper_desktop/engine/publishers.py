"""The one place the engine learns about concrete routes.

`PublisherFactory` builds the right `Publisher` for a route from the settings (base URLs
and keys, with their environment overrides), the accounts service as the credential
store, and the engine's clock; and turns job rows into `PublishRequest`s. Publishers are
cached and rebuilt when the settings they were built from change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..clients.ratelimit import RateLimits
from ..clients.tiktok import DEFAULT_LIMITS, MB
from ..domain.proxies import proxy_url
from ..domain.services import Services
from ..logs import get_logger
from ..publishing.base import AccountRef, PostOptions, Publisher, PublishError, PublishRequest
from ..store.enums import JobRoute
from ..store.models import Account, Job, MediaItem
from .clock import Clock, SystemClock
from .records import AccountRecord, JobRecord, MediaRecord

log = get_logger("engine")

# settings each route is built from; a change rebuilds the publisher
ROUTE_SETTINGS: dict[str, tuple[str, ...]] = {
    JobRoute.TIKTOK_API.value: (
        "tiktok.client_key",
        "tiktok.client_secret",
        "tiktok.api_base",
        "tiktok.auth_url",
        "tiktok.chunk_size_mb",
    ),
    JobRoute.UPLOAD_POST.value: ("upload_post.api_key", "upload_post.base"),
    JobRoute.BROWSER.value: (
        "tiktok.web_base",
        "browser.executable",
        "browser.max_contexts",
        "browser.headless",
        "browser.selectors_file",
    ),
}
# how long a settings snapshot is trusted before it is read again (a GUI may change them)
SETTINGS_TTL = 30.0
# routes whose publishers may be closed while a call is in flight (their HTTP clients
# close when the call ends): one replaced after a settings change is closed at once
CLOSE_ON_REPLACE = frozenset({JobRoute.TIKTOK_API.value, JobRoute.UPLOAD_POST.value})


class RouteNotConfigured(PublishError):
    """The route lacks a key or a component: nothing was sent; a person must set it up."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            reason, code="route_not_configured", certainly_not_posted=True, needs_attention=True
        )


Builder = Callable[[dict[str, Any]], Publisher]


class PublisherFactory:
    def __init__(
        self,
        services: Services,
        clock: Clock | None = None,
        *,
        builders: dict[str, Builder] | None = None,
    ) -> None:
        self.services = services
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[Any, ...], Publisher]] = {}
        self._snapshots: dict[str, tuple[float, dict[str, Any]]] = {}
        self._closers: list[Callable[[], None]] = []
        self._builders: dict[str, Builder] = {
            JobRoute.TIKTOK_API.value: self._tiktok_api,
            JobRoute.UPLOAD_POST.value: self._upload_post,
            JobRoute.BROWSER.value: self._browser,
        }
        self._builders.update(builders or {})
        # one limiter set for every TikTok publisher this factory makes: limits are per
        # user token, whatever object sends the request
        self._tiktok_limits = RateLimits(
            DEFAULT_LIMITS, clock=self.clock.monotonic, sleeper=self.clock.sleep
        )

    # --- settings -------------------------------------------------------------------------
    def _settings(self, route: str) -> dict[str, Any]:
        now = self.clock.monotonic()
        cached = self._snapshots.get(route)
        if cached is not None and now - cached[0] < SETTINGS_TTL:
            return cached[1]
        values = {key: self.services.settings.get(key) for key in ROUTE_SETTINGS.get(route, ())}
        self._snapshots[route] = (now, values)
        return values

    def invalidate(self) -> None:
        """Forget the settings snapshot (after the operator changed settings)."""
        with self._lock:
            self._snapshots.clear()

    # --- publishers -----------------------------------------------------------------------
    def get(self, route: str) -> Publisher:
        """The publisher for `route`; raises RouteNotConfigured when it cannot be built."""
        builder = self._builders.get(route)
        if builder is None:
            raise RouteNotConfigured(f"unknown route {route!r}")
        with self._lock:
            values = self._settings(route)
            fingerprint = tuple(sorted((k, repr(v)) for k, v in values.items()))
            cached = self._cache.get(route)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
            publisher = builder(values)
            self._cache[route] = (fingerprint, publisher)
        if cached is not None and route in CLOSE_ON_REPLACE:
            _quietly(getattr(cached[1], "close", None))
        return publisher

    def _tiktok_api(self, values: dict[str, Any]) -> Publisher:
        from ..publishing.tiktok_api import TikTokApiPublisher, TikTokApiSettings

        if not values.get("tiktok.client_key") or not values.get("tiktok.client_secret"):
            raise RouteNotConfigured(
                "the TikTok API route needs tiktok.client_key and tiktok.client_secret "
                "(piper settings set ... --stdin)"
            )
        settings = TikTokApiSettings(
            client_key=str(values["tiktok.client_key"]),
            client_secret=str(values["tiktok.client_secret"]),
            api_base=str(values["tiktok.api_base"]),
            auth_url=str(values["tiktok.auth_url"]),
            chunk_size=int(values.get("tiktok.chunk_size_mb") or 10) * MB,
        )
        return TikTokApiPublisher(
            self.services.accounts,
            settings,
            clock=self.clock.time,
            limits=self._tiktok_limits,
            sleeper=self.clock.sleep,
        )

    def _upload_post(self, values: dict[str, Any]) -> Publisher:
        from ..publishing.upload_post import UploadPostPublisher, UploadPostSettings

        if not values.get("upload_post.api_key"):
            raise RouteNotConfigured(
                "the Upload-Post route needs upload_post.api_key (piper settings set "
                "upload_post.api_key --stdin)"
            )
        return UploadPostPublisher(
            self.services.accounts,
            UploadPostSettings(
                api_key=str(values["upload_post.api_key"]),
                base_url=str(values["upload_post.base"]),
            ),
            clock=self.clock.time,
        )

    def _browser(self, values: dict[str, Any]) -> Publisher:
        from .browser_route import build_web_publisher

        publisher, close = build_web_publisher(self.services, values)
        self._closers.append(close)
        return publisher

    def close(self) -> None:
        with self._lock:
            closers, self._closers = self._closers, []
            pooled = [p for route, (_, p) in self._cache.items() if route in CLOSE_ON_REPLACE]
            self._cache.clear()
        for close in [getattr(p, "close", None) for p in pooled] + closers:
            _quietly(close)

    # --- requests -------------------------------------------------------------------------
    @staticmethod
    def account_ref(account: Account | AccountRecord) -> AccountRef:
        return AccountRef(
            id=account.id,
            platform=account.platform,
            username=account.username,
            timezone=account.timezone or "UTC",
            proxy_url=proxy_url(account.proxy) if account.proxy is not None else None,
        )

    @classmethod
    def request_for(
        cls,
        job: Job | JobRecord,
        account: Account | AccountRecord,
        media: MediaItem | MediaRecord,
    ) -> PublishRequest:
        return PublishRequest(
            job_id=job.id,
            idempotency_key=job.uuid,
            account=cls.account_ref(account),
            media_path=Path(media.path),
            media_size=media.size,
            media_sha256=media.sha256,
            caption=job.caption or "",
            options=PostOptions.from_dict(job.options),
            media_duration_sec=media.duration_sec,
            title=media.title,
        )


def _quietly(close: Callable[[], None] | None) -> None:
    # None: a publisher without close() (a stand-in a test or benchmark built)
    if close is None:
        return
    try:
        close()
    except Exception:
        log.exception("closing a publisher failed")
