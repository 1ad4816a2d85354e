"""`piper run --api --api-port 0` and `piper api token --rotate` as real programs."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import threading
from pathlib import Path
from typing import IO

import httpx
import pytest

from piper_desktop.domain.services import Services
from tests.conftest import piper_cmd, piper_env

# the subprocesses open the data dir's own file
pytestmark = pytest.mark.local_store


def _lines(stream: IO[str]) -> queue.Queue[str | None]:
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_piper_run_serves_the_api_until_sigterm_and_a_rotation_shuts_out_the_old_token(
    services: Services, data_dir: Path
) -> None:
    env = piper_env(data_dir)
    token = subprocess.run(
        [*piper_cmd(), "api", "token"], env=env, capture_output=True, text=True, timeout=120
    )
    assert token.returncode == 0, token.stderr
    old = token.stdout.strip()
    assert len(old) >= 40 and old not in token.stderr
    proc = subprocess.Popen(
        [*piper_cmd(), "run", "--api", "--api-port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = _lines(proc.stdout)
        address = None
        while address is None:
            line = lines.get(timeout=120)
            assert line is not None, proc.stderr.read() if proc.stderr else ""
            found = re.fullmatch(r"API listening on (http://127\.0\.0\.1:\d+)\n", line)
            address = found.group(1) if found else None
        assert not address.endswith(":0")
        with httpx.Client(base_url=address, timeout=30) as c:
            auth = {"Authorization": f"Bearer {old}"}
            assert c.get("/api/v1/jobs", headers=auth).json() == []
            rotated = subprocess.run(
                [*piper_cmd(), "api", "token", "--rotate"],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            new = rotated.stdout.strip()
            assert rotated.returncode == 0 and new and new != old
            assert c.get("/api/v1/jobs", headers=auth).status_code == 401
            assert c.get("/api/v1/jobs", headers={"Authorization": f"Bearer {new}"}).is_success
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{address}/api/v1/jobs")
        out = proc.stdout.read() if proc.stdout else ""
        err = proc.stderr.read() if proc.stderr else ""
        assert old not in out + err and new not in out + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_piper_run_api_on_a_port_in_use_says_so_and_exits_1(
    services: Services, data_dir: Path
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [*piper_cmd(), "run", "--api", "--api-port", str(port)],
            env=piper_env(data_dir),
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == 1, proc.stderr
    assert "piper: the API did not start" in proc.stderr and "Traceback" not in proc.stderr
    assert "API listening" not in proc.stdout


def test_the_token_is_shown_by_piper_api_token_only(services: Services, data_dir: Path) -> None:
    env = piper_env(data_dir)

    def piper(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*piper_cmd(), *args], env=env, capture_output=True, text=True, timeout=120
        )

    token = piper("api", "token").stdout.strip()
    assert token and piper("api", "token").stdout.strip() == token  # made once, kept
    for args in (("settings", "get", "api.token"), ("settings", "list", "--json")):
        shown = piper(*args)
        assert shown.returncode == 0 and token not in shown.stdout + shown.stderr
    revealed = piper("settings", "get", "api.token", "--reveal")
    assert revealed.returncode == 2 and "piper api token" in revealed.stderr
    assert token not in revealed.stdout + revealed.stderr
