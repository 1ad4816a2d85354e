"""A 1 GB TikTok FILE_UPLOAD killed at about half way and resumed.

The real `piper run` uploads a 1 GB video to the local TikTok stand-in (in this
process, on loopback) in 10 MB chunks; at the first progress event at or past
`--kill-at` (50 %) it is killed with SIGKILL, as a power cut would. Then `piper run
--once` restarts. Prints the bytes that reached the stand-in before and after the kill
(a chunk cut off mid-way counts: it was sent), their total against the file's size
(goal: at most 1.1 GB for 1 GB, i.e. no more than what was in flight resent), and the
seconds from the restart to the job settled (published).

    .venv/bin/python bench/upload_resume.py [--size-mb 1024] [--kill-at 0.5] [--chunk-mb 10]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from piper_desktop.clients.tiktok import MB
from piper_desktop.domain.services import Services
from piper_desktop.sandbox.media import write_video
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.store.vault import create_vault

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench password, not a secret"


def env(data_dir: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("PIPER_")}
    out |= {"PIPER_DATA_DIR": str(data_dir), "PIPER_PASSWORD": PASSWORD}
    out["PYTHONPATH"] = str(ROOT) + os.pathsep + out.get("PYTHONPATH", "")
    return out


def setup(directory: Path, sandbox: TikTokApiSandbox, size: int, chunk_mb: int) -> int:
    db = create_vault(directory / "data", PASSWORD)
    services = Services(db)
    for key, value in (
        ("tiktok.client_key", sandbox.client_key),
        ("tiktok.client_secret", sandbox.client_secret),
        ("tiktok.api_base", sandbox.base_url),
        ("tiktok.auth_url", sandbox.auth_url),
        ("tiktok.chunk_size_mb", chunk_mb),
        ("engine.check_seconds", 1),
    ):
        services.settings.set(key, value)
    account = services.accounts.add(
        {"username": "sandbox_creator", "routes": ["tiktok_api"], "min_spacing_minutes": 0}
    )
    tokens = sandbox.issue_tokens("sandbox_creator")
    now = time.time()
    services.accounts.save(
        account.id,
        "tiktok_api",
        {
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "access_expires_at": now + tokens["expires_in"],
            "refresh_expires_at": now + tokens["refresh_expires_in"],
            "open_id": tokens["open_id"],
            "scope": tokens["scope"],
        },
    )
    # a real clip padded to the size (sparse): the library takes only what probes as video
    video = write_video(directory / "big.mp4", size=size)
    media, _ = services.media.add(video)
    job = services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="tiktok_api",
        at=datetime.now(UTC),
        caption="one big clip",
        # compliance mode: a TikTok API post carries the operator's privacy choice
        options={"privacy_level": "SELF_ONLY"},
    )
    db.close()
    return job.id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--kill-at", type=float, default=0.5)
    parser.add_argument("--chunk-mb", type=int, default=10)
    parser.add_argument(
        "--in-flight", type=float, default=0.3, help="seconds after that event to kill"
    )
    args = parser.parse_args()
    size = args.size_mb * MB
    with tempfile.TemporaryDirectory() as tmp, TikTokApiSandbox(polls_to_complete=1) as sandbox:
        directory = Path(tmp)
        setup(directory, sandbox, size, args.chunk_mb)
        data = directory / "data"
        proc = subprocess.Popen(
            [sys.executable, "-m", "piper_desktop", "run", "--json"],
            env=env(data),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stdout is not None
        started = time.monotonic()
        killed_at = None
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            event = json.loads(line)
            fraction = (event.get("data") or {}).get("fraction")
            if event["kind"] == "progress" and fraction is not None and fraction >= args.kill_at:
                killed_at = fraction
                # a moment on, so that the next chunk is under way when the power goes
                time.sleep(args.in_flight)
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first_run = time.monotonic() - started
        before = sum(p.bytes_arrived for p in sandbox.state.publishes.values())

        restarted = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "piper_desktop", "run", "--once", "--json"],
            env=env(data),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        settled = time.monotonic() - restarted
        total = sum(p.bytes_arrived for p in sandbox.state.publishes.values())
        posts = sandbox.posts
        print(f"file: {size / MB:.0f} MB in {args.chunk_mb} MB chunks")
        print(f"killed at {killed_at or 0:.0%} after {first_run:.1f} s; "
              f"{before / MB:.0f} MB had reached the platform")
        print(f"after the restart: {(total - before) / MB:.0f} MB more")
        print(f"total bytes sent: {total / MB:.0f} MB = {total / size:.3f} x the file "
              f"(goal <= 1.1)")
        print(f"restart to settled: {settled:.1f} s (exit {done.returncode})")
        ok = len(posts) == 1 and posts[0]["bytes"] == size
        print(f"published once with every byte: {'yes' if ok else 'NO'}; publishes opened: "
              f"{len(sandbox.state.publishes)}")


if __name__ == "__main__":
    main()
