"""Analytics' store with 10,000 posts × 30 readings (issue 21): how long one reading of
an account's 10,000 posts takes to record (`AnalyticsService.record`, the collection
duty's write) and how long the Performance panel's reads take (`posts`,
`post_readings` of every post, `account_readings`), on a real SQLCipher vault. Prints
milliseconds (median of --repeat runs); no targets are asserted.

    .venv/bin/python bench/analytics_store.py [--posts 10000] [--readings 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench-master-password"


def timed(fn: Callable[[], Any], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--readings", type=int, default=30)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from piper_desktop.domain.analytics import AccountCounts, SeenPost
    from piper_desktop.domain.services import Services
    from piper_desktop.store.vault import create_vault

    with tempfile.TemporaryDirectory() as tmp:
        services = Services(create_vault(Path(tmp), PASSWORD))
        analytics = services.analytics
        accounts = [
            services.accounts.add({"username": f"bench{n:02d}"}).id for n in range(args.accounts)
        ]
        per_account = args.posts // args.accounts
        t0 = datetime(2026, 11, 1, tzinfo=UTC)
        record_ms = []
        for reading in range(args.readings):
            at = t0 + timedelta(hours=reading)
            for index, account in enumerate(accounts):
                posts = [
                    SeenPost(f"{index}-{n}", t0 - timedelta(hours=n), f"caption {n}", None, 15,
                             (n + 1) * (reading + 1), n, n // 2, n // 3)
                    for n in range(per_account)
                ]  # fmt: skip
                start = time.perf_counter()
                analytics.record(account, at, posts, AccountCounts(1000 + reading, 50, per_account))
                record_ms.append((time.perf_counter() - start) * 1000)
        rows = analytics.posts()
        keys = [row.key for row in rows]
        print(f"{len(rows)} posts × {args.readings} readings over {args.accounts} accounts")
        print(f"record one account's {per_account} posts: {statistics.median(record_ms):8.1f} ms")
        print(f"posts() all:                   {timed(analytics.posts, args.repeat):8.1f} ms")
        one = accounts[0]
        print(
            f"posts(account):                {timed(lambda: analytics.posts(one), args.repeat):8.1f} ms"
        )
        print(
            f"post_readings(all keys):       "
            f"{timed(lambda: analytics.post_readings(keys), args.repeat):8.1f} ms"
        )
        print(
            f"account_readings():            "
            f"{timed(analytics.account_readings, args.repeat):8.1f} ms"
        )
        services.close()


if __name__ == "__main__":
    main()
