"""PublisherFactory: publishers follow the settings, and their HTTP clients are closed."""

from __future__ import annotations

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock, PublisherFactory
from piper_desktop.routes.upload_post.publisher import UploadPostPublisher
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.engine.helpers import use_upload_post


def _open_clients(publisher: UploadPostPublisher) -> int:
    return len(publisher._clients)  # the pool of kept-open HTTP clients


def test_a_settings_change_replaces_the_publisher_and_closes_the_old_ones_clients(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox
) -> None:
    use_upload_post(services, upload_post)
    factory = PublisherFactory(services, clock)
    old = factory.get("upload_post")
    assert isinstance(old, UploadPostPublisher) and factory.get("upload_post") is old
    with old._client(None):
        pass
    assert _open_clients(old) == 1

    services.settings.set("upload_post.api_key", "up-rotated-key")
    factory.invalidate()
    new = factory.get("upload_post")
    assert new is not old and new.settings.api_key == "up-rotated-key"
    assert _open_clients(old) == 0
    with new._client(None):
        pass
    factory.close()
    assert _open_clients(new) == 0
