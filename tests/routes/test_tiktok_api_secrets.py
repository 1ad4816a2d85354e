"""A whole TikTok publish — refresh, upload, errors — logs no token or secret."""

from __future__ import annotations

import pytest

from piper_desktop.routes.base import PublishError
from piper_desktop.routes.tiktok_api.publisher import TikTokApiPublisher
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from tests.clients.helpers import MB, DictCredentialStore, FakeClock
from tests.clients.secrets_check import capture_logs
from tests.routes.conftest import MakeRequest, Receipts, connect


def test_publish_flow_leaks_nothing(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    old = connect(tiktok, store, clock)
    clock.advance(86400 * 2)
    with capture_logs() as logs:
        request = make_request(size=6 * MB)
        receipt = publisher.submit(request, receipts)
        publisher.check(request, receipt)
        tiktok.faults.add(Fault(r"status/fetch", status=503))
        with pytest.raises(PublishError) as caught:
            publisher.check(request, receipt)
        logs.error(caught.value)
        tiktok.expire_access_tokens()
        store.data[(7, "tiktok_api")]["refresh_token"] = "rft.gone-for-good"
        with pytest.raises(PublishError) as caught:
            publisher.check(request, receipt)
        logs.error(caught.value)
    new = store.saves[0][2]
    logs.assert_clean(
        [
            old["access_token"],
            old["refresh_token"],
            new["access_token"],
            new["refresh_token"],
            tiktok.client_secret,
            "rft.gone-for-good",
        ]
    )
    assert tiktok.client_secret not in repr(publisher.settings)
