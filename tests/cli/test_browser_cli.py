"""`piper browser ...` and `piper proxies check` as an operator runs them: real piper
subprocesses, real Chromium, the Studio replica and an authenticating local proxy."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.sandbox.proxy import LocalProxy
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from tests.conftest import piper_cmd, piper_env

pytestmark = pytest.mark.browser


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    # Chromium's singleton socket path must stay short: not under pytest's deep tmp_path
    with tempfile.TemporaryDirectory(prefix="pb-", dir="/tmp") as tmp:
        yield Path(tmp)


@pytest.fixture
def studio() -> Iterator[TikTokStudioSandbox]:
    with TikTokStudioSandbox() as server:
        yield server  # type: ignore[misc]


def _run(
    data_dir: Path, studio: TikTokStudioSandbox, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = piper_env(
        data_dir,
        PIPER_TIKTOK_WEB_BASE=studio.base_url,
        PIPER_PROXY_CHECK_URL=studio.base_url + "/api/ip",
        PIPER_BROWSER="/usr/bin/chromium",
        PIPER_BROWSER_FORCE_HEADLESS="1",
        PIPER_BROWSER_TEMP=str(tmp_path),
    )
    return subprocess.run(
        [*piper_cmd(), *args], capture_output=True, text=True, env=env, timeout=180
    )


def test_cookie_import_check_and_expiry(
    services: Services, data_dir: Path, studio: TikTokStudioSandbox, tmp_path: Path, short_tmp: Path
) -> None:
    account = services.accounts.add({"username": "webby"})
    studio.create_session("webby")
    cookies = studio.storage_state_for("webby")["cookies"]
    cookie_file = tmp_path / "cookies.json"
    cookie_file.write_text(json.dumps([*cookies, {"name": "broken"}]))
    imported = _run(
        data_dir, studio, tmp_path, "browser", "cookies", "import", "webby", str(cookie_file)
    )
    assert imported.returncode == 1  # one bad entry, named
    assert "imported" in imported.stdout and "line" in imported.stderr
    assert services.accounts.storage_state(account.id)

    checked = _run(data_dir, studio, short_tmp, "browser", "check", "webby", "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["logged_in"] is True

    studio.expire_sessions("webby")
    expired = _run(data_dir, studio, short_tmp, "browser", "check", "webby", "--json")
    assert expired.returncode == 1
    assert json.loads(expired.stdout)["status"] == "needs_login"
    assert services.accounts.get(account.id).status == "needs_login"

    out = tmp_path / "export.txt"
    exported = _run(
        data_dir,
        studio,
        tmp_path,
        "browser",
        "cookies",
        "export",
        "webby",
        str(out),
        "--format",
        "netscape",
    )
    assert exported.returncode == 0, exported.stderr
    assert out.stat().st_mode & 0o077 == 0  # only the operator may read it
    assert "sessionid" in out.read_text()
    # no browser profile or cookie file stays behind after the commands
    leftovers = [p for p in short_tmp.rglob("*") if p.is_file()]
    assert [p.name for p in leftovers] == [".piper-browser-root"]  # the root marker only


def test_probe_reports_selectors_without_posting(
    services: Services, data_dir: Path, studio: TikTokStudioSandbox, tmp_path: Path, short_tmp: Path
) -> None:
    account = services.accounts.add({"username": "prober"})
    studio.create_session("prober")
    services.accounts.save_storage_state(account.id, studio.storage_state_for("prober"))
    probed = _run(data_dir, studio, short_tmp, "browser", "probe", "prober", "--json")
    assert probed.returncode == 0, probed.stderr + probed.stdout
    rows = json.loads(probed.stdout)
    assert rows and all(r["found"] for r in rows)
    assert studio.posts == []  # type: ignore[comparison-overlap]


def test_proxies_check_records_latency_and_wrong_password(
    services: Services, data_dir: Path, studio: TikTokStudioSandbox, tmp_path: Path, short_tmp: Path
) -> None:
    with LocalProxy(users={"alice": "right-password"}) as proxy:
        port = int(proxy.base_url.rsplit(":", 1)[1])
        good = services.proxies.add(
            {"host": "127.0.0.1", "port": port, "username": "alice", "password": "right-password"}
        )
        bad = services.proxies.add(
            {"host": "127.0.0.1", "port": port, "username": "mallory", "password": "guess"}
        )
        result = _run(data_dir, studio, short_tmp, "proxies", "check", "--json")
    assert result.returncode == 1  # one proxy failed
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows[good.id]["ok"] and rows[good.id]["exit_ip"]
    assert not rows[bad.id]["ok"] and "407" in rows[bad.id]["error"]
    assert services.proxies.get(good.id).status == "ok"
    stored_bad = services.proxies.get(bad.id)
    assert stored_bad.status == "error" and "407" in (stored_bad.last_error or "")
    assert "right-password" not in result.stdout + result.stderr


def test_open_for_a_job_hands_back_to_the_queue(
    services: Services, data_dir: Path, studio: TikTokStudioSandbox, short_tmp: Path, tmp_path: Path
) -> None:
    from piper_desktop.store.models import Job
    from tests.conftest import make_video

    account = services.accounts.add({"username": "solver"})
    media, _ = services.media.add(make_video(tmp_path, "solve.mp4"))
    job = services.jobs.add(account_id=account.id, media_id=media.id, route="browser")
    with services.db.write() as session:
        row = session.get(Job, job.id)
        assert row is not None
        row.status = "needs_attention"
        row.attention_reason = "captcha on the upload page"
    services.accounts.set_status(account.id, "needs_attention", "captcha")
    studio.create_session("solver")
    services.accounts.save_storage_state(account.id, studio.storage_state_for("solver"))
    # the "operator" closes the window after a second (--timeout)
    opened = _run(
        data_dir,
        studio,
        short_tmp,
        "browser",
        "open",
        "solver",
        "--job",
        str(job.id),
        "--timeout",
        "1",
    )
    assert opened.returncode == 0, opened.stderr
    assert services.jobs.get(job.id).status == "queued"
    assert services.accounts.get(account.id).status == "active"
