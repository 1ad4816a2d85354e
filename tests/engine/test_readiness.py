"""The readiness check flags problems before the slot, not at it."""

from __future__ import annotations

import socket
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


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_dead_proxy_warns_before_the_slot_and_the_job_retries_at_it(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    proxy = services.proxies.add(
        {"host": "127.0.0.1", "port": closed_port(), "username": "u", "password": "proxy-secret-pw"}
    )
    account = add_account(services, "proxied", proxy_id=proxy.id)
    media = add_media(services, tmp_path, "x.mp4")
    jobs = [
        services.jobs.add(
            account_id=account.id,
            media_id=media.id,
            route="upload_post",
            at=clock.now() + timedelta(minutes=20 + n),
            caption=f"later {n}",
            now=clock.now(),
            allow_duplicate=True,
        )
        for n in range(2)
    ]
    engine = make_engine(services, clock)
    log = EventLog()
    engine.events.subscribe(log)

    problems = engine.check_readiness()

    assert sorted(p.job_id for p in problems) == sorted(j.id for j in jobs)
    # proxies come back by themselves: nobody waits for a person, the operator is warned once
    assert {services.jobs.get(j.id).status for j in jobs} == {"queued"}
    assert services.accounts.get(account.id).status == "active"
    assert services.proxies.get(proxy.id).status == "error"
    warnings = [e for e in log.events if e.data.get("code") == "proxy_down"]
    assert len(warnings) == 1 and "does not answer" in warnings[0].message
    assert log.of("needs_attention") == []
    assert "proxy-secret-pw" not in " ".join(e.message for e in log.events)
    # still dead at the slot: nothing is sent and the job retries, the proxy named
    clock.advance(21 * 60)
    engine.run_once()
    first = services.jobs.get(jobs[0].id)
    assert first.status == "retrying", first.last_error
    assert "proxy" in (first.last_error or "") and "proxy-secret-pw" not in (first.last_error or "")
    assert upload_post.uploads == []


def test_expired_api_login_flags_the_account_before_the_slot(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    now = clock.time()
    connect_tiktok(
        services, tiktok, account, now, access_expires_at=now - 60, refresh_expires_at=now - 1
    )
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "t.mp4").id,
        route="tiktok_api",
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
        at=clock.now() + timedelta(minutes=25),
        caption="soon",
        now=clock.now(),
    )
    problems = make_engine(services, clock).check_readiness()
    assert [p.scope for p in problems] == ["account"]
    assert services.jobs.get(job.id).status == "needs_attention"
    assert "connect it again" in (services.jobs.get(job.id).attention_reason or "")
    assert services.accounts.get(account.id).status == "needs_attention"


def test_creator_settings_and_changed_files_flag_only_the_job(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect_tiktok(services, tiktok, account, clock.time())
    tiktok.set_creator("sandbox_creator", max_video_post_duration_sec=10)
    long_clip = add_media(services, tmp_path, "long.mp4", duration_sec=60)
    too_long = services.jobs.add(
        account_id=account.id,
        media_id=long_clip.id,
        route="tiktok_api",
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
        at=clock.now() + timedelta(minutes=5),
        caption="long",
        now=clock.now(),
    )
    edited = add_media(services, tmp_path, "edited.mp4")
    changed = services.jobs.add(
        account_id=account.id,
        media_id=edited.id,
        route="tiktok_api",
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
        at=clock.now() + timedelta(minutes=5),
        caption="edited",
        now=clock.now(),
    )
    path = Path(edited.path)
    path.write_bytes(bytes(reversed(path.read_bytes())))  # same size, other content
    later = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "fine.mp4").id,
        route="tiktok_api",
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
        at=clock.now() + timedelta(hours=3),
        caption="not yet",
        now=clock.now(),
    )
    problems = make_engine(services, clock).check_readiness()
    assert {p.job_id: p.scope for p in problems} == {too_long.id: "job", changed.id: "job"}
    assert "at most 10 s" in (services.jobs.get(too_long.id).attention_reason or "")
    assert "changed since it was added" in (services.jobs.get(changed.id).attention_reason or "")
    assert services.jobs.get(later.id).status == "queued"  # beyond the horizon
    assert services.accounts.get(account.id).status == "active"
    assert tiktok.posts == []
