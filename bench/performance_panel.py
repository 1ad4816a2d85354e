"""The Performance panel with 10,000 posts × 30 readings (issue 21): the first paint
(the load on a worker thread, then every chart drawn and the panel painted) and each
chart's drawing and painting, from a real SQLCipher vault seeded through the analytics
write side. Prints milliseconds (median of --repeat runs); no targets are asserted.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/performance_panel.py [--posts 10000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PASSWORD = "bench-master-password"


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--readings", type=int, default=30)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--vault",
        type=Path,
        help="a folder to keep the seeded vault in and reuse (seeding is slow)",
    )
    args = parser.parse_args()

    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from piper_desktop.domain.services import Services
    from piper_desktop.store.vault import create_vault, unlock_vault
    from piper_desktop.ui import tasks
    from piper_desktop.ui.context import AppContext
    from piper_desktop.ui.panels.performance import PerformancePanel
    from piper_desktop.ui.theme import apply_theme
    from tests.analytics_seed import seed_posts

    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    with tempfile.TemporaryDirectory() as folder:
        data_dir = args.vault or Path(folder)
        started = time.perf_counter()
        if not (data_dir / "piper.db").exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            db = create_vault(data_dir, PASSWORD)
            seed_posts(Services(db), args.accounts, args.posts, args.readings)
            db.close()
        seeding = time.perf_counter() - started
        services = Services(unlock_vault(data_dir, PASSWORD))
        ctx = AppContext(services, data_dir)
        runner = tasks.PoolRunner(max_threads=2)
        tasks.set_runner(runner)  # the real hand-over: a worker thread, a queued signal
        panel = PerformancePanel(ctx)
        panel.resize(1400, 2000)
        print(
            f"Performance panel, {args.posts:,} posts × {args.readings} readings over "
            f"{args.accounts} accounts (seeded in {seeding:.1f} s), 1400x2000 px"
        )

        def wait_for(signal: Any, start: Callable[[], None]) -> None:
            # an event loop that sleeps until the signal, so the worker has the CPU
            loop = QEventLoop()
            signal.connect(loop.quit)
            start()
            loop.exec()
            signal.disconnect(loop.quit)

        def first_paint() -> None:
            wait_for(panel.painted, panel.reload)
            panel.repaint()  # the panel's first full paint, charts included

        def cold() -> None:
            first_paint()
            if "curve" not in panel.timings:  # the best post's curve, loading meanwhile
                wait_for(panel.post_shown, lambda: None)

        # the very first paint: shown, loaded on a fresh worker (its own connection to the
        # vault), every chart drawn and painted
        start = time.perf_counter()
        wait_for(panel.painted, panel.show)
        panel.repaint()
        first = (time.perf_counter() - start) * 1000
        if "curve" not in panel.timings:
            wait_for(panel.post_shown, lambda: None)
        print(f"  first paint, panel shown (cold)      {first:8.1f} ms")
        results: dict[str, list[float]] = {}
        again = []
        for _ in range(args.repeat):
            panel.timings.clear()
            start = time.perf_counter()
            cold()
            again.append((time.perf_counter() - start) * 1000)
            for name, seconds in panel.timings.items():
                results.setdefault(name, []).append(seconds * 1000)
        print(f"  paint after Refresh (load+draw+paint) {statistics.median(again):7.1f} ms")
        labels = {
            "load": "load on the worker (read + aggregate)",
            "growth": "draw followers/views over time",
            "hours": "draw best-hours heatmap",
            "top_posts": "fill top posts table",
            "campaigns": "draw by-campaign bars",
            "templates": "draw by-template bars",
            "curve": "selected post's 48 h (load + draw)",
        }
        for name, label in labels.items():
            if name in results:
                print(f"  {label:<37}{statistics.median(results[name]):8.1f} ms")
        for card in panel.cards():
            print(f"  paint {card.name:<31}{median_ms(card.grab, args.repeat):8.1f} ms")
        one = next(iter(panel.accounts))

        def filtered() -> None:
            wait_for(panel.painted, lambda: panel.set_account(one))

        def unfiltered() -> None:
            wait_for(panel.painted, lambda: panel.set_account(None))

        one_ms, all_ms = [], []
        for _ in range(args.repeat):
            one_ms.append(median_ms(filtered, 1))
            all_ms.append(median_ms(unfiltered, 1))
        print(f"  account filter: one account          {statistics.median(one_ms):8.1f} ms")
        print(f"  account filter: back to all          {statistics.median(all_ms):8.1f} ms")
        runner.wait(10_000)
        tasks.set_runner(None)
        services.db.close()


if __name__ == "__main__":
    main()
