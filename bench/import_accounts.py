"""Import 10,000 accounts and 10,000 proxies from CSV into a real SQLCipher vault, then
list them. Prints seconds and peak memory. Targets: accounts import < 2 s, listing < 0.3 s.

    .venv/bin/python bench/import_accounts.py [--count 10000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from piper_desktop.domain import importers
from piper_desktop.domain.services import Services
from piper_desktop.store.vault import create_vault


def accounts_csv(count: int) -> str:
    lines = ["platform,username,email,password,group,tags,timezone,max_posts_per_day"]
    for i in range(count):
        lines.append(
            f"tiktok,user{i:05d},user{i}@example.com,pw-{i:05d},group{i % 20},a;b{i % 7},Europe/Berlin,3"
        )
    return "\n".join(lines) + "\n"


def proxies_csv(count: int) -> str:
    # loopback addresses only: nothing here is ever dialled, but keep it that way
    lines = ["scheme,host,port,username,password,kind"]
    for i in range(count):
        lines.append(f"http,127.0.{i // 250}.{i % 250 + 1},{3000 + i % 1000},u{i},p{i},residential")
    return "\n".join(lines) + "\n"


def profile_manager_csv(count: int) -> str:
    # an AdsPower-like export: other column names, a proxy address per row (each proxy
    # shared by two accounts), loopback only
    lines = ["Name,Group Name,Proxy,TZ,Remark"]
    for i in range(count):
        n = i // 2
        lines.append(
            f"pm{i:05d},group{i % 20},http://u{n}:p{n}@127.1.{n // 250}.{n % 250 + 1}:8080,"
            f"Asia/Tokyo,row {i}"
        )
    return "\n".join(lines) + "\n"


def profile_manager_imports(count: int) -> None:
    """Issue 17: a mapped export with proxy addresses, then spreading by country."""
    with tempfile.TemporaryDirectory() as tmp:
        db = create_vault(Path(tmp), "benchmark-password")
        pm_text = profile_manager_csv(count)
        report = timed(
            f"import {count} mapped + proxy addr", lambda: importers.import_accounts(db, pm_text)
        )
        assert report.created == count and not report.errors, report.errors[:3]
        assert report.proxies_created == count // 2
        names = "username,timezone\n" + "".join(f"sp{i:05d},Asia/Tokyo\n" for i in range(count))
        report = timed(
            f"import {count} + spread by country",
            lambda: importers.import_accounts(db, names, spread="country"),
        )
        assert report.spread == count, report.notes
        db.close()


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    # time without tracing (tracemalloc slows Python down), then peak heap in a second run
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"{label:32} {seconds:7.3f} s", flush=True)
    return result


def peak_heap(label: str, fn) -> None:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:32} peak Python heap {peak / 1e6:7.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = create_vault(Path(tmp), "benchmark-password")
        services = Services(db)
        a_text, p_text = accounts_csv(args.count), proxies_csv(args.count)
        report = timed(
            f"import {args.count} accounts", lambda: importers.import_accounts(db, a_text)
        )
        assert report.created == args.count and not report.errors, report.errors[:3]
        report = timed(f"import {args.count} proxies", lambda: importers.import_proxies(db, p_text))
        assert report.created == args.count and not report.errors, report.errors[:3]
        report = timed(
            f"re-import {args.count} accounts", lambda: importers.import_accounts(db, a_text)
        )
        assert report.updated == args.count
        j_text = importers.export_accounts(db, "json")
        report = timed(
            f"re-import {args.count} accounts JSON", lambda: importers.import_accounts(db, j_text)
        )
        assert report.updated == args.count and not report.errors, report.errors[:3]
        rows = timed(f"list {args.count} accounts (rows)", lambda: services.accounts.rows())
        assert len(rows) == args.count
        rows = timed(f"list {args.count} accounts (objects)", lambda: services.accounts.list())
        assert len(rows) == args.count
        rows = timed(f"list {args.count} proxies", lambda: services.proxies.list())
        assert len(rows) == args.count
        timed(
            "list one page of 200 accounts", lambda: services.accounts.list(offset=5000, limit=200)
        )
        peak_heap(f"re-import {args.count} accounts", lambda: importers.import_accounts(db, a_text))
        peak_heap(f"list {args.count} accounts (rows)", lambda: services.accounts.rows())
        db.close()
    profile_manager_imports(args.count)
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")


if __name__ == "__main__":
    main()
