"""Team mode: how soon a change at one desktop reaches another (LISTEN/NOTIFY).

A throwaway PostgreSQL cluster (sandbox/postgres.py); desktop A listens, desktop B
commits a change to a job N times; prints the median and 95th percentile from B's
commit returning to A's listener being called.

    .venv/bin/python bench/team_notify.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from piper_desktop.sandbox.postgres import ThrowawayPostgres  # noqa: E402
from piper_desktop.store.migrate import upgrade  # noqa: E402
from piper_desktop.store.pg import PgDatabase  # noqa: E402
from piper_desktop.store.pg_listen import GATHER_S  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with ThrowawayPostgres() as cluster, tempfile.TemporaryDirectory() as tmp:
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE team"))
        admin.dispose()
        a = PgDatabase(cluster.url("team"), Path(tmp))
        upgrade(a)
        a.create_team_key("bench passphrase", scrypt_n=2**12)
        b = PgDatabase(cluster.url("team"), Path(tmp))
        b.unlock("bench passphrase")
        heard = threading.Event()
        at: list[float] = []

        def on_change(tables: frozenset[str]) -> None:
            at.append(time.perf_counter())
            heard.set()

        listener = a.listen(on_change)
        assert listener.listening.wait(10)
        with b.write() as session:
            session.execute(
                text(
                    "INSERT INTO settings (key, value, is_secret, updated_at)"
                    " VALUES ('bench', 'x', false, '2026-01-01')"
                )
            )
        heard.wait(10)
        latencies = []
        for n in range(args.rounds):
            heard.clear()
            at.clear()
            with b.write() as session:
                session.execute(
                    text("UPDATE settings SET updated_at = :n WHERE key = 'bench'"), {"n": str(n)}
                )
            done = time.perf_counter()
            if not heard.wait(10):
                raise SystemExit("a change was not heard within 10 s")
            latencies.append((at[0] - done) * 1000)
        listener.stop()
        a.close()
        b.close()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"NOTIFY wake-up, commit at one desktop -> listener at another: median "
        f"{statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms "
        f"over {len(latencies)} changes (the listener's {GATHER_S * 1000:.0f} ms gathering window included; goal < 1000 ms)"
    )


if __name__ == "__main__":
    main()
