"""An account's proxy carries all of its API traffic, and its password is never shown."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from piper_desktop.routes.base import CheckState
from piper_desktop.routes.tiktok_api.publisher import TikTokApiPublisher
from piper_desktop.sandbox.proxy import LocalProxy
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from tests.clients.helpers import MB, DictCredentialStore, FakeClock
from tests.clients.secrets_check import capture_logs
from tests.routes.conftest import ACCOUNT, MakeRequest, Receipts, connect


@pytest.fixture
def proxy() -> Iterator[LocalProxy]:
    with LocalProxy(users={"acct7": "pw-secret-7"}) as server:
        yield server  # type: ignore[misc]


def test_all_calls_go_through_the_account_proxy(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
    proxy: LocalProxy,
) -> None:
    connect(tiktok, store, clock, access_expires_at=0)  # forces a refresh too
    request = make_request(size=11 * MB)
    request = dataclasses.replace(
        request,
        account=dataclasses.replace(ACCOUNT, proxy_url=proxy.url_for("acct7", "pw-secret-7")),
    )
    with capture_logs() as logs:
        receipt = publisher.submit(request, receipts)
        while publisher.check(request, receipt).state is CheckState.PENDING:
            pass
    host = tiktok.base_url.removeprefix("http://")
    assert proxy.destinations_for("acct7") == {host}
    through_proxy = [r for r in proxy.records if r.username == "acct7" and r.authorized]
    assert len(through_proxy) == len(tiktok.requests)  # every request, token refresh included
    assert {r.method for r in through_proxy} >= {"POST", "PUT"}
    assert len(tiktok.posts) == 1
    logs.assert_clean(["pw-secret-7"])
