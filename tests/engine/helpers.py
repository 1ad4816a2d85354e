"""Building blocks for engine tests: accounts, media, connected routes, an event log."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from piper_desktop.domain.events import EngineEvent
from piper_desktop.domain.services import Services
from piper_desktop.engine import Engine, EngineConfig, ManualClock
from piper_desktop.engine.publishers import PublisherFactory
from piper_desktop.routes.registry import RouteRegistry
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from piper_desktop.store.models import Account, MediaItem
from tests.conftest import make_video


def add_account(services: Services, username: str, **fields: Any) -> Account:
    record: dict[str, Any] = {
        "username": username,
        "min_spacing_minutes": 0,
        "max_posts_per_day": 20,
        "routes": ["upload_post"],
    }
    record.update(fields)
    return services.accounts.add(record)


def add_media(services: Services, directory: Path, name: str, **record: Any) -> MediaItem:
    """A real video added to the library; `duration_sec` makes it that long."""
    seconds = float(record.pop("duration_sec", 1.0))
    item, _ = services.media.add(make_video(directory, name, seconds=seconds), record or None)
    return item


def use_upload_post(services: Services, sandbox: UploadPostSandbox) -> None:
    services.settings.set("upload_post.api_key", sandbox.api_key)
    services.settings.set("upload_post.base", sandbox.api_base)


def use_tiktok(services: Services, sandbox: TikTokApiSandbox) -> None:
    services.settings.set("tiktok.client_key", sandbox.client_key)
    services.settings.set("tiktok.client_secret", sandbox.client_secret)
    services.settings.set("tiktok.api_base", sandbox.base_url)
    services.settings.set("tiktok.auth_url", sandbox.auth_url)


def connect_tiktok(
    services: Services,
    sandbox: TikTokApiSandbox,
    account: Account,
    now: float,
    **overrides: Any,
) -> dict[str, Any]:
    """Store a token pair for the account, as `piper accounts connect` does."""
    answer = sandbox.issue_tokens(account.username)
    creds = {
        "access_token": answer["access_token"],
        "refresh_token": answer["refresh_token"],
        "access_expires_at": now + answer["expires_in"],
        "refresh_expires_at": now + answer["refresh_expires_in"],
        "open_id": answer["open_id"],
        "scope": answer["scope"],
    } | overrides
    services.accounts.save(account.id, "tiktok_api", creds)
    return creds


# engines made by a test; tests/engine/conftest.py closes their publishers afterwards,
# since a test may call a duty without ever starting or stopping the engine
MADE_ENGINES: list[Engine] = []


def make_engine(
    services: Services,
    clock: ManualClock,
    *,
    routes: RouteRegistry | None = None,
    **overrides: Any,
) -> Engine:
    """An engine on the test's clock; `routes`: a registry of the test's own (a route
    made in the test, a wrapped publisher), else the default routes."""
    config = EngineConfig.from_settings(services.settings, **overrides)
    factory = PublisherFactory(services, clock, routes=routes) if routes is not None else None
    engine = Engine(
        services,
        clock=clock,
        config=config,
        factory=factory,
        rng=random.Random(7),
        watch_system=False,
    )
    MADE_ENGINES.append(engine)
    return engine


class EventLog:
    """Collects engine events; tests wait on conditions, never on time."""

    def __init__(self) -> None:
        self.events: list[EngineEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: EngineEvent) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def kinds(self, job_id: int | None = None) -> list[str]:
        with self._cond:
            return [e.kind.value for e in self.events if job_id is None or e.job_id == job_id]

    def of(self, kind: str) -> list[EngineEvent]:
        with self._cond:
            return [e for e in self.events if e.kind.value == kind]

    def wait_for(
        self, predicate: Callable[[list[EngineEvent]], bool], timeout: float = 20.0
    ) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.events), timeout)
