"""The periodic duties the scheduler runs, and the GUI's pause/resume."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.engine.helpers import (
    EventLog,
    add_account,
    add_media,
    connect_tiktok,
    make_engine,
    use_tiktok,
    use_upload_post,
)
from tests.engine.test_readiness import closed_port


def test_token_refresh_duty_renews_tokens_about_to_expire(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox
) -> None:
    use_tiktok(services, tiktok)
    soon = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    later = add_account(services, "other_creator", routes=["tiktok_api"])
    now = clock.time()
    old = connect_tiktok(services, tiktok, soon, now, access_expires_at=now + 600)
    kept = connect_tiktok(services, tiktok, later, now)

    assert make_engine(services, clock).run_duty("token_refresh") == 1

    renewed = services.accounts.load(soon.id, "tiktok_api")
    assert renewed["access_token"] != old["access_token"]
    assert renewed["refresh_token"] != old["refresh_token"]  # rotated, saved at once
    assert renewed["access_expires_at"] > now + 3600
    assert services.accounts.load(later.id, "tiktok_api")["access_token"] == kept["access_token"]


def test_proxy_duty_records_the_health_of_proxies_in_use(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    proxy = services.proxies.add({"host": "127.0.0.1", "port": closed_port()})
    idle = services.proxies.add({"host": "127.0.0.1", "port": proxy.port % 65000 + 1})
    account = add_account(services, "behind_proxy", proxy_id=proxy.id)
    services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "p.mp4").id,
        route="upload_post",
        at=clock.now() + timedelta(hours=2),
        caption="later",
        now=clock.now(),
    )
    assert make_engine(services, clock).check_proxies() == 1
    checked = services.proxies.get(proxy.id)
    assert checked.status == "error" and checked.last_check_at is not None
    assert services.proxies.get(idle.id).status == "unchecked"  # no job needs it


def test_pause_keeps_jobs_queued_until_resume(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    account = add_account(services, "paused_engine")
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "q.mp4").id,
        route="upload_post",
        at=clock.now(),
        caption="wait",
        now=clock.now(),
    )
    engine = make_engine(services, clock)
    log = EventLog()
    engine.events.subscribe(log)
    engine.pause()
    assert engine.state == "paused"
    engine.run_once()
    assert services.jobs.get(job.id).status == "queued"
    engine.resume()
    engine.run_once()
    assert services.jobs.get(job.id).status == "published"
    states = [e.status for e in log.of("engine")]
    assert "paused" in states and states[-1] == "stopped"
