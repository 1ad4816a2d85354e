"""Engine overhead: 2,000 due jobs against a local Upload-Post stand-in that answers at
once (first status poll completes; it runs as `piper sandbox` in its own process, so it
does not share this one's interpreter). Prints jobs/s and the engine's own cost per job:
wall time minus the time spent inside the publisher (measured with one worker, where
nothing overlaps), and CPU time minus the publisher's CPU time. Target: < 5 ms per job.

    .venv/bin/python bench/engine_overhead.py [--jobs 2000] [--workers 4] [--runs 1]
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from piper_desktop.domain.services import Services
from piper_desktop.engine import Engine, EngineConfig, PublisherFactory, SystemClock
from piper_desktop.routes.base import CheckResult, Publisher, PublishRequest, Receipt
from piper_desktop.routes.upload_post.publisher import UploadPostPublisher, UploadPostSettings
from piper_desktop.sandbox.media import write_video
from piper_desktop.store.vault import create_vault

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench password, not a secret"
JOBS_PER_ACCOUNT = 10


class TimedPublisher:
    """The real publisher, with the time spent inside it added up."""

    def __init__(self, inner: UploadPostPublisher) -> None:
        self.inner = inner
        self.route = inner.route
        self.settings = inner.settings
        self.seconds = 0.0
        self.cpu = 0.0
        self._lock = threading.Lock()

    def _timed(self, call: Any, *args: Any) -> Any:
        started = time.perf_counter()
        cpu = time.thread_time()
        try:
            return call(*args)
        finally:
            with self._lock:
                self.seconds += time.perf_counter() - started
                self.cpu += time.thread_time() - cpu

    def submit(self, request: PublishRequest, on_receipt: Any, on_progress: Any = None) -> Receipt:
        # the receipt callback is the engine's work: keep it out of the publisher's time
        stamps: list[float] = []

        cpu_stamps: list[float] = []

        def receipt(r: Receipt) -> None:
            started, cpu = time.perf_counter(), time.thread_time()
            on_receipt(r)
            stamps.append(time.perf_counter() - started)
            cpu_stamps.append(time.thread_time() - cpu)

        result = self._timed(self.inner.submit, request, receipt, None)
        with self._lock:
            self.seconds -= sum(stamps)
            self.cpu -= sum(cpu_stamps)
        return result  # type: ignore[no-any-return]

    def check(self, request: PublishRequest, receipt: Receipt) -> CheckResult:
        return self._timed(self.inner.check, request, receipt)  # type: ignore[no-any-return]

    def reconcile(self, request: PublishRequest) -> Receipt | None:
        return self._timed(self.inner.reconcile, request)  # type: ignore[no-any-return]


def setup(directory: Path, sandbox: Sandbox, jobs: int) -> Services:
    services = Services(create_vault(directory, PASSWORD))
    services.settings.set("upload_post.api_key", sandbox.api_key)
    services.settings.set("upload_post.base", sandbox.api_base)
    media = []
    for i in range(10):
        path = directory / f"clip{i}.mp4"
        write_video(path, tag=bytes([i]) * 16)
        media.append(services.media.add(path)[0].id)
    accounts = [
        services.accounts.add(
            {
                "username": f"bench{i:04d}",
                "min_spacing_minutes": 0,
                "max_posts_per_day": 1000,
                "routes": ["upload_post"],
            }
        ).id
        for i in range(max(jobs // JOBS_PER_ACCOUNT, 1))
    ]
    services.settings.set("engine.daily_post_cap", 1000)
    now = datetime.now(UTC)
    for i in range(jobs):
        services.jobs.add(
            account_id=accounts[i % len(accounts)],
            media_id=media[i % len(media)],
            route="upload_post",
            at=now,
            caption=f"bench job {i}",
            allow_duplicate=True,
            now=now,
        )
    return services


class Sandbox:
    """`piper sandbox --only upload_post` in a child process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "piper_desktop", "sandbox", "--only", "upload_post"],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("upload_post"):
                self.base_url = line.split()[1]
                break
        else:
            raise RuntimeError("the sandbox did not start")
        self.api_base = self.base_url + "/api"
        self.api_key = "sandbox-upload-post-key"
        httpx.post(
            self.base_url + "/__sandbox__/configure",
            json={"polls_to_complete": 1, "rate_limit": [10**9, 60]},
        ).raise_for_status()

    def uploads(self) -> int:
        state = httpx.get(self.base_url + "/__sandbox__/state").json()
        return len(state["uploads"])

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def run(jobs: int, workers: int) -> dict[str, float]:
    sandbox = Sandbox()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return _run(Path(tmp), sandbox, jobs, workers)
    finally:
        sandbox.close()


def _run(directory: Path, sandbox: Sandbox, jobs: int, workers: int) -> dict[str, float]:
    services = setup(directory, sandbox, jobs)
    timed: list[TimedPublisher] = []

    def build(values: dict[str, Any]) -> Publisher:
        publisher = TimedPublisher(
            UploadPostPublisher(
                services.accounts,
                UploadPostSettings(
                    api_key=str(values["upload_post.api_key"]),
                    base_url=str(values["upload_post.base"]),
                ),
            )
        )
        timed.append(publisher)
        return publisher

    config = EngineConfig.from_settings(
        services.settings,
        max_workers=workers,
        route_limits={"upload_post": workers, "tiktok_api": 1, "browser": 1},
    )
    clock = SystemClock()
    factory = PublisherFactory(services, clock, builders={"upload_post": build})
    engine = Engine(services, clock=clock, config=config, factory=factory, watch_system=False)
    gc.freeze()  # as `piper run` does before it starts the engine
    started, cpu = time.perf_counter(), time.process_time()
    counts = engine.run_once()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    published = counts.get("published", 0)
    inside = sum(p.seconds for p in timed)
    inside_cpu = sum(p.cpu for p in timed)
    for publisher in timed:
        publisher.inner.close()
    services.close()
    assert sandbox.uploads() == published, "every published job reached the stand-in once"
    return {
        "published": published,
        "elapsed": elapsed,
        "jobs_per_s": published / elapsed,
        "publisher_s": inside,
        "overhead_ms": (elapsed - inside / workers) / max(published, 1) * 1000,
        "publisher_cpu_s": inside_cpu,
        "engine_cpu_ms": (cpu - inside_cpu) / max(published, 1) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1, help="repeat the 1-worker measurement")
    args = parser.parse_args()
    measure(args.jobs, args.workers, args.runs)


def measure(jobs: int, max_workers: int, runs: int = 1) -> None:
    counts = [1] * runs + ([max_workers] if max_workers > 1 else [])
    for workers in counts:
        r = run(jobs, workers)
        print(
            f"{workers} worker(s): {r['published']:.0f} published in {r['elapsed']:.1f} s "
            f"({r['jobs_per_s']:.1f} jobs/s); inside the publisher {r['publisher_s']:.1f} s "
            f"wall, {r['publisher_cpu_s']:.1f} s CPU; engine CPU {r['engine_cpu_ms']:.2f} ms/job"
            + (
                f"; engine wall overhead {r['overhead_ms']:.2f} ms/job (target < 5 ms)"
                if workers == 1
                else ""
            )
        )


if __name__ == "__main__":
    main()
