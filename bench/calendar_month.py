"""The calendar with 10,000 jobs in one month (issue 17): how long the month view takes
to load its six weeks from a real SQLCipher vault, to lay out its chips and to paint,
and how long the list view takes for its first page. Prints milliseconds (median of
--repeat runs); no targets are asserted.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/calendar_month.py [--jobs 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PASSWORD = "bench-master-password"


def seed(data_dir: Path, accounts: int, jobs: int, month: datetime) -> None:
    """Bulk inserts straight into the store: setup, not what is timed."""
    from sqlalchemy import insert

    from piper_desktop.store.models import Account, Job, MediaItem
    from piper_desktop.store.vault import create_vault

    db = create_vault(data_dir, PASSWORD)
    rng = random.Random(17)
    now = datetime.now(UTC)
    with db.write() as session:
        session.execute(
            insert(Account),
            [
                {"platform": "tiktok", "username": f"account{n:04d}", "status": "active",
                 "group": f"group{n % 5}", "tags": [], "timezone": "UTC",
                 "window_enabled": False, "min_spacing_minutes": 0, "max_posts_per_day": 50,
                 "routes": ["upload_post"], "created_at": now, "updated_at": now}
                for n in range(accounts)
            ],
        )  # fmt: skip
        session.execute(
            insert(MediaItem),
            [{"path": "/videos/clip.mp4", "sha256": "0" * 64, "size": 1, "duration_sec": 30.0,
              "title": "Clip", "hashtags": [], "created_at": now, "updated_at": now}],
        )  # fmt: skip
        rows: list[dict[str, Any]] = []
        for n in range(jobs):
            at = month + timedelta(minutes=rng.randint(0, 60 * 24 * 28))
            rows.append(
                {"uuid": f"cal-{n:06d}", "account_id": rng.randint(1, accounts), "media_id": 1,
                 "route": "upload_post", "status": "queued", "caption": f"caption {n}",
                 "options": {}, "scheduled_at": at, "next_attempt_at": at, "pinned_time": False,
                 "attempts": 0, "max_attempts": 3, "allow_duplicate": True, "created_at": now,
                 "updated_at": now}
            )  # fmt: skip
        session.execute(insert(Job), rows)
    db.close()


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from zoneinfo import ZoneInfo

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from piper_desktop.domain.services import Services
    from piper_desktop.store.vault import unlock_vault
    from piper_desktop.ui import tasks
    from piper_desktop.ui.agenda_list import AgendaList
    from piper_desktop.ui.context import AppContext
    from piper_desktop.ui.month_calendar import MonthCalendar
    from piper_desktop.ui.theme import apply_theme

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    tasks.set_runner(tasks.InlineRunner())  # measure the work, not the hand-over
    first = (datetime.now(UTC) + timedelta(days=40)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        seed(data_dir, args.accounts, args.jobs, first)
        services = Services(unlock_vault(data_dir, PASSWORD))
        ctx = AppContext(services, data_dir)
        month = MonthCalendar()
        month.set_zone(ZoneInfo("UTC"))
        month.resize(1200, 760)
        month.set_month(first.date())
        start, _end = month.range()
        days = len(month.days)
        posts: list[dict[str, Any]] = []

        def load() -> None:
            posts[:] = ctx.planner.week(start, days)

        print(f"month view, {args.jobs:,} jobs over {args.accounts} accounts, 1200x760 px")
        print(f"  load six weeks (planner.week)   {median_ms(load, args.repeat):8.1f} ms "
              f"({len(posts):,} posts)")  # fmt: skip
        print(f"  lay out chips (set_posts)       "
              f"{median_ms(lambda: month.set_posts(posts), args.repeat):8.1f} ms "
              f"({len(month.chips)} chips drawn)")  # fmt: skip
        print(f"  paint (grab)                    "
              f"{median_ms(month.grab, args.repeat):8.1f} ms")  # fmt: skip
        agenda = AgendaList(ctx.tables, ZoneInfo("UTC"))
        end = start + timedelta(days=days)

        def first_page() -> None:
            agenda.show_span(start, end)

        print(f"  list view, first page           {median_ms(first_page, args.repeat):8.1f} ms "
              f"({agenda.agenda.rowCount()} rows of {agenda.agenda.total:,})")  # fmt: skip
        agenda.sortByColumn(
            agenda.agenda.column_index("account_username"), Qt.SortOrder.AscendingOrder
        )
        print(f"  list view, sorted by account    "
              f"{median_ms(agenda.agenda.refresh, args.repeat):8.1f} ms")  # fmt: skip
        services.db.close()


if __name__ == "__main__":
    main()
