"""Web upload benchmark through Piper's real web publisher (routes/web) and real Chromium.

Two tables:

- per layout variant of the TikTok Studio replica (sandbox/studio_variants.py): seconds
  per upload on the default page and on each variant, one account per variant, every
  post checked against the server's record (bytes, caption). A variant the publisher
  cannot post on prints "failed: <reason>" (the publisher's own first line).
- with `--sizes`: 1, 5, 10 accounts publishing at once (one context each, each through
  its own proxy credentials, all in one Chromium), seconds per upload and peak memory.
  Targets: no fixed waits, 10 contexts under 1.5 GB (sum of RSS of Chromium's processes
  plus this Python process).

    python bench/web_upload.py [--variants sweep|NAME,NAME+NAME] [--repeat 2] [--mb 1]
    python bench/web_upload.py --variants none --sizes 1,5,10 --mb 5
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from piper_desktop.browser.host import BrowserHost
from piper_desktop.browser.profile import BrowserSettings
from piper_desktop.browser.sites import load_site
from piper_desktop.routes.base import AccountRef, PostOptions, PublishError, PublishRequest
from piper_desktop.routes.web.form import WebTimeouts
from piper_desktop.routes.web.publisher import WebPublisher
from piper_desktop.sandbox.proxy import LocalProxy
from piper_desktop.sandbox.studio_variants import SWEEP, VariantError, parse_variant
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox

VARIANT_CAPTION = "Bench upload {n} #sunset with @piperfriend"


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
        settings = BrowserSettings(executable=executable, max_contexts=n, extra_args=extra_args)
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


def failure_line(exc: BaseException) -> str:
    reason = exc.reason if isinstance(exc, PublishError) else f"{type(exc).__name__}: {exc}"
    return (reason or type(exc).__name__).strip().splitlines()[0][:200]


def bench_options(n: int) -> tuple[PostOptions, dict[str, object]]:
    """Odd uploads post now as Only you; even ones are scheduled a day ahead for Friends
    with Duet on, so each variant's schedule and toggles are checked too."""
    if n % 2 == 0:
        return PostOptions(privacy_level="SELF_ONLY"), {
            "visibility": "SELF_ONLY",
            "duet": False,
            "schedule": None,
        }
    when = (datetime.now(UTC) + timedelta(hours=26)).replace(second=0, microsecond=0)
    when += timedelta(minutes=(-when.minute) % 5)
    options = PostOptions(
        privacy_level="MUTUAL_FOLLOW_FRIENDS", disable_duet=False, scheduled_at=when.isoformat()
    )
    return options, {
        "visibility": "MUTUAL_FOLLOW_FRIENDS",
        "duet": True,
        "schedule": int(when.timestamp()),
    }


def run_variant(
    host: BrowserHost,
    studio: TikTokStudioSandbox,
    variant: str,
    video: Path,
    repeat: int,
    timeouts: WebTimeouts,
) -> tuple[list[float], str]:
    """Seconds of each upload on `variant` (switched on the running server), and the
    first failure's reason, or a note ('' when every upload posted as asked)."""
    studio.variant = variant
    index = SWEEP.index(variant) if variant in SWEEP else len(SWEEP)
    account = AccountRef(1000 + index, "tiktok", f"bench_{index}")
    states: dict[int, dict] = {account.id: studio.storage_state_for(account.username)}
    site = load_site("tiktok", base_url=studio.base_url, env={})
    publisher = WebPublisher(
        host,
        site,
        load_state=lambda a: states.get(a.id),
        save_state=lambda a, s: states.__setitem__(a.id, s),
        timeouts=timeouts,
    )
    data = video.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    durations: list[float] = []
    plain_tags = False  # the suggestions were not picked: no hashtag/mention entities
    for n in range(repeat):
        caption = VARIANT_CAPTION.format(n=n + 1)
        options, expected = bench_options(n)
        request = PublishRequest(
            job_id=account.id * 100 + n,
            idempotency_key=f"bench-{variant}-{n}",
            account=account,
            media_path=video,
            media_size=len(data),
            media_sha256=digest,
            caption=caption,
            options=options,
        )
        before = len(studio.posts)
        started = time.perf_counter()
        try:
            publisher.submit(request, lambda r: None)
        except Exception as exc:
            return durations, failure_line(exc)
        elapsed = time.perf_counter() - started
        posts = [p for p in studio.posts[before:] if p.username == account.username]
        if len(posts) != 1:
            return durations, f"the site recorded {len(posts)} posts for one upload"
        got = {
            "bytes": posts[0].sha256 == digest,
            "caption": posts[0].caption,
            "visibility": posts[0].visibility,
            "duet": posts[0].allow_duet,
            "schedule": posts[0].schedule_time,
        }
        asked = {"bytes": True, "caption": caption, **expected}
        wrong = [f"{key} {got[key]!r}" for key in got if got[key] != asked[key]]
        if wrong:
            return durations, "posted, but not as asked: " + ", ".join(wrong)
        durations.append(elapsed)
        tags = {(e["type"], e["value"]) for e in posts[0].text_extra}
        if tags != {("hashtag", "sunset"), ("mention", "piperfriend")}:
            plain_tags = True
    return durations, "posted with the #/@ tags as plain text" if plain_tags else ""


def variants_table(
    variants: list[str],
    video: Path,
    executable: str | None,
    repeat: int,
    step_timeout: float,
    extra_args: tuple[str, ...] = (),
) -> None:
    # bounded so that a variant the publisher cannot read fails in seconds, not minutes
    timeouts = WebTimeouts(
        step=step_timeout,
        page_load=step_timeout * 2,
        upload=max(60, step_timeout),
        post_result=max(30, step_timeout),
        content=max(30, step_timeout),
    )
    print(
        f"\nseconds per upload by layout variant ({repeat} upload(s) each, caption with "
        f"#/@ tags; odd: now, Only you; even: scheduled, Friends, Duet on; "
        f"step timeout {step_timeout:g}s)"
    )
    print(f"{'variant':<22} {'mean s':>7} {'min s':>7} {'max s':>7}  result")
    settings = BrowserSettings(executable=executable, max_contexts=1, extra_args=extra_args)
    with TikTokStudioSandbox(variant="default") as studio, BrowserHost(settings) as host:
        host.run(host.browser)  # Chromium's start is not the first variant's upload time
        for variant in variants:
            durations, failure = run_variant(host, studio, variant, video, repeat, timeouts)
            if durations:
                mean = f"{statistics.mean(durations):7.2f}"
                low, high = f"{min(durations):7.2f}", f"{max(durations):7.2f}"
            else:
                mean = low = high = f"{'-':>7}"
            if not failure:
                result = f"ok ({len(durations)} posted)"
            elif len(durations) == repeat:
                result = f"ok ({len(durations)} posted), {failure}"
            else:
                result = f"failed: {failure}"
            print(f"{variant:<22} {mean} {low} {high}  {result}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants",
        default="sweep",
        help="layout variants to time, comma-separated ('sweep': default, each one, "
        "all_different; 'none': skip the table)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="uploads per variant")
    parser.add_argument(
        "--step-timeout", type=float, default=10, help="seconds a publisher step may wait"
    )
    parser.add_argument("--sizes", default="", help="concurrent accounts, e.g. 1,5,10")
    parser.add_argument("--mb", type=float, default=1)
    parser.add_argument("--browser", default=None, help="browser executable (default: found)")
    parser.add_argument(
        "--chromium-args", default="", help="extra Chromium switches, space-separated"
    )
    args = parser.parse_args()
    if args.variants == "sweep":
        variants = list(SWEEP)
    elif args.variants == "none":
        variants = []
    else:
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for variant in variants:
        try:
            parse_variant(variant)
        except VariantError as exc:
            parser.error(f"--variants: {exc}")
    extra_args = tuple(args.chromium_args.split())
    with tempfile.TemporaryDirectory(prefix="piper-bench-") as tmp:
        video = Path(tmp) / "bench clip.mp4"
        video.write_bytes(os.urandom(int(args.mb * 1024 * 1024)))
        print(
            f"web upload bench: {args.mb:g} MB file, Piper's web publisher, Chromium via Playwright"
        )
        if variants:
            variants_table(
                variants, video, args.browser, args.repeat, args.step_timeout, extra_args
            )
        if args.sizes:
            contexts_table(args.sizes, video, args.browser, extra_args)


def contexts_table(
    sizes: str, video: Path, executable: str | None, extra_args: tuple[str, ...]
) -> None:
    print("\nconcurrent accounts, one proxy user per account")
    print(
        f"{'contexts':>8} {'ok':>3} {'err':>3} {'mean s/upload':>14} {'max s':>7} "
        f"{'wall s':>7} {'peak RSS MB':>12} {'peak PSS MB':>12} {'procs':>6}"
    )
    for n in (int(x) for x in sizes.split(",")):
        r = run_round(n, video, executable, extra_args)
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
