"""Upload-Post publishing logs no API key, even on failures."""

from __future__ import annotations

import pytest

from piper_desktop.routes.base import PublishError
from piper_desktop.routes.upload_post.publisher import UploadPostPublisher
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.clients.secrets_check import capture_logs
from tests.routes.conftest import MakeRequest, MakeUpPublisher, Receipts


def test_api_key_never_shown(
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    make_up_publisher: MakeUpPublisher,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    wrong = make_up_publisher(api_key="up-wrong-key-123")
    with capture_logs() as logs:
        request = make_request()
        receipt = up_publisher.submit(request, receipts)
        up_publisher.check(request, receipt)
        with pytest.raises(PublishError) as caught:
            wrong.submit(make_request(job_id=2), receipts)
        logs.error(caught.value)
    logs.assert_clean([upload_post.api_key, "up-wrong-key-123"])
    assert upload_post.api_key not in repr(up_publisher.settings)
