"""The engine's periodic duties on APScheduler 3 — built in this one function.

APScheduler only *reminds* the engine: its job store holds no jobs of ours (those live
in the database), so a missed reminder costs nothing but a little latency. Every duty is
`coalesce=True` (a backlog of missed runs collapses into one), `max_instances=1` (a slow
run is never overlapped by the next) and has an explicit `misfire_grace_time`; after a
suspend the tick also notices the wall-clock jump and re-checks what is due at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler


@dataclass(frozen=True)
class Duty:
    name: str
    every: float  # seconds
    run: Callable[[], object]
    # how late a run may still start; later than that it is skipped (the next one comes)
    misfire_grace: float = 30.0
    # run once right after the scheduler starts, not only after `every`
    at_start: bool = False


def build_scheduler(duties: list[Duty]) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=2)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        timezone=UTC,
    )
    for duty in duties:
        # an interval job first runs one period after the start; at_start runs it now too
        extra = {"next_run_time": datetime.now(UTC)} if duty.at_start else {}
        scheduler.add_job(
            duty.run,
            trigger="interval",
            seconds=max(duty.every, 1.0),
            id=duty.name,
            name=duty.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(int(duty.misfire_grace), 1),
            replace_existing=True,
            **extra,
        )
    return scheduler
