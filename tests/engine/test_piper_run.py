"""The real `piper run` program against a stand-in running in this test process.

These start `piper` as a subprocess, like an operator or a service manager would, and
prove outcomes with the stand-in's own records: what reached "the platform", how often.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.conftest import piper_cmd, piper_env
from tests.engine.helpers import add_account, add_media

# `piper run` subprocesses open the data dir's file
pytestmark = [pytest.mark.slow, pytest.mark.local_store]
UPLOAD = r"^/api/upload$"


@pytest.fixture
def live_upload_post() -> Iterator[UploadPostSandbox]:
    """Upload-Post on the real clock: the subprocess lives in real time."""
    with UploadPostSandbox(polls_to_complete=2, rate_limit=(100_000, 60.0)) as sandbox:
        yield sandbox  # type: ignore[misc]


def configure(services: Services, sandbox: UploadPostSandbox) -> None:
    services.settings.set("upload_post.api_key", sandbox.api_key)
    services.settings.set("engine.check_seconds", 1)
    # everything due at once: these runs test caps and crashes, not a campaign's spread
    services.settings.set("campaigns.stagger_minutes", 0)
    services.settings.set("campaigns.jitter_minutes", 0)


def env_for(data_dir: Path, sandbox: UploadPostSandbox) -> dict[str, str]:
    return piper_env(data_dir, PIPER_UPLOAD_POST_BASE=sandbox.api_base)


def run_once(data_dir: Path, sandbox: UploadPostSandbox) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [*piper_cmd(), "run", "--once", "--json"],
        env=env_for(data_dir, sandbox),
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


class LineReader:
    """Lines of a child's stdout, read on a thread so the test can wait with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def until(self, predicate: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Events up to and including the first one `predicate` accepts."""
        seen: list[dict[str, Any]] = []
        while True:
            line = self.lines.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"the program ended first; saw {seen[-5:]}")
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            seen.append(event)
            if predicate(event, seen):
                return seen


def start_run(data_dir: Path, sandbox: UploadPostSandbox, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*piper_cmd(), "run", "--json", *extra],
        env=env_for(data_dir, sandbox),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def jobs_for(services: Services, n_accounts: int, per_account: int, tmp: Path) -> list[int]:
    accounts = [add_account(services, f"user{i}") for i in range(n_accounts)]
    now = datetime.now(UTC)
    ids = []
    for round_ in range(per_account):
        for account in accounts:
            media = add_media(services, tmp, f"{account.username}-{round_}.mp4")
            job = services.jobs.add(
                account_id=account.id,
                media_id=media.id,
                route="upload_post",
                at=now,
                caption=f"{account.username} clip {round_}",
                now=now,
            )
            ids.append(job.id)
    return ids


def test_campaign_of_30_jobs_over_5_accounts_under_run_once(
    services: Services, data_dir: Path, live_upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    configure(services, live_upload_post)
    names = [f"creator{i}" for i in range(5)]
    for name in names:
        add_account(services, name, max_posts_per_day=6)
    media = [add_media(services, tmp_path, f"clip{i:02}.mp4").id for i in range(30)]
    campaign = services.campaigns.create(
        {
            "name": "spring",
            "route": "upload_post",
            "media_ids": media,
            "account_selection": {"accounts": [f"tiktok:{n}" for n in names]},
            "caption_template": "{title} by {account}",
        }
    )
    # planned ten minutes ago (within the grace period): everything is due now
    ids = services.campaigns.start(campaign.id, now=datetime.now(UTC) - timedelta(minutes=10))
    capped = services.accounts.find("creator4")
    services.accounts.edit(capped.id, {"max_posts_per_day": 4})

    events = run_once(data_dir, live_upload_post)

    jobs = [services.jobs.get(i) for i in ids]
    by_status = Counter(j.status for j in jobs)
    assert by_status == {"published": 28, "queued": 2}
    uploads = live_upload_post.uploads
    assert sorted(u["request_id"] for u in uploads) == sorted(
        j.uuid for j in jobs if j.status == "published"
    )
    per_user = Counter(u["user"] for u in uploads)
    assert per_user == {"creator0": 6, "creator1": 6, "creator2": 6, "creator3": 6, "creator4": 4}
    held = [j for j in jobs if j.status == "queued"]
    assert {j.account_id for j in held} == {capped.id}
    tomorrow = datetime.combine(
        datetime.now(UTC).date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC
    )
    assert all(j.next_attempt_at == tomorrow and j.attempts == 0 for j in held)
    assert any(e["kind"] == "held" and "daily cap of 4" in e["message"] for e in events)
    assert [e for e in events if e["kind"] == "engine"][-1]["message"].startswith("done:")


def test_kill_9_mid_upload_then_restart_publishes_every_job_exactly_once(
    services: Services, data_dir: Path, live_upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    configure(services, live_upload_post)
    ids = jobs_for(services, 5, 2, tmp_path)
    uuids = {services.jobs.get(i).uuid for i in ids}
    # the platform is slow: the first uploads take 1.5 s before they are handled
    live_upload_post.faults.add(Fault(UPLOAD, delay=1.5, pass_through=True, times=4))
    proc = start_run(data_dir, live_upload_post)
    assert proc.stdout is not None and proc.stderr is not None
    reader = LineReader(proc.stdout)
    try:
        reader.until(lambda e, seen: sum(x["kind"] == "progress" for x in seen) >= 3)
    finally:
        proc.kill()  # SIGKILL: no cleanup of any kind
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    mid_flight = [services.jobs.get(i) for i in ids]
    assert any(j.status == "submitting" and j.receipt is None for j in mid_flight)
    assert not all(j.status == "published" for j in mid_flight)

    events = run_once(data_dir, live_upload_post)

    done = [services.jobs.get(i) for i in ids]
    assert [j.status for j in done] == ["published"] * len(ids)
    uploads = live_upload_post.uploads
    assert len(uploads) == len(ids)
    assert {u["request_id"] for u in uploads} == uuids
    posted = [
        r
        for r in live_upload_post.state.records.values()
        if r.results.get("tiktok", {}).get("success")
    ]
    assert len(posted) == len(ids)
    assert any(e["kind"] == "reconciled" for e in events)
    assert all(j.lease_owner is None for j in done)


def test_two_run_once_processes_never_run_the_same_job(
    services: Services, data_dir: Path, live_upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    configure(services, live_upload_post)
    ids = jobs_for(services, 10, 2, tmp_path)
    live_upload_post.faults.add(Fault(UPLOAD, delay=0.3, pass_through=True, times=20))
    procs = [
        subprocess.Popen(
            [*piper_cmd(), "run", "--once", "--json"],
            env=env_for(data_dir, live_upload_post),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=180) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    sent = [r for r in live_upload_post.requests if r.method == "POST" and r.path == "/api/upload"]
    assert len(sent) == len(ids)
    assert [services.jobs.get(i).status for i in ids] == ["published"] * len(ids)
    owners: Counter[str] = Counter()
    for job_id in ids:
        claims = [e for e in services.jobs.events(job_id) if e.kind == "claimed"]
        assert len(claims) == 1
        owners[claims[0].data["owner"]] += 1
    assert sum(owners.values()) == len(ids)


def test_piper_run_stops_cleanly_on_sigterm(
    services: Services, data_dir: Path, live_upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    configure(services, live_upload_post)
    (job_id,) = jobs_for(services, 1, 1, tmp_path)
    proc = start_run(data_dir, live_upload_post)
    assert proc.stdout is not None and proc.stderr is not None
    reader = LineReader(proc.stdout)
    try:
        reader.until(lambda e, seen: e["kind"] == "published" and e["job_id"] == job_id)
        proc.send_signal(signal.SIGTERM)
        tail = reader.until(lambda e, seen: e["kind"] == "engine" and e["status"] == "stopped")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert any(e["kind"] == "engine" and e["status"] == "stopping" for e in tail)
    job = services.jobs.get(job_id)
    assert job.status == "published" and job.lease_owner is None


def test_jobs_stats_and_export(
    services: Services, data_dir: Path, live_upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    import csv
    import io

    configure(services, live_upload_post)
    ids = jobs_for(services, 2, 1, tmp_path)
    run_once(data_dir, live_upload_post)
    env = env_for(data_dir, live_upload_post)

    def piper(*args: str) -> str:
        proc = subprocess.run(
            [*piper_cmd(), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    stats = json.loads(piper("jobs", "stats", "--json"))
    assert stats["by_status"] == {"published": 2}
    assert stats["success_rate"] == 1.0 and stats["published_last_24h"] == 2

    exported = json.loads(piper("jobs", "export", "--format", "json"))
    assert [row["id"] for row in exported] == ids
    first = exported[0]
    assert first["receipt"] == services.jobs.get(ids[0]).uuid
    assert first["post_url"].startswith(live_upload_post.base_url)
    assert [e["kind"] for e in first["events"]][:4] == [
        "created",
        "claimed",
        "submitting",
        "receipt",
    ]
    assert first["artifacts"] == [] and first["account"] == "tiktok:user0"

    rows = list(csv.DictReader(io.StringIO(piper("jobs", "export", "--format", "csv"))))
    assert [int(r["id"]) for r in rows] == ids
    assert json.loads(rows[1]["events"])[-1]["kind"] == "published"
    assert rows[1]["status"] == "published" and rows[1]["post_url"]

    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert json.loads(piper("jobs", "export", "--since", future)) == []
    out = tmp_path / "jobs.csv"
    piper("jobs", "export", "--format", "csv", "-o", str(out))
    assert out.read_text().splitlines()[0].startswith("id,uuid,account")
