"""Jobs left mid-flight by a process that died: settled, never posted twice."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from piper_desktop.clients.upload_post import UploadPostClient
from piper_desktop.domain.leases import LeaseOwner, owner_is_dead
from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from piper_desktop.store.models import Job
from tests.engine.helpers import (
    add_account,
    add_media,
    connect_tiktok,
    make_engine,
    use_tiktok,
    use_upload_post,
)


def dead_owner() -> str:
    """The lease owner string of a process on this host that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()[:40]}:{proc.pid}:deadbeef"


def leave_in_flight(services: Services, job_id: int, status: str, **fields: Any) -> None:
    """Write the row as a process killed at that moment would have left it."""
    with services.db.write() as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.status = status
        for key, value in fields.items():
            setattr(job, key, value)


def test_lease_owner_liveness() -> None:
    me = LeaseOwner.new()
    assert LeaseOwner.parse(str(me)) == me
    assert owner_is_dead(dead_owner(), me)
    assert not owner_is_dead(str(LeaseOwner(me.host, me.pid, "other")), me)  # same process
    assert not owner_is_dead("elsewhere:1:abc", me)  # another host: wait for the lease
    assert not owner_is_dead(None, me)


def _job(services: Services, clock: ManualClock, tmp_path: Path, name: str, route: str) -> Job:
    account = services.accounts.find(name) if _exists(services, name) else None
    if account is None:
        account = add_account(services, name, routes=[route])
    return services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, f"{name}-{route}.mp4").id,
        route=route,
        at=clock.now(),
        caption=f"{name} clip",
        options={"privacy_level": "PUBLIC_TO_EVERYONE"} if route == "tiktok_api" else None,
        now=clock.now(),
    )


def _exists(services: Services, name: str) -> bool:
    return any(a.username == name for a in services.accounts.list())


def test_submitting_without_receipt_is_reposted_only_when_the_platform_has_nothing(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    gone = dead_owner()
    lease_end = clock.now() + timedelta(minutes=10)  # not expired: the owner's death frees it
    absent = _job(services, clock, tmp_path, "absent", "upload_post")
    arrived = _job(services, clock, tmp_path, "arrived", "upload_post")
    for job in (absent, arrived):
        leave_in_flight(
            services, job.id, "submitting", lease_owner=gone, lease_expires_at=lease_end, attempts=1
        )
    # the killed process's upload of `arrived` reached the platform; its answer did not
    with UploadPostClient(upload_post.api_key, base_url=upload_post.api_base) as client:
        client.upload(
            video=Path(services.media.get(arrived.media_id).path),
            user="arrived",
            title="arrived clip",
            platforms=["tiktok"],
            request_id=arrived.uuid,
        )

    make_engine(services, clock).run_once()

    for job in (absent, arrived):
        done = services.jobs.get(job.id)
        assert done.status == "published", done.last_error
        assert done.receipt == job.uuid
    assert sorted(u["request_id"] for u in upload_post.uploads) == sorted(
        [absent.uuid, arrived.uuid]
    )
    notes = [e.message for e in services.jobs.events(absent.id) if e.kind == "parked"]
    assert any("Upload-Post has no upload under the job's request id" in n for n in notes), notes
    notes = [e.message for e in services.jobs.events(arrived.id) if e.kind == "verifying"]
    assert any("the platform has it" in n for n in notes)


def test_file_upload_without_receipt_is_certainly_not_posted_and_goes_out_once(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    """Killed between sending video/init and keeping its answer: TikTok may have opened
    a publish, but its upload URL died with the process, so no byte can ever reach it."""
    use_tiktok(services, tiktok)
    job = _job(services, clock, tmp_path, "sandbox_creator", "tiktok_api")
    connect_tiktok(services, tiktok, services.accounts.get(job.account_id), clock.time())
    leave_in_flight(
        services,
        job.id,
        "submitting",
        lease_owner="otherhost:1:x",
        lease_expires_at=clock.now() - timedelta(seconds=1),
        attempts=1,
    )
    make_engine(services, clock).run_once()
    done = services.jobs.get(job.id)
    assert done.status == "published", done.last_error
    assert [p["title"] for p in tiktok.posts] == [job.caption]
    parked = [e.message for e in services.jobs.events(job.id) if e.kind == "parked"]
    assert any("cannot publish a FILE_UPLOAD whose bytes never arrived" in m for m in parked)


def test_pull_from_url_without_receipt_stays_unknown(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    """TikTok pulls a PULL_FROM_URL video by itself: the post may be up, and the API
    cannot find it without its publish_id, so a person decides."""
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "pulled.mp4").id,
        route="tiktok_api",
        at=clock.now(),
        caption="pulled clip",
        options={
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "source": "url",
            "video_url": "http://127.0.0.1:9/pulled.mp4",
        },
        now=clock.now(),
    )
    connect_tiktok(services, tiktok, services.accounts.get(account.id), clock.time())
    leave_in_flight(
        services,
        job.id,
        "submitting",
        lease_owner="otherhost:1:x",
        lease_expires_at=clock.now() - timedelta(seconds=1),
        attempts=1,
    )
    make_engine(services, clock).run_once()
    done = services.jobs.get(job.id)
    assert done.status == "needs_attention"
    assert "outcome unknown after a crash" in (done.attention_reason or "")
    assert tiktok.posts == []


def test_receipt_kept_means_checks_resume_and_claimed_means_requeue(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    with_receipt = _job(services, clock, tmp_path, "r1", "upload_post")
    only_claimed = _job(services, clock, tmp_path, "r2", "upload_post")
    with UploadPostClient(upload_post.api_key, base_url=upload_post.api_base) as client:
        client.upload(
            video=Path(services.media.get(with_receipt.media_id).path),
            user="r1",
            title="r1 clip",
            platforms=["tiktok"],
            request_id=with_receipt.uuid,
        )
    expired = clock.now() - timedelta(seconds=5)
    leave_in_flight(
        services,
        with_receipt.id,
        "submitted",
        lease_owner="otherhost:9:y",
        lease_expires_at=expired,
        receipt_kind="request_id",
        receipt=with_receipt.uuid,
        submitted_at=clock.now(),
        attempts=1,
    )
    leave_in_flight(
        services, only_claimed.id, "claimed", lease_owner="otherhost:9:y", lease_expires_at=expired
    )
    make_engine(services, clock).run_once()
    assert services.jobs.get(with_receipt.id).status == "published"
    assert services.jobs.get(only_claimed.id).status == "published"
    assert len(upload_post.uploads) == 2  # one each: the receipt's upload was not repeated


def test_a_live_lease_of_another_process_is_left_alone(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    job = _job(services, clock, tmp_path, "busy", "upload_post")
    holder = "otherhost:77:live"
    leave_in_flight(
        services,
        job.id,
        "submitting",
        lease_owner=holder,
        lease_expires_at=clock.now() + timedelta(minutes=5),
        attempts=1,
    )
    make_engine(services, clock).run_once()
    still = services.jobs.get(job.id)
    assert still.status == "submitting" and still.lease_owner == holder
    assert upload_post.uploads == []
