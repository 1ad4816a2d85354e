"""The local API served by a real engine (real clock) against the Upload-Post stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from piper_desktop.domain.services import Services
from piper_desktop.engine import Engine
from piper_desktop.intake.api.token import ensure_token
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.engine.helpers import EventLog


@dataclass
class Served:
    services: Services
    engine: Engine
    base: str
    token: str
    log: EventLog
    upload_post: UploadPostSandbox

    def client(self, token: str | None = None, **headers: str) -> httpx.Client:
        auth = {"Authorization": f"Bearer {self.token if token is None else token}"}
        return httpx.Client(base_url=self.base, headers=auth | headers, timeout=30)


@pytest.fixture
def upload_post() -> Iterator[UploadPostSandbox]:
    with UploadPostSandbox(polls_to_complete=1, rate_limit=(100_000, 60.0)) as sandbox:
        yield sandbox  # type: ignore[misc]


def serve(
    services: Services, data_dir: Path, upload_post: UploadPostSandbox, **options: object
) -> Iterator[Served]:
    services.settings.set("upload_post.api_key", upload_post.api_key)
    services.settings.set("upload_post.base", upload_post.api_base)
    services.settings.set("engine.check_seconds", 1)
    # the engine's own tick far away: what the API makes due must wake it
    services.settings.set("engine.tick_seconds", 3600)
    engine = Engine(
        services,
        data_dir=data_dir,
        watch_system=False,
        hosted_options={"api": True, "api_port": 0, **options},
    )
    log = EventLog()
    engine.events.subscribe(log)
    engine.start()
    try:
        server = next(h for h in engine.hosted.running if h.name == "api")
        yield Served(
            services,
            engine,
            server.address,  # type: ignore[attr-defined]
            ensure_token(services.settings),
            log,
            upload_post,
        )
    finally:
        engine.stop(timeout=10)


@pytest.fixture
def served(services: Services, data_dir: Path, upload_post: UploadPostSandbox) -> Iterator[Served]:
    yield from serve(services, data_dir, upload_post, api_max_upload_bytes=2 * 1024 * 1024)
