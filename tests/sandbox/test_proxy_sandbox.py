"""The loopback proxy and the proxy health check against it."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from piper_desktop.clients.proxycheck import ProxySpec, check_proxies
from piper_desktop.sandbox.proxy import LocalProxy
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox


@pytest.fixture
def studio() -> Iterator[TikTokStudioSandbox]:
    with TikTokStudioSandbox() as server:
        yield server


def test_forwarding_auth_and_refusal(studio: TikTokStudioSandbox) -> None:
    with LocalProxy(users={"u1": "p1"}, exit_address="127.0.0.2") as proxy:
        with httpx.Client(proxy=proxy.url_for("u1", "p1"), trust_env=False) as client:
            answer = client.get(studio.base_url + "/api/ip").json()
            assert answer == {"ip": "127.0.0.2", "country": "US"}  # ipinfo.io's shape
            refused = client.get("http://0.0.0.0:9/")
            assert refused.status_code == 403 and "loopback only" in refused.text
        with httpx.Client(proxy=proxy.url_for("u1", "nope"), trust_env=False) as client:
            denied = client.get(studio.base_url + "/api/ip")
        assert denied.status_code == 407 and "Basic" in denied.headers["proxy-authenticate"]
        records = proxy.records
    dest = studio.base_url.removeprefix("http://")
    assert [(r.username, r.authorized, r.destination, r.status) for r in records] == [
        ("u1", True, dest, 200),
        ("u1", True, "0.0.0.0:9", 403),
        ("u1", False, dest, 407),
    ]


def test_connect_tunnel(studio: TikTokStudioSandbox) -> None:
    host, port = studio.httpd.server_address[:2]
    with LocalProxy() as proxy:
        phost, pport = proxy.httpd.server_address[:2]
        with socket.create_connection((phost, pport), timeout=5) as sock:
            sock.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            reader = sock.makefile("rb")
            assert reader.readline().startswith(b"HTTP/1.1 200")
            while reader.readline() not in (b"\r\n", b""):
                pass
            sock.sendall(
                f"GET /api/ip HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
            )
            answer = reader.read()
            reader.close()
        assert answer.startswith(b"HTTP/1.1 200") and b'"ip": "127.0.0.1"' in answer
        assert proxy.records[0].method == "CONNECT" and proxy.records[0].status == 200


def test_check_proxies_reports_each(studio: TikTokStudioSandbox) -> None:
    studio.httpd.exit_country = "JP"  # the echo stand-in's answer: the exit country
    with (
        LocalProxy(users={"a": "pa"}, exit_address="127.0.0.3") as good,
        LocalProxy(users={"b": "pb"}) as strict,
    ):
        dead = socket.socket()
        dead.bind(("127.0.0.1", 0))
        dead_port = dead.getsockname()[1]
        dead.close()
        results = check_proxies(
            [
                ProxySpec.from_parts(
                    1, "127.0.0.1", good.httpd.server_address[1], username="a", password="pa"
                ),
                ProxySpec(2, strict.url_for("b", "wrong")),
                ProxySpec(3, f"http://127.0.0.1:{dead_port}"),
            ],
            studio.base_url + "/api/ip",
            concurrency=2,
            timeout=5,
        )
    ok, wrong, unreachable = results
    assert ok.ok and ok.exit_ip == "127.0.0.3" and ok.latency_ms is not None
    assert ok.country == "JP" and wrong.country is None
    assert (wrong.ok, wrong.error) == (False, "proxy authentication failed (407)")
    assert not unreachable.ok and unreachable.error
    assert "wrong" not in (wrong.error or "")
