"""`piper proxies check` on SOCKS5 proxies with a password: a real piper subprocess, the
sandbox's SOCKS5 server, a result saved for each proxy and never a traceback."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.sandbox.socks import LocalSocksProxy
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from tests.conftest import piper_cmd, piper_env

PASSWORD = "right s0cks#pw"


@pytest.fixture
def echo_ip() -> Iterator[TikTokStudioSandbox]:
    # the Studio replica's /api/ip answers the address it sees: the proxy check's target
    with TikTokStudioSandbox() as server:
        yield server  # type: ignore[misc]


def test_proxies_check_socks5_good_and_wrong_password(
    services: Services, data_dir: Path, echo_ip: TikTokStudioSandbox
) -> None:
    with LocalSocksProxy(users={"alice": PASSWORD}) as socks:
        port = int(socks.base_url.rsplit(":", 1)[1])
        common = {"scheme": "socks5", "host": "127.0.0.1", "port": port}
        good = services.proxies.add(common | {"username": "alice", "password": PASSWORD})
        bad = services.proxies.add(common | {"username": "mallory", "password": "guess"})
        env = piper_env(data_dir, PIPER_PROXY_CHECK_URL=echo_ip.base_url + "/api/ip")
        result = subprocess.run(
            [*piper_cmd(), "proxies", "check", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        records = socks.records
    assert "Traceback" not in result.stderr
    assert result.returncode == 1, result.stderr  # one proxy failed
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows[good.id]["ok"] and rows[good.id]["exit_ip"] == "127.0.0.1"
    assert rows[good.id]["country"] == "US"  # from the IP-info answer, stored below
    assert not rows[bad.id]["ok"]
    assert rows[bad.id]["error"] == "proxy authentication failed (SOCKS5 login refused)"
    assert services.proxies.get(good.id).status == "ok"
    assert services.proxies.get(good.id).country == "US"
    assert services.proxies.get(bad.id).status == "error"
    # the check really went through the SOCKS5 server, with each proxy's own login
    assert {(r.username, r.authorized) for r in records} == {("alice", True), ("mallory", False)}
    assert PASSWORD not in result.stdout + result.stderr
