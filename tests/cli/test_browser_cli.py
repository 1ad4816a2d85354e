"""`piper browser ...` and `piper proxies check` as an operator runs them: real piper
subprocesses, real Chromium, the Studio replica and an authenticating local proxy."""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from piper_desktop.domain.errors import DomainError
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
    assert all(r["drift"] == "" for r in rows), "the default page matches first candidates"
    assert studio.posts == []  # type: ignore[comparison-overlap]

    # the page changed: the probe still finds the file input, names the fallback used,
    # and the drift is kept (with the date first seen) for the GUI
    studio.configure(variant="file_button")
    probed = _run(data_dir, studio, short_tmp, "browser", "probe", "prober")
    assert probed.returncode == 0, probed.stderr + probed.stdout
    [line] = [ln for ln in probed.stdout.splitlines() if ln.startswith("file_input")]
    assert "input[type=file][accept*='video']" in line and "fallback since 20" in line
    assert "drift: only a fallback matched" in probed.stderr and "file_input" in probed.stderr
    from piper_desktop.routes.web.drift import drift_rows

    assert "file_input" in [r.element for r in drift_rows(services)]


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


def _stopped_job(
    services: Services, studio: TikTokStudioSandbox, tmp_path: Path
) -> tuple[int, int]:
    """A browser job a captcha stopped (needs_attention), its account logged in."""
    from piper_desktop.store.models import Job
    from tests.conftest import make_video

    account = services.accounts.add({"username": "solver"})
    media, _ = services.media.add(make_video(tmp_path, "solve.mp4"))
    job = services.jobs.add(
        account_id=account.id, media_id=media.id, route="browser", caption="solved #once"
    )
    with services.db.write() as session:
        row = session.get(Job, job.id)
        assert row is not None
        row.status = "needs_attention"
        row.attention_reason = "captcha on the upload page"
    services.accounts.set_status(account.id, "needs_attention", "captcha")
    studio.create_session("solver")
    services.accounts.save_storage_state(account.id, studio.storage_state_for("solver"))
    studio.require_captcha("load", "solver")
    return account.id, job.id


def _env(studio: TikTokStudioSandbox, monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    monkeypatch.setenv("PIPER_TIKTOK_WEB_BASE", studio.base_url)
    monkeypatch.setenv("PIPER_BROWSER", "/usr/bin/chromium")
    monkeypatch.setenv("PIPER_BROWSER_FORCE_HEADLESS", "1")
    monkeypatch.setenv("PIPER_BROWSER_TEMP", str(tmp))


def test_resolve_continues_in_the_operator_window(
    services: Services,
    studio: TikTokStudioSandbox,
    short_tmp: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from piper_desktop.engine.handoff import resolve_job

    _env(studio, monkeypatch, short_tmp)
    _, job_id = _stopped_job(services, studio, tmp_path)
    seen: list[str | None] = []

    def operator_solves(handoff: Any) -> None:
        seen.append(handoff.blocked_by)

        async def click() -> None:
            page = handoff.window.page
            await page.locator("#captcha_container button").click()
            await page.locator("#captcha_container").wait_for(state="detached")

        handoff.window.host.run(click)

    result = resolve_job(services, job_id, wait_for_operator=operator_solves)
    assert seen == ["captcha"], "the window opened where the job stopped"
    [post] = studio.posts
    assert post.caption == "solved #once"
    assert len(studio.uploads) == 1, "the upload happened once, in the operator's window"
    assert result == {"job": job_id, "status": "published", "post_url": post.url}
    job = services.jobs.get(job_id)
    assert job.status == "published" and job.lease_owner is None and job.attempts == 1

    # nothing left to resolve: a second resolve refuses instead of posting again
    with pytest.raises(DomainError, match="not needs_attention"):
        resolve_job(services, job_id, wait_for_operator=operator_solves)
    assert len(studio.posts) == 1


def test_resolve_refuses_a_job_another_process_holds(
    services: Services, studio: TikTokStudioSandbox, tmp_path: Path
) -> None:
    from piper_desktop.engine.handoff import resolve_job
    from piper_desktop.store.models import Job

    _, job_id = _stopped_job(services, studio, tmp_path)
    with services.db.write() as session:
        row = session.get(Job, job_id)
        assert row is not None
        row.status = "submitting"
        row.lease_owner = "elsewhere:4242:beef"

    def never(_handoff: Any) -> None:
        raise AssertionError("no window for a job someone else runs")

    with pytest.raises(DomainError, match="elsewhere:4242:beef"):
        resolve_job(services, job_id, wait_for_operator=never)
    assert services.jobs.get(job_id).status == "submitting"


def test_open_for_a_job_closed_unsolved_stays_needs_attention(
    services: Services, data_dir: Path, studio: TikTokStudioSandbox, short_tmp: Path, tmp_path: Path
) -> None:
    account_id, job_id = _stopped_job(services, studio, tmp_path)
    # the "operator" lets the window close (--timeout) without solving the captcha
    opened = _run(
        data_dir,
        studio,
        short_tmp,
        "browser",
        "open",
        "solver",
        "--job",
        str(job_id),
        "--timeout",
        "1",
    )
    assert opened.returncode == 1, opened.stdout + opened.stderr
    assert "solve it in the window" in opened.stdout
    job = services.jobs.get(job_id)
    assert job.status == "needs_attention" and job.lease_owner is None
    assert "captcha" in (job.attention_reason or "")
    assert studio.posts == []  # type: ignore[comparison-overlap]
    assert services.accounts.get(account_id).status != "active"


def test_open_for_a_job_solved_then_closed_posts_once(
    services: Services, data_dir: Path, studio: TikTokStudioSandbox, short_tmp: Path, tmp_path: Path
) -> None:
    account_id, job_id = _stopped_job(services, studio, tmp_path)
    env = piper_env(
        data_dir,
        PIPER_TIKTOK_WEB_BASE=studio.base_url,
        PIPER_BROWSER="/usr/bin/chromium",
        PIPER_BROWSER_FORCE_HEADLESS="1",
        PIPER_BROWSER_TEMP=str(short_tmp),
    )
    args = ["browser", "open", "solver", "--job", str(job_id), "--timeout", "4"]
    with subprocess.Popen(
        [*piper_cmd(), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        assert proc.stdout is not None
        prompt = proc.stdout.readline()
        assert "solve it in the window" in prompt, prompt
        # the operator solves the captcha, then the window closes: nothing was posted, so
        # the job is published anew, once
        studio.require_captcha(None, "solver")
        out, err = proc.communicate(timeout=180)
    assert proc.returncode == 0, out + err
    [post] = studio.posts
    assert post.caption == "solved #once"
    job = services.jobs.get(job_id)
    assert job.status == "published" and job.post_url == post.url
    assert services.accounts.get(account_id).status == "active"


def test_a_session_open_at_another_desktop_is_refused_in_one_line(
    services: Services, data_dir: Path, studio: TikTokStudioSandbox, tmp_path: Path
) -> None:
    from piper_desktop.domain.leases import LeaseOwner
    from piper_desktop.domain.session_leases import SessionLeases

    account = services.accounts.add({"username": "shared"})
    stored = {"cookies": [{"name": "sid", "value": "1", "domain": ".tiktok.com", "path": "/"}]}
    services.accounts.save_storage_state(account.id, stored)
    other = SessionLeases(services.db, owner=LeaseOwner("desk-b", 4242, "t"))
    other.take(account.id, "publishing")
    for args in (("browser", "open", "shared"), ("browser", "cookies", "import", "shared")):
        extra = [str(tmp_path / "c.json")] if "import" in args else []
        (tmp_path / "c.json").write_text(
            json.dumps([{"name": "x", "value": "y", "domain": ".tiktok.com", "path": "/"}])
        )
        result = _run(data_dir, studio, tmp_path, *args, *extra)
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "session of tiktok:shared is in use at " in lines[0], lines
        assert "Traceback" not in result.stderr
    # nothing was overwritten, and the other desktop still holds it
    assert services.accounts.storage_state(account.id) == stored
    assert SessionLeases(services.db).holder(account.id) is not None
    other.release(account.id)
