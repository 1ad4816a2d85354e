"""An upload a dead process left short: continued where the platform's bytes end, or
replaced by a fresh publish when it can no longer be — never polled for hours, never
posted twice.

The "dead process" is the real engine and publisher, stopped dead after a given number
of acknowledged chunks (a BaseException out of the receipt callback, which nothing in
the engine catches), its lease then handed to a pid that has exited: the row, the
upload table and the stand-in's bytes are exactly what a kill -9 at that moment leaves.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from piper_desktop.clients.tiktok import MB
from piper_desktop.domain.services import Services
from piper_desktop.engine import Engine, ManualClock
from piper_desktop.engine.leases import LeaseOwner
from piper_desktop.routes.base import (
    ProgressCallback,
    Publisher,
    PublishRequest,
    Receipt,
    ReceiptCallback,
)
from piper_desktop.routes.registry import default_routes
from piper_desktop.routes.spec import Built, RouteContext, SettingsValues
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.store.models import Job, JobUpload
from tests.conftest import make_video
from tests.engine.helpers import add_account, connect_tiktok, make_engine, use_tiktok
from tests.engine.test_reconcile import dead_owner, leave_in_flight

CHUNK = 5 * MB
SIZE = 4 * CHUNK + 123_457  # four chunks, the last one longer


class Killed(BaseException):
    """The process died here (nothing in the engine catches a BaseException)."""


class DiesAfterChunks:
    """The real TikTok publisher, whose process dies once `chunks` chunks were acked."""

    def __init__(self, inner: Publisher, chunks: int) -> None:
        self.inner = inner
        self.chunks = chunks
        self.route = inner.route

    def submit(
        self,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        def receipt(r: Receipt) -> None:
            on_receipt(r)
            if r.upload is not None and r.upload.chunks_acked >= self.chunks:
                raise Killed

        return self.inner.submit(request, receipt, on_progress)

    def check(self, request: PublishRequest, receipt: Receipt) -> Any:
        return self.inner.check(request, receipt)

    def reconcile(self, request: PublishRequest) -> Any:
        return self.inner.reconcile(request)


def engine_for(services: Services, clock: ManualClock, *, dies_after: int | None = None) -> Engine:
    routes = default_routes()
    if dies_after is not None:
        spec = routes.get("tiktok_api")
        inner_build = spec.build

        def build(ctx: RouteContext, values: SettingsValues) -> Built:
            built = inner_build(ctx, values)
            return Built(DiesAfterChunks(built.publisher, dies_after), built.close)

        routes = routes.replacing(replace(spec, build=build))
    return make_engine(services, clock, routes=routes)


@pytest.fixture
def job(services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path) -> Job:
    use_tiktok(services, tiktok)
    services.settings.set("tiktok.chunk_size_mb", CHUNK // MB)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect_tiktok(services, tiktok, account, clock.time())
    media, _ = services.media.add(make_video(tmp_path, "long.mp4", size=SIZE))
    assert media.size == SIZE
    return services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="tiktok_api",
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
        at=clock.now(),
        caption="a long clip",
        now=clock.now(),
    )


def die_mid_upload(services: Services, clock: ManualClock, job: Job, chunks: int) -> None:
    """Post `job` until `chunks` chunks are acknowledged, then die as kill -9 would."""
    engine = engine_for(services, clock, dies_after=chunks)
    engine.run_once()
    left = services.jobs.get(job.id)
    assert left.status == "submitted", left.last_error
    assert left.lease_owner == str(engine.owner)
    # the process is gone: its lease, and its upload, now name a pid that has exited
    dead = dead_owner()
    leave_in_flight(services, job.id, "submitted", lease_owner=dead)
    with services.db.write() as session:
        row = session.get(JobUpload, job.id)
        assert row is not None and row.holder == str(engine.owner)
        row.holder = dead


def upload_row(services: Services, job_id: int) -> JobUpload:
    with services.db.session() as session:
        row = session.get(JobUpload, job_id)
        assert row is not None
        session.expunge(row)
        return row


def test_the_plan_is_kept_with_the_receipt_and_each_chunk_as_it_is_acked(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, job: Job
) -> None:
    die_mid_upload(services, clock, job, chunks=2)
    row = upload_row(services, job.id)
    left = services.jobs.get(job.id)
    assert row.receipt == left.receipt
    assert (row.total_bytes, row.chunk_size, row.chunk_count) == (SIZE, CHUNK, 4)
    assert (row.chunks_acked, row.bytes_acked) == (2, 2 * CHUNK)
    assert row.url and "/upload/" in row.url
    assert tiktok.publish(str(left.receipt)).received == 2 * CHUNK
    # the URL is a credential: in the encrypted store only, in no event
    assert all(row.url not in repr(e.data) + (e.message or "") for e in services.jobs.events(job.id))


@pytest.mark.parametrize(
    "server",
    ["as documented", "status without uploaded_bytes", "neither bytes in status nor Range in 416"],
)
def test_restart_resumes_with_the_next_chunk_and_posts_once(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, job: Job, server: str
) -> None:
    tiktok.state.status_has_bytes = server == "as documented"
    tiktok.state.range_on_416 = server != "neither bytes in status nor Range in 416"
    die_mid_upload(services, clock, job, chunks=2)
    publish_id = services.jobs.get(job.id).receipt
    if server != "as documented":
        # the last acknowledgement was lost with the process: the store knows one chunk
        # fewer than the platform has, and only the platform's 416 tells where it is
        with services.db.write() as session:
            row = session.get(JobUpload, job.id)
            assert row is not None
            row.chunks_acked, row.bytes_acked = 1, CHUNK

    engine_for(services, clock).run_once()

    done = services.jobs.get(job.id)
    assert done.status == "published", done.last_error
    assert done.receipt == publish_id  # the same publish, finished
    (post,) = tiktok.posts
    assert (post["publish_id"], post["bytes"]) == (publish_id, SIZE)
    publish = tiktok.publish(str(publish_id))
    assert publish.bytes_received_total == SIZE  # no chunk the platform had was taken twice
    assert publish.content_ranges[2].startswith(f"bytes {2 * CHUNK}-")
    notes = [e.message or "" for e in services.jobs.events(job.id) if e.kind == "upload"]
    where = "50% (chunk 3 of 4)" if server == "as documented" else "25% (chunk 2 of 4)"
    assert any(f"upload resumed at {where}" in n for n in notes), notes
    row = upload_row(services, job.id)
    assert (row.chunks_acked, row.resumes, row.url) == (4, 1, None)  # the URL forgotten


def test_an_expired_upload_url_gives_a_fresh_publish_by_itself(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, job: Job
) -> None:
    die_mid_upload(services, clock, job, chunks=1)
    old = services.jobs.get(job.id).receipt
    tiktok.expire_upload_urls()  # the platform answers 403 from now on

    engine_for(services, clock).run_once()

    done = services.jobs.get(job.id)
    assert done.status == "published", done.last_error
    assert done.receipt != old
    assert [p["publish_id"] for p in tiktok.posts] == [done.receipt]
    assert not tiktok.publish(str(old)).complete  # the old one can never go live
    receipts = [e.message or "" for e in services.jobs.events(job.id) if e.kind == "receipt"]
    assert any(
        f"old upload {old} abandoned at 25%: its upload URL expired (HTTP 403); fresh publish" in r
        for r in receipts
    ), receipts
    assert upload_row(services, job.id).abandoned == 1
    assert done.attempts == 1  # the crash spent no attempt


def test_a_stored_url_past_its_hour_is_not_even_tried(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, job: Job
) -> None:
    die_mid_upload(services, clock, job, chunks=1)
    old = str(services.jobs.get(job.id).receipt)
    clock.advance(2 * 3600)
    connect_tiktok(services, tiktok, services.accounts.get(job.account_id), clock.time())

    engine_for(services, clock).run_once()

    done = services.jobs.get(job.id)
    assert done.status == "published", done.last_error
    assert tiktok.publish(old).chunks_received == 1  # nothing more was sent to it
    assert [p["publish_id"] for p in tiktok.posts] == [done.receipt]
    receipts = [e.message or "" for e in services.jobs.events(job.id) if e.kind == "receipt"]
    assert any(": its upload URL expired; fresh publish" in r for r in receipts), receipts


def test_a_refused_resume_gives_a_fresh_publish(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, job: Job
) -> None:
    die_mid_upload(services, clock, job, chunks=3)
    old = str(services.jobs.get(job.id).receipt)
    tiktok.refuse_uploads()  # every unfinished upload answers 416 from now on

    engine_for(services, clock).run_once()

    done = services.jobs.get(job.id)
    assert done.status == "published", done.last_error
    assert [p["publish_id"] for p in tiktok.posts] == [done.receipt]
    assert done.receipt != old and not tiktok.publish(old).complete
    receipts = [e.message or "" for e in services.jobs.events(job.id) if e.kind == "receipt"]
    assert any(": TikTok refused to continue it (HTTP 416); fresh publish" in r for r in receipts), receipts


def test_a_stalled_upload_without_a_kept_plan_is_settled_not_polled(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, job: Job
) -> None:
    """What the first version left: verifying, the URL lost, PROCESSING_UPLOAD at half
    the bytes for ever. It is settled at its first check now."""
    die_mid_upload(services, clock, job, chunks=2)
    old = str(services.jobs.get(job.id).receipt)
    with services.db.write() as session:
        session.delete(session.get(JobUpload, job.id))
    leave_in_flight(services, job.id, "verifying", lease_owner=None, lease_expires_at=None,
                    next_attempt_at=clock.now())  # fmt: skip

    engine_for(services, clock).run_once()

    done = services.jobs.get(job.id)
    assert done.status == "published", done.last_error
    assert [p["publish_id"] for p in tiktok.posts] == [done.receipt]
    assert tiktok.publish(old).received == 2 * CHUNK
    receipts = [e.message or "" for e in services.jobs.events(job.id) if e.kind == "receipt"]
    assert any(": its upload URL was not kept; fresh publish" in r for r in receipts), receipts


def test_an_upload_a_live_process_holds_is_left_to_it(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, job: Job
) -> None:
    die_mid_upload(services, clock, job, chunks=2)
    publish_id = str(services.jobs.get(job.id).receipt)
    sender = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        live = str(LeaseOwner(LeaseOwner.new().host, sender.pid, "feedbeef"))
        leave_in_flight(services, job.id, "submitted", lease_owner=live,
                        lease_expires_at=clock.now() + timedelta(seconds=30))  # fmt: skip

        counts = engine_for(services, clock).run_once()

        left = services.jobs.get(job.id)
        assert (left.status, left.lease_owner) == ("submitted", live)
        assert tiktok.publish(publish_id).chunks_received == 2
        assert tiktok.posts == [] and counts.get("upload", 0) == 0
    finally:
        sender.kill()
        sender.wait()


def test_run_once_does_not_wait_on_a_platform_that_keeps_failing(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, job: Job
) -> None:
    """The status endpoint fails again and again: the checks back off beyond the run's
    horizon, so run_once returns and says what it leaves, instead of polling for hours."""
    tiktok.faults.add(Fault(r"/status/fetch/", status=503, times=10_000))
    said: list[str] = []
    engine = engine_for(services, clock)
    engine.events.subscribe(lambda e: said.append(e.message) if e.kind.value == "engine" else None)
    started = clock.now()

    engine.run_once()

    left = services.jobs.get(job.id)
    assert left.status == "verifying"
    assert left.next_attempt_at is not None and left.next_attempt_at > clock.now()
    assert (clock.now() - started).total_seconds() < 600  # engine time, not hours
    assert "1 verifying (waiting for the platform's word on them, next check at" in said[-1], said[-1]


def test_a_transient_failure_mid_upload_continues_the_same_publish(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, job: Job
) -> None:
    """The link fails for longer than the client's own retries after the receipt: not a
    new attempt (whose init could double the post), but the same upload, continued."""
    tiktok.faults.add(Fault(r"^/upload/", status=503, times=4))  # 1 try + 3 retries

    engine_for(services, clock).run_once()

    done = services.jobs.get(job.id)
    assert done.status == "published", done.last_error
    assert len(tiktok.state.publishes) == 1 and done.attempts == 1
    (post,) = tiktok.posts
    assert (post["publish_id"], post["bytes"]) == (done.receipt, SIZE)
    kinds = [e.kind for e in services.jobs.events(job.id)]
    assert "retrying" not in kinds and "upload" in kinds


def test_a_live_sender_whose_lease_ran_out_is_not_taken_over(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, job: Job
) -> None:
    """A laptop that slept: the sender lives, only its lease ran out. Reconciliation
    adopts the job, but the upload stays the sender's until it is gone or its URL's hour
    is over: two senders could mean two posts."""
    die_mid_upload(services, clock, job, chunks=2)
    publish_id = str(services.jobs.get(job.id).receipt)
    sender = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        live = str(LeaseOwner(LeaseOwner.new().host, sender.pid, "feedbeef"))
        leave_in_flight(services, job.id, "submitted", lease_owner=live,
                        lease_expires_at=clock.now() - timedelta(seconds=1))  # fmt: skip
        with services.db.write() as session:
            row = session.get(JobUpload, job.id)
            assert row is not None
            row.holder = live

        engine_for(services, clock).run_once()

        left = services.jobs.get(job.id)
        assert left.status == "verifying" and left.receipt == publish_id
        assert upload_row(services, job.id).holder == live
        assert tiktok.publish(publish_id).chunks_received == 2
        assert len(tiktok.state.publishes) == 1 and tiktok.posts == []
        notes = [e.message or "" for e in services.jobs.events(job.id)]
        assert any("may still be sending it" in n for n in notes), notes
    finally:
        sender.kill()
        sender.wait()


def test_a_changed_file_is_not_finished_with_other_bytes(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, job: Job
) -> None:
    die_mid_upload(services, clock, job, chunks=1)
    media = services.media.get(job.media_id)
    with open(media.path, "ab") as handle:
        handle.write(b"more")  # edited after the upload began

    engine_for(services, clock).run_once()

    left = services.jobs.get(job.id)
    assert left.status == "needs_attention"
    assert "cannot be finished with other bytes" in (left.attention_reason or "")
    assert tiktok.posts == [] and len(tiktok.state.publishes) == 1
