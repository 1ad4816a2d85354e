"""The sandbox's SOCKS5 server: passes an authorised client on, refuses a wrong login or
none, and records who went where without the password."""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator

import httpx
import pytest

from piper_desktop.sandbox import SANDBOXES
from piper_desktop.sandbox.socks import LocalSocksProxy
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox


@pytest.fixture
def web() -> Iterator[TikTokStudioSandbox]:
    with TikTokStudioSandbox() as server:
        yield server  # type: ignore[misc]


def _get(proxy_url: str, url: str) -> httpx.Response | httpx.ProxyError:
    # httpcore leaves its socket unclosed when a SOCKS login is refused (its
    # ResourceWarning is not ours to fail on): collected here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            with httpx.Client(proxy=proxy_url, trust_env=False, timeout=10) as client:
                return client.get(url)
        except httpx.ProxyError as exc:
            error = httpx.ProxyError(str(exc))
        gc.collect()
        return error


def test_socks5_with_a_password_passes_and_refuses(web: TikTokStudioSandbox) -> None:
    with LocalSocksProxy(users={"alice": "pa ss#1"}) as socks:
        answer = _get(socks.url_for("alice", "pa ss#1"), web.base_url + "/api/ip")
        wrong = _get(socks.url_for("alice", "nope"), web.base_url + "/api/ip")
        anonymous = _get(socks.url_for(), web.base_url + "/api/ip")
        records = socks.records
    assert isinstance(answer, httpx.Response) and answer.json() == {"ip": "127.0.0.1", "country": "US"}
    assert isinstance(wrong, httpx.ProxyError) and "username/password" in str(wrong)
    assert isinstance(anonymous, httpx.ProxyError)
    assert [(r.username, r.authorized) for r in records] == [
        ("alice", True),
        ("alice", False),
        (None, False),
    ]
    assert records[0].destination == web.base_url.removeprefix("http://")
    assert "pa ss#1" not in repr(records)


def test_registered_as_socks5() -> None:
    server = SANDBOXES["socks5"]("127.0.0.1").start()
    try:
        assert server.base_url.startswith("socks5://127.0.0.1:")
    finally:
        server.stop()
