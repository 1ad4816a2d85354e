"""The local API's cost: authenticated GETs per second (each reads the token from the
vault) and upload-video's throughput (streamed to the intake folder, then queued).

    .venv/bin/python bench/api_requests.py [--requests 500] [--upload-mb 64]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from piper_desktop.domain.services import Services
from piper_desktop.intake.api.server import ApiServer
from piper_desktop.intake.api.token import ensure_token
from piper_desktop.sandbox.media import write_video
from piper_desktop.store.vault import create_vault

PASSWORD = "bench password, not a secret"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--upload-mb", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        services = Services(create_vault(root / "data", PASSWORD))
        services.accounts.add({"username": "bench", "routes": ["upload_post"]})
        server = ApiServer(services, root, 0)
        server.start()
        try:
            headers = {"Authorization": f"Bearer {ensure_token(services.settings)}"}
            with httpx.Client(base_url=server.address, headers=headers, timeout=120) as c:
                for path in ("/api/v1/jobs", "/api/v1/accounts"):
                    c.get(path).raise_for_status()
                    started = time.perf_counter()
                    for _ in range(args.requests):
                        c.get(path).raise_for_status()
                    took = time.perf_counter() - started
                    print(
                        f"GET {path}: {args.requests / took:,.0f} requests/s, "
                        f"{took / args.requests * 1000:.2f} ms each"
                    )
                video = write_video(root / "big.mp4", size=args.upload_mb * 1024 * 1024)
                started = time.perf_counter()
                with video.open("rb") as body:
                    response = c.post(
                        "/api/v1/upload-video",
                        data={"user": "bench", "scheduled_date": "auto"},
                        files={"video": ("big.mp4", body, "video/mp4")},
                    )
                took = time.perf_counter() - started
                response.raise_for_status()
                print(
                    f"POST upload-video, {args.upload_mb} MB: {took:.2f} s "
                    f"({args.upload_mb / took:,.0f} MB/s, streamed, hashed and queued)"
                )
        finally:
            server.stop()
            services.close()


if __name__ == "__main__":
    main()
