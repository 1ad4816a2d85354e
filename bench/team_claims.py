"""Team mode: how many jobs a second the engines claim and finish, with 1, 2 and 4 engine
processes on one PostgreSQL, against one engine on a local SQLCipher vault.

Each engine is its own process (its own data dir and desktop id, as separate desktops
are) running `Engine.run_once` with a publisher that posts at once, so what is measured
is the claim path: the claim pass (advisory lock, `FOR UPDATE SKIP LOCKED` on
PostgreSQL; `BEGIN IMMEDIATE` on SQLite), the lease, the status moves and their events.
The processes set up, then wait at a barrier (a line on stdin) so that start-up is not
counted. Afterwards every job must be published exactly once: the publishers' own
counts add up to the number of jobs and no job has two publish events.

    .venv/bin/python bench/team_claims.py [--jobs 1000] [--accounts 100] [--engines 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from piper_desktop.domain.services import Services  # noqa: E402
from piper_desktop.engine import Engine, EngineConfig, PublisherFactory, SystemClock  # noqa: E402
from piper_desktop.routes.base import (  # noqa: E402
    CheckResult,
    CheckState,
    PublishRequest,
    Receipt,
)
from piper_desktop.sandbox.media import write_video  # noqa: E402
from piper_desktop.store.db import Database  # noqa: E402
from piper_desktop.store.migrate import upgrade  # noqa: E402
from piper_desktop.store.models import Job, JobEvent  # noqa: E402
from piper_desktop.store.pg import PgDatabase  # noqa: E402
from piper_desktop.store.vault import create_vault, unlock_vault  # noqa: E402

PASSWORD = "bench password, not a secret"
PASSPHRASE = "bench team passphrase, not a secret"
# a small scrypt cost: each process derives the key once, before the barrier
SCRYPT_N = 2**12
# the global daily cap's ceiling: more jobs than that would wait for tomorrow
MAX_JOBS = 1000


class InstantPublisher:
    """Posts at once: the bench measures the engine's claim path, not a platform."""

    route = "upload_post"

    def __init__(self) -> None:
        self.submitted = 0
        self._lock = threading.Lock()

    def submit(self, request: PublishRequest, on_receipt: Any, on_progress: Any = None) -> Receipt:
        receipt = Receipt("request_id", request.idempotency_key)
        on_receipt(receipt)
        with self._lock:
            self.submitted += 1
        return receipt

    def check(self, request: PublishRequest, receipt: Receipt) -> CheckResult:
        return CheckResult(CheckState.PUBLISHED, post_url=f"http://127.0.0.1/{receipt.value}")

    def reconcile(self, request: PublishRequest) -> Receipt | None:
        return None

    def close(self) -> None:
        pass


def seed(services: Services, directory: Path, jobs: int, accounts: int) -> None:
    services.settings.set("upload_post.api_key", "bench-key-not-a-secret")
    services.settings.set("upload_post.base", "http://127.0.0.1:9/api")
    services.settings.set("engine.daily_post_cap", MAX_JOBS)
    media = []
    for i in range(10):
        path = directory / f"clip{i}.mp4"
        write_video(path, tag=bytes([i]) * 16)
        media.append(services.media.add(path)[0].id)
    ids = [
        services.accounts.add(
            {
                "username": f"bench{i:04d}",
                "min_spacing_minutes": 0,
                "max_posts_per_day": jobs,
                "routes": ["upload_post"],
            }
        ).id
        for i in range(accounts)
    ]
    now = datetime.now(UTC)
    for i in range(jobs):
        services.jobs.add(
            account_id=ids[i % len(ids)],
            media_id=media[i % len(media)],
            route="upload_post",
            at=now,
            caption=f"bench job {i}",
            allow_duplicate=True,
            now=now,
        )


def open_store(store: str, data_dir: Path, desktop: str) -> Database | PgDatabase:
    if store == "sqlcipher":
        return unlock_vault(data_dir, PASSWORD)
    db = PgDatabase(store, data_dir)
    db.unlock(PASSPHRASE)
    db.identify(desktop, "bench")
    return db


def worker(store: str, data_dir: Path, desktop: str) -> None:
    """One engine process: set up, wait for the barrier, run everything due, report."""
    services = Services(open_store(store, data_dir, desktop))
    publisher = InstantPublisher()
    clock = SystemClock()
    config = EngineConfig.from_settings(services.settings)
    factory = PublisherFactory(services, clock, builders={"upload_post": lambda _v: publisher})
    engine = Engine(services, clock=clock, config=config, factory=factory, watch_system=False)
    print("ready", flush=True)
    sys.stdin.readline()
    started = clock.time()
    counts = engine.run_once()
    ended = clock.time()
    services.close()
    print(
        json.dumps(
            {
                "published": counts.get("published", 0),
                "submitted": publisher.submitted,
                "started": started,
                "ended": ended,
            }
        ),
        flush=True,
    )


def run_engines(store: str, base: Path, engines: int) -> dict[str, float]:
    procs = []
    for n in range(engines):
        data_dir = base / f"desktop{n}"
        data_dir.mkdir(exist_ok=True)
        procs.append(
            subprocess.Popen(
                [sys.executable, __file__, "--worker", store, str(data_dir), f"bench-desktop-{n}"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        )
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = []
    for proc in procs:
        assert proc.stdout is not None
        reports.append(json.loads(proc.stdout.readline()))
        proc.wait(timeout=600)
    elapsed = max(r["ended"] for r in reports) - min(r["started"] for r in reports)
    return {
        "published": sum(r["published"] for r in reports),
        "submitted": sum(r["submitted"] for r in reports),
        "split": [r["published"] for r in reports],  # type: ignore[dict-item]
        "elapsed": elapsed,
    }


def check_once(db: Database | PgDatabase, jobs: int, submitted: int) -> None:
    with db.session() as session:
        published = session.scalar(
            select(func.count()).select_from(Job).where(Job.status == "published")
        )
        twice = session.scalar(
            select(func.count()).select_from(
                select(JobEvent.job_id)
                .where(JobEvent.kind == "published")
                .group_by(JobEvent.job_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
    assert published == jobs, f"{published} of {jobs} jobs published"
    assert submitted == jobs, f"{submitted} publishes for {jobs} jobs"
    assert not twice, f"{twice} job(s) published twice"


def bench_sqlcipher(jobs: int, accounts: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        data_dir = base / "desktop0"
        services = Services(create_vault(data_dir, PASSWORD))
        seed(services, base, jobs, accounts)
        services.close()
        result = run_engines("sqlcipher", base, 1)
        db = unlock_vault(data_dir, PASSWORD)
        check_once(db, jobs, int(result["submitted"]))
        db.close()
        return result


def bench_postgres(jobs: int, accounts: int, engine_counts: list[int]) -> list[dict[str, float]]:
    from piper_desktop.sandbox.postgres import ThrowawayPostgres

    results = []
    with ThrowawayPostgres() as cluster:
        for round_, engines in enumerate(engine_counts):
            name = f"team{round_}"
            admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
            admin.dispose()
            with tempfile.TemporaryDirectory() as tmp:
                base = Path(tmp)
                url = cluster.url(name)
                db = PgDatabase(url, base)
                upgrade(db)
                db.create_team_key(PASSPHRASE, scrypt_n=SCRYPT_N)
                db.identify("bench-seeder", "bench")
                seed(Services(db), base, jobs, accounts)
                result = run_engines(url, base, engines)
                check_once(db, jobs, int(result["submitted"]))
                db.close()
                results.append(result)
    return results


def line(label: str, result: dict[str, Any]) -> str:
    rate = result["published"] / result["elapsed"]
    split = "/".join(str(n) for n in result["split"])
    return (
        f"{label}: {result['published']} jobs in {result['elapsed']:.2f} s = {rate:.0f} claims/s"
        f" (split {split}; each job published once)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=MAX_JOBS)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--engines", default="1,2,4", help="engine processes on PostgreSQL")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.jobs > MAX_JOBS:
        parser.error(f"--jobs: at most {MAX_JOBS} (the global daily cap)")
    if args.worker:
        store, data_dir, desktop = args.worker
        worker(store, Path(data_dir), desktop)
        return
    print(f"{args.jobs} jobs over {args.accounts} accounts, {os.cpu_count()} cores")
    print(line("SQLCipher, 1 engine", bench_sqlcipher(args.jobs, args.accounts)), flush=True)
    counts = [int(n) for n in args.engines.split(",")]
    for engines, result in zip(counts, bench_postgres(args.jobs, args.accounts, counts), strict=True):
        print(line(f"PostgreSQL, {engines} engine(s)", result), flush=True)


if __name__ == "__main__":
    main()
