"""SOCKS5 proxies with a password on the API routes: every call goes through the proxy,
and a proxy that cannot be reached or refuses the login is a certain no-post to retry."""

from __future__ import annotations

import dataclasses
import gc
import warnings
from collections.abc import Callable, Iterator

import pytest

from piper_desktop.routes.base import CheckState, PublishError, PublishRequest
from piper_desktop.routes.tiktok_api.publisher import TikTokApiPublisher
from piper_desktop.routes.upload_post.publisher import UploadPostPublisher
from piper_desktop.sandbox.socks import LocalSocksProxy
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.clients.helpers import MB, DictCredentialStore, FakeClock
from tests.clients.secrets_check import capture_logs
from tests.routes.conftest import ACCOUNT, MakeRequest, Receipts, connect

USER, PASSWORD = "acct7", "s0cks pass#7"


@pytest.fixture
def socks() -> Iterator[LocalSocksProxy]:
    with LocalSocksProxy(users={USER: PASSWORD}) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def dead_socks_url() -> str:
    """The URL of a SOCKS5 proxy that was there a moment ago: nothing listens now."""
    server = LocalSocksProxy(users={USER: PASSWORD}).start()
    url = server.url_for(USER, PASSWORD)  # type: ignore[attr-defined]
    server.stop()
    return str(url)


def refused(call: Callable[[], object]) -> PublishError:
    """The PublishError `call` raises, as a copy without its traceback. httpcore leaves its
    socket to the proxy unclosed when the SOCKS5 login is refused (the garbage collector
    frees it, with a ResourceWarning): that warning is httpcore's, so it is let pass here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(PublishError) as caught:
            call()
        exc = caught.value
        error = PublishError(
            str(exc), retryable=exc.retryable, certainly_not_posted=exc.certainly_not_posted
        )
        del exc, caught
        gc.collect()
    return error


def through(request: PublishRequest, proxy_url: str) -> PublishRequest:
    return dataclasses.replace(request, account=dataclasses.replace(ACCOUNT, proxy_url=proxy_url))


def test_tiktok_api_publishes_through_socks5_with_a_password(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
    socks: LocalSocksProxy,
) -> None:
    connect(tiktok, store, clock, access_expires_at=0)  # a token refresh goes through it too
    request = through(make_request(size=6 * MB), socks.url_for(USER, PASSWORD))
    with capture_logs() as logs:
        receipt = publisher.submit(request, receipts)
        while publisher.check(request, receipt).state is CheckState.PENDING:
            pass
    assert len(tiktok.posts) == 1
    assert socks.destinations_for(USER) == {tiktok.base_url.removeprefix("http://")}
    assert all(r.authorized for r in socks.records)
    logs.assert_clean([PASSWORD])


def test_upload_post_publishes_through_socks5_with_a_password(
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    make_request: MakeRequest,
    receipts: Receipts,
    socks: LocalSocksProxy,
) -> None:
    request = through(make_request(size=2 * MB), socks.url_for(USER, PASSWORD))
    up_publisher.submit(request, receipts)
    assert len(upload_post.uploads) == 1
    assert socks.destinations_for(USER) == {upload_post.base_url.removeprefix("http://")}


@pytest.mark.parametrize("failure", ["dead", "wrong password"])
def test_tiktok_api_proxy_failure_is_a_certain_no_post_to_retry(
    failure: str,
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
    socks: LocalSocksProxy,
    dead_socks_url: str,
) -> None:
    connect(tiktok, store, clock)
    url = dead_socks_url if failure == "dead" else socks.url_for(USER, "not-it")
    with capture_logs() as logs:
        error = refused(lambda: publisher.submit(through(make_request(), url), receipts))
    assert error.retryable and error.certainly_not_posted
    assert receipts == [] and tiktok.posts == [] and tiktok.requests == []
    assert PASSWORD not in str(error)
    logs.assert_clean([PASSWORD])


@pytest.mark.parametrize("failure", ["dead", "wrong password"])
def test_upload_post_proxy_failure_is_a_certain_no_post_to_retry(
    failure: str,
    up_publisher: UploadPostPublisher,
    upload_post: UploadPostSandbox,
    make_request: MakeRequest,
    receipts: Receipts,
    socks: LocalSocksProxy,
    dead_socks_url: str,
) -> None:
    url = dead_socks_url if failure == "dead" else socks.url_for(USER, "not-it")
    error = refused(lambda: up_publisher.submit(through(make_request(), url), receipts))
    assert error.retryable and error.certainly_not_posted
    assert receipts == [] and upload_post.uploads == [] and upload_post.requests == []
    if failure == "wrong password":
        assert "proxy refused" in str(error)
