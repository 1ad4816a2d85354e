from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from piper_desktop.routes.base import AccountRef, PostOptions, PublishRequest, Receipt
from piper_desktop.routes.tiktok_api.publisher import TikTokApiPublisher, TikTokApiSettings
from piper_desktop.routes.upload_post.publisher import UploadPostPublisher, UploadPostSettings
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.clients.helpers import MB, DictCredentialStore, FakeClock, sparse_file

ACCOUNT = AccountRef(id=7, platform="tiktok", username="sandbox_creator")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> DictCredentialStore:
    return DictCredentialStore()


@pytest.fixture
def tiktok(clock: FakeClock) -> Iterator[TikTokApiSandbox]:
    with TikTokApiSandbox(clock=clock) as sandbox:
        yield sandbox  # type: ignore[misc]


def connect(
    sandbox: TikTokApiSandbox, store: DictCredentialStore, clock: FakeClock, **overrides: Any
) -> dict[str, Any]:
    """Store a fresh token pair for ACCOUNT, as the domain does after OAuth."""
    answer = sandbox.issue_tokens(ACCOUNT.username)
    creds = {
        "access_token": answer["access_token"],
        "refresh_token": answer["refresh_token"],
        "access_expires_at": clock() + answer["expires_in"],
        "refresh_expires_at": clock() + answer["refresh_expires_in"],
        "open_id": answer["open_id"],
        "scope": answer["scope"],
    } | overrides
    store.data[(ACCOUNT.id, "tiktok_api")] = creds
    return creds


@pytest.fixture
def publisher(
    tiktok: TikTokApiSandbox, store: DictCredentialStore, clock: FakeClock
) -> Iterator[TikTokApiPublisher]:
    settings = TikTokApiSettings(
        client_key=tiktok.client_key,
        client_secret=tiktok.client_secret,
        api_base=tiktok.base_url,
        auth_url=tiktok.auth_url,
        chunk_size=5 * MB,
        timeout=10.0,
        upload_retry_delays=(0.0, 0.0),
    )
    publisher = TikTokApiPublisher(store, settings, clock=clock, sleeper=clock.sleep)
    yield publisher
    publisher.close()


MakeRequest = Callable[..., PublishRequest]


@pytest.fixture
def make_request(tmp_path: Path) -> MakeRequest:
    def make(
        size: int = 2 * MB, caption: str = "First post #piper", **options: Any
    ) -> PublishRequest:
        path = sparse_file(tmp_path / f"clip-{size}.mp4", size)
        duration = options.pop("duration", 30.0)
        job_id = options.pop("job_id", 1)
        # the operator's choice, as compliance mode wants one (None: none was chosen)
        options.setdefault("privacy_level", "SELF_ONLY")
        return PublishRequest(
            job_id=job_id,
            idempotency_key=f"piper-job-{job_id}-{hashlib.sha256(str(tmp_path).encode()).hexdigest()[:8]}",
            account=ACCOUNT,
            media_path=path,
            media_size=size,
            media_sha256="",
            caption=caption,
            options=PostOptions.from_dict(options),
            media_duration_sec=duration,
        )

    return make


class Receipts(list[Receipt]):
    def __call__(self, receipt: Receipt) -> None:
        self.append(receipt)


@pytest.fixture
def receipts() -> Receipts:
    return Receipts()


@pytest.fixture
def upload_post() -> Iterator[UploadPostSandbox]:
    with UploadPostSandbox() as sandbox:
        yield sandbox  # type: ignore[misc]


MakeUpPublisher = Callable[..., UploadPostPublisher]


@pytest.fixture
def make_up_publisher(
    upload_post: UploadPostSandbox, store: DictCredentialStore
) -> Iterator[MakeUpPublisher]:
    """Upload-Post publishers against the stand-in, closed after the test (each keeps
    its connections open between calls)."""
    made: list[UploadPostPublisher] = []

    def make(
        api_key: str | None = None, timeout: float = 10.0, clock: Callable[[], float] = time.time
    ) -> UploadPostPublisher:
        settings = UploadPostSettings(
            api_key=api_key or upload_post.api_key, base_url=upload_post.api_base, timeout=timeout
        )
        made.append(UploadPostPublisher(store, settings, clock=clock))
        return made[-1]

    yield make
    for publisher in made:
        publisher.close()


@pytest.fixture
def up_publisher(
    make_up_publisher: MakeUpPublisher, store: DictCredentialStore
) -> UploadPostPublisher:
    store.data[(ACCOUNT.id, "upload_post")] = {"profile": "alice-profile"}
    return make_up_publisher()
