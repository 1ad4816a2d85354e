"""Publishers for the engine, built from the routes the registry lists.

`PublisherFactory` builds each route's `Publisher` from its `RouteSpec` (the settings it
names, with their environment overrides; the accounts service as the credential store;
the engine's clock), and turns job rows into `PublishRequest`s. Publishers are cached
and rebuilt when the settings they were built from change. It knows no route by name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ..domain.services import Services
from ..logs import get_logger
from ..routes.base import (
    AccountRef,
    PostOptions,
    Publisher,
    PublishRequest,
    RouteNotConfigured,
)
from ..routes.registry import RouteRegistry, default_routes
from ..routes.requests import AccountLike, account_ref
from ..routes.spec import Built, RouteContext, RouteSpec
from ..store.models import Job, MediaItem
from .clock import Clock, SystemClock
from .records import JobRecord, MediaRecord

log = get_logger("engine")

__all__ = ["Builder", "PublisherFactory", "RouteNotConfigured"]

# how long a settings snapshot is trusted before it is read again (a GUI may change them)
SETTINGS_TTL = 30.0

# a stand-in for a route's own builder (tests, benchmarks): settings values -> publisher
Builder = Callable[[dict[str, object]], Publisher]


class PublisherFactory:
    def __init__(
        self,
        services: Services,
        clock: Clock | None = None,
        *,
        builders: dict[str, Builder] | None = None,
        routes: RouteRegistry | None = None,
    ) -> None:
        self.services = services
        self.clock = clock or SystemClock()
        self.routes = routes if routes is not None else default_routes()
        self.context = RouteContext(services, self.clock)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[tuple[str, str], ...], Built]] = {}
        self._snapshots: dict[str, tuple[float, dict[str, object]]] = {}
        # what ends publishers that are not closed on replace (a browser host)
        self._closers: list[Callable[[], None]] = []
        self._builders = dict(builders or {})

    # --- settings -------------------------------------------------------------------------
    def _settings(self, spec: RouteSpec) -> dict[str, object]:
        now = self.clock.monotonic()
        cached = self._snapshots.get(spec.name)
        if cached is not None and now - cached[0] < SETTINGS_TTL:
            return cached[1]
        values = {key: self.services.settings.get(key) for key in spec.settings}
        self._snapshots[spec.name] = (now, values)
        return values

    def invalidate(self) -> None:
        """Forget the settings snapshot (after the operator changed settings)."""
        with self._lock:
            self._snapshots.clear()

    # --- publishers -----------------------------------------------------------------------
    def get(self, route: str) -> Publisher:
        """The publisher for `route`; raises RouteNotConfigured when it cannot be built."""
        spec = self.routes.find(route)
        if spec is None:
            raise RouteNotConfigured(f"unknown route {route!r}")
        with self._lock:
            values = self._settings(spec)
            fingerprint = tuple(sorted((k, repr(v)) for k, v in values.items()))
            cached = self._cache.get(route)
            if cached is not None and cached[0] == fingerprint:
                return cached[1].publisher
            built = self._build(spec, values)
            self._cache[route] = (fingerprint, built)
            if not spec.close_on_replace and built.close is not None:
                self._closers.append(built.close)
        if cached is not None and spec.close_on_replace:
            _quietly(cached[1].close)
        return built.publisher

    def _build(self, spec: RouteSpec, values: dict[str, object]) -> Built:
        stand_in = self._builders.get(spec.name)
        if stand_in is None:
            return spec.build(self.context, values)
        publisher = stand_in(values)
        # a stand-in on a pooled route is closed like the route's own publisher
        close = getattr(publisher, "close", None) if spec.close_on_replace else None
        return Built(publisher, close if callable(close) else None)

    def close(self) -> None:
        with self._lock:
            closers, self._closers = self._closers, []
            pooled = [
                built.close
                for route, (_, built) in self._cache.items()
                if self.routes.get(route).close_on_replace
            ]
            self._cache.clear()
        for close in pooled + closers:
            _quietly(close)

    # --- requests -------------------------------------------------------------------------
    @staticmethod
    def account_ref(account: AccountLike) -> AccountRef:
        return account_ref(account)

    @classmethod
    def request_for(
        cls,
        job: Job | JobRecord,
        account: AccountLike,
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
            photos=tuple(Path(p) for p in _photo_paths(media)),
            cover_index=getattr(media, "cover_index", 0) or 0,
        )


def _photo_paths(media: MediaItem | MediaRecord) -> list[str]:
    images = getattr(media, "images", None) or ()
    return [i if isinstance(i, str) else i["path"] for i in images]


def _quietly(close: Callable[[], None] | None) -> None:
    # None: a publisher without close() (a stand-in a test or benchmark built)
    if close is None:
        return
    try:
        close()
    except Exception:
        log.exception("closing a publisher failed")
