"""Web upload benchmark: seconds per upload of a 5 MB file to the TikTok Studio replica,
and peak memory, with 1, 5 and 10 accounts publishing at once (one context each, each
through its own proxy credentials, all in one Chromium).

Targets: no fixed waits (every step waits on a condition), 10 contexts under 1.5 GB
(sum of RSS of Chromium's processes plus this Python process).

    python bench/web_upload.py [--sizes 1,5,10] [--mb 5]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from piper_desktop.browser.host import BrowserHost
from piper_desktop.browser.profile import BrowserSettings
from piper_desktop.browser.sites import load_site
from piper_desktop.routes.base import AccountRef, PostOptions, PublishRequest
from piper_desktop.routes.web.publisher import WebPublisher
from piper_desktop.sandbox.media import write_video
from piper_desktop.sandbox.proxy import LocalProxy
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox


def descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid]
        found.extend(children)
        frontier.extend(children)
    return found


def memory_kb(pid: int, field: str) -> int:
    path = f"/proc/{pid}/smaps_rollup" if field == "Pss" else f"/proc/{pid}/status"
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler(threading.Thread):
    """Samples RSS (and PSS) of this process plus all its descendants (driver, Chromium)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop_event = threading.Event()
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.peak_procs = 0

    def run(self) -> None:
        me = os.getpid()
        while not self.stop_event.is_set():
            pids = [me, *descendants(me)]
            self.peak_rss_kb = max(self.peak_rss_kb, sum(memory_kb(p, "VmRSS") for p in pids))
            self.peak_pss_kb = max(self.peak_pss_kb, sum(memory_kb(p, "Pss") for p in pids))
            self.peak_procs = max(self.peak_procs, len(pids))
            self.stop_event.wait(0.25)  # sampling interval of the bench, not a sync wait


def run_round(
    n: int, video: Path, executable: str | None, extra_args: tuple[str, ...] = ()
) -> dict[str, float]:
    with TikTokStudioSandbox() as studio, LocalProxy() as proxy:
        site = load_site("tiktok", base_url=studio.base_url, env={})
        states: dict[int, dict] = {}
        accounts = []
        for i in range(n):
            proxy.add_user(f"acct{i}", f"pw{i}")
            account = AccountRef(
                i, "tiktok", f"bench{i}", proxy_url=proxy.url_for(f"acct{i}", f"pw{i}")
            )
            states[i] = studio.storage_state_for(account.username)
            accounts.append(account)
        data = video.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        sampler = MemorySampler()
        settings = BrowserSettings.from_env(
            executable=executable, max_contexts=n, extra_args=extra_args
        )
        with BrowserHost(settings) as host:
            publisher = WebPublisher(
                host,
                site,
                load_state=lambda a: states.get(a.id),
                save_state=lambda a, s: states.__setitem__(a.id, s),
            )
            durations: list[float] = []
            errors: list[str] = []
            lock = threading.Lock()

            def one(account: AccountRef) -> None:
                request = PublishRequest(
                    job_id=account.id,
                    idempotency_key=f"bench-{account.id}",
                    account=account,
                    media_path=video,
                    media_size=len(data),
                    media_sha256=digest,
                    caption=f"Bench upload {account.id} #sunset",
                    options=PostOptions(privacy_level="SELF_ONLY"),
                )
                started = time.perf_counter()
                try:
                    publisher.submit(request, lambda r: None)
                except Exception as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    return
                with lock:
                    durations.append(time.perf_counter() - started)

            sampler.start()
            wall = time.perf_counter()
            threads = [threading.Thread(target=one, args=(a,)) for a in accounts]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - wall
            sampler.stop_event.set()
            sampler.join()
        posts = studio.posts
        assert all(p.sha256 == digest for p in posts)
        return {
            "contexts": n,
            "ok": len(durations),
            "errors": len(errors),
            "posts": len(posts),
            "per_upload_mean_s": statistics.mean(durations) if durations else float("nan"),
            "per_upload_max_s": max(durations) if durations else float("nan"),
            "wall_s": wall,
            "peak_rss_mb": sampler.peak_rss_kb / 1024,
            "peak_pss_mb": sampler.peak_pss_kb / 1024,
            "peak_procs": sampler.peak_procs,
            "first_error": errors[0] if errors else "",
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,10")
    parser.add_argument("--mb", type=float, default=5)
    parser.add_argument("--browser", default=None, help="browser executable (default: found)")
    parser.add_argument(
        "--chromium-args", default="", help="extra Chromium switches, space-separated"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="piper-bench-") as tmp:
        video = Path(tmp) / "bench clip.mp4"
        write_video(video, size=int(args.mb * 1024 * 1024))
        print(
            f"web upload bench: {args.mb:g} MB file, Chromium via Playwright, one proxy user per account"
        )
        print(
            f"{'contexts':>8} {'ok':>3} {'err':>3} {'mean s/upload':>14} {'max s':>7} "
            f"{'wall s':>7} {'peak RSS MB':>12} {'peak PSS MB':>12} {'procs':>6}"
        )
        for n in (int(x) for x in args.sizes.split(",")):
            r = run_round(n, video, args.browser, tuple(args.chromium_args.split()))
            print(
                f"{r['contexts']:>8} {r['ok']:>3} {r['errors']:>3} {r['per_upload_mean_s']:>14.2f} "
                f"{r['per_upload_max_s']:>7.2f} {r['wall_s']:>7.2f} {r['peak_rss_mb']:>12.0f} "
                f"{r['peak_pss_mb']:>12.0f} {r['peak_procs']:>6}"
            )
            if r["first_error"]:
                print(f"         first error: {r['first_error']}")
        print("target: 10 contexts under 1536 MB (sum RSS); no fixed waits in the publisher")


if __name__ == "__main__":
    main()
