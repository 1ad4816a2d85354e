"""Upload throughput and memory: TikTok FILE_UPLOAD path vs one plain httpx PUT.

A 200 MB sparse file goes (a) through TikTokClient's chunked upload to the local TikTok
sandbox and (b) as a single streamed httpx PUT to a sink on the same kind of server.
Each upload runs in a child process so its peak RSS (ru_maxrss from wait4) is its own;
one extra chunked run under tracemalloc reports the peak of Python allocations.

Targets: peak RSS of the uploading process < 120 MB; chunked throughput within 2x of the
plain PUT.

    PYTHONPATH=. python bench/upload_throughput.py [--size-mb 200] [--chunk-mb 10] [--runs 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from piper_desktop.sandbox.httpbase import SandboxHandler, SandboxServer  # noqa: E402

MB = 1024 * 1024


class _SinkHandler(SandboxHandler):
    """Takes a PUT the way the TikTok sandbox does (streamed, hashed), minus the checks."""

    def sink(self, match: re.Match[str]) -> None:
        digest = hashlib.sha256()
        for block in self.stream_body():
            digest.update(block)
        self.send_bytes(201, b"", "text/plain")

    routes = [("PUT", r"/sink", sink)]


class SinkServer(SandboxServer):
    handler_class = _SinkHandler
    name = "bench-sink"


def make_sparse(path: Path, size: int) -> None:
    with path.open("wb") as handle:
        handle.write(b"\x00\x00\x00\x18ftypmp42")
        handle.truncate(size)


def child(mode: str, path: Path, url: str, chunk: int, trace: bool) -> None:
    import httpx

    from piper_desktop.clients.tiktok import TikTokClient, iter_file_slice, plan_chunks

    if trace:
        tracemalloc.start()
    size = path.stat().st_size
    if mode == "chunked":
        client = TikTokClient(
            client_key=os.environ["BENCH_CLIENT_KEY"],
            client_secret=os.environ["BENCH_CLIENT_SECRET"],
            api_base=url,
            timeout=60.0,
        )
        with client:
            plan = plan_chunks(size, chunk)
            init = client.init_video(
                os.environ["BENCH_ACCESS_TOKEN"],
                post_info={
                    "title": "bench",
                    "privacy_level": "SELF_ONLY",
                    "brand_content_toggle": False,
                },
                source_info=plan.source_info(),
            )
            assert init.upload_url
            start = time.perf_counter()
            client.upload_file(init.upload_url, path, plan)
            seconds = time.perf_counter() - start
    else:
        with httpx.Client(timeout=60.0, trust_env=False) as plain:
            start = time.perf_counter()
            answer = plain.put(
                f"{url}/sink",
                content=iter_file_slice(path, 0, size - 1),
                headers={"Content-Type": "video/mp4", "Content-Length": str(size)},
            )
            seconds = time.perf_counter() - start
            assert answer.status_code == 201, answer.status_code
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    print(json.dumps({"seconds": seconds, "bytes": size, "traced_peak": peak}))


def run_child(
    mode: str, path: Path, url: str, chunk: int, env: dict[str, str], trace: bool = False
) -> dict:
    args = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--file",
        str(path),
        "--url",
        url,
        "--chunk-mb",
        str(chunk // MB),
    ]
    if trace:
        args.append("--trace")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} child failed with {proc.returncode}")
    result = json.loads(out)
    result["maxrss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--file")
    parser.add_argument("--url")
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--chunk-mb", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    chunk = args.chunk_mb * MB
    if args.child:
        child(args.child, Path(args.file), args.url, chunk, args.trace)
        return

    from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox

    size = args.size_mb * MB
    with tempfile.TemporaryDirectory() as tmp, TikTokApiSandbox() as tiktok, SinkServer() as sink:
        path = Path(tmp) / "bench.mp4"
        make_sparse(path, size)
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        results: dict[str, list[dict]] = {"chunked": [], "plain": []}
        for _ in range(args.runs):
            tokens = tiktok.issue_tokens()  # type: ignore[attr-defined]
            env |= {
                "BENCH_ACCESS_TOKEN": tokens["access_token"],
                "BENCH_CLIENT_KEY": tiktok.client_key,  # type: ignore[attr-defined]
                "BENCH_CLIENT_SECRET": tiktok.client_secret,  # type: ignore[attr-defined]
            }
            results["chunked"].append(run_child("chunked", path, tiktok.base_url, chunk, env))
            results["plain"].append(run_child("plain", path, sink.base_url, chunk, env))
        traced = run_child("chunked", path, tiktok.base_url, chunk, env, trace=True)
        posts = tiktok.posts  # type: ignore[attr-defined]
        assert all(p["bytes"] == size for p in posts) and len(posts) == args.runs + 1

    print(f"file: {args.size_mb} MB sparse, chunk size {args.chunk_mb} MB, best of {args.runs}")
    rates = {}
    for mode, runs in results.items():
        best = min(runs, key=lambda r: r["seconds"])
        rates[mode] = size / MB / best["seconds"]
        peak_rss = max(r["maxrss_mb"] for r in runs)
        print(
            f"{mode:8s} {rates[mode]:8.1f} MB/s   {best['seconds']:.2f} s   peak RSS {peak_rss:.1f} MB"
        )
    print(f"chunked / plain throughput: {rates['chunked'] / rates['plain']:.2f}")
    print(
        f"chunked upload, tracemalloc peak: {traced['traced_peak'] / MB:.1f} MB "
        f"(RSS under tracing {traced['maxrss_mb']:.1f} MB)"
    )
    server_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"sandbox servers (this process) peak RSS: {server_rss:.1f} MB")
    ok_mem = max(r["maxrss_mb"] for r in results["chunked"]) < 120
    ok_speed = rates["chunked"] >= rates["plain"] / 2
    print(
        f"targets: memory < 120 MB {'met' if ok_mem else 'MISSED'}; "
        f"throughput within 2x {'met' if ok_speed else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
