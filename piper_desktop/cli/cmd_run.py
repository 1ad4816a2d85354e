"""`piper run [--once]`: the engine without a window.

`piper run` publishes on schedule until SIGINT/SIGTERM, then stops in stages (no new
jobs; jobs in flight finish or are parked; leases released). `piper run --once`
processes everything due now, follows it to a final or waiting state and exits 0, or 1
when it ran jobs and every one of them failed (a script must not read that as success).
Progress goes to stdout, one line per event (`--json`: one JSON object per line).
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import threading
from argparse import Namespace
from types import FrameType
from typing import Any

from .context import Commands, UsageError, data_dir, open_services

# what a terminal shows by default; --verbose shows every event
QUIET_KINDS = frozenset({"progress", "wake", "verifying"})


def register(commands: Commands) -> None:
    run = commands.add_parser(
        "run",
        help="publish due jobs (until stopped, or --once)",
        description="Publish due jobs until stopped (SIGINT/SIGTERM), or with --once what"
        " is due now.",
        epilog="exit status of --once: 0 when it is done (published, nothing due, or jobs"
        " left waiting); 1 when jobs ran and every one of them failed, after the summary.",
    )
    run.add_argument(
        "--once",
        action="store_true",
        help="process what is due now, follow it, then exit (1 if every job run failed)",
    )
    run.add_argument("--json", action="store_true", help="events as JSON lines")
    run.add_argument(
        "--stop-timeout",
        type=float,
        help="seconds to let jobs in flight finish when stopping (default 120)",
    )
    run.add_argument(
        "--api",
        action="store_true",
        help="serve the local automation API on 127.0.0.1 (default: the setting api.enabled)",
    )
    run.add_argument(
        "--api-port", type=int, help="the API's port (default: the setting api.port; 0: any free)"
    )
    run.set_defaults(handler=cmd_run)


def cmd_run(args: Namespace) -> int:
    from ..domain.events import EngineEvent
    from ..engine import Engine, EngineConfig
    from ..engine.notify import TelegramNotifier

    services = open_services(args)
    overrides: dict[str, Any] = {}
    if args.stop_timeout is not None:
        overrides["stop_timeout"] = max(args.stop_timeout, 0.0)
    engine = Engine(
        services,
        config=EngineConfig.from_settings(services.settings, **overrides),
        data_dir=data_dir(args),
        hosted_options=_api_options(args),
    )
    verbose = bool(getattr(args, "verbose", False))
    lock = threading.Lock()

    def show(event: EngineEvent) -> None:
        if not verbose and not args.json and event.kind.value in QUIET_KINDS:
            return
        line = json.dumps(event.to_dict(), default=str) if args.json else event.line()
        with lock:
            print(line, flush=True)

    engine.events.subscribe(show)
    notifier = TelegramNotifier.from_settings(services)
    if notifier is not None:
        notifier.attach(engine.events)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()
        engine.request_stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    # a long-running service: what start-up loaded (libraries, ORM mappings) is never
    # garbage, so keep it out of the collector's full passes
    gc.freeze()
    counts: dict[str, int] = {}
    api_ok = True
    try:
        if args.once:
            counts = engine.run_once()
        else:
            engine.start()
            api_ok = _announce_api(engine, args)
            if not api_ok:  # asked for and not there: stop rather than run without it
                stop.set()
            while not stop.wait(1.0):
                pass
            engine.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if notifier is not None:
            notifier.close()
        services.close()
    left = engine.stranded
    if left:
        # uploads that would not finish in time keep their leases; the next start
        # reconciles them. Do not wait for their threads at interpreter exit.
        print(
            f"piper: {len(left)} job(s) still uploading; they are reconciled at the next start",
            file=sys.stderr,
            flush=True,
        )
        sys.stdout.flush()
        os._exit(0)
    if not api_ok:
        return 1
    return _once_status(counts) if args.once else 0


def _api_options(args: Namespace) -> dict[str, Any]:
    """--api turns the API on for this run; without it the setting api.enabled decides."""
    options: dict[str, Any] = {}
    if args.api:
        options["api"] = True
    if args.api_port is not None:
        if not 0 <= args.api_port <= 65535:
            raise UsageError(f"--api-port: {args.api_port} is not a port (0 to 65535)")
        options["api_port"] = args.api_port
    return options


def _announce_api(engine: Any, args: Namespace) -> bool:
    """Print the API's address; False when --api asked for it and it did not start."""
    server = next((h for h in engine.hosted.running if h.name == "api"), None)
    if server is not None:
        print(f"API listening on {server.address}", flush=True)
        return True
    if args.api:
        print("piper: the API did not start (the reason is in the log file)", file=sys.stderr)
        return False
    return True


def _once_status(counts: dict[str, int]) -> int:
    """1 when `run --once` ran jobs and none got out: each one failed."""
    failed = counts.get("failed", 0)
    if failed and not counts.get("published", 0):
        print(
            f"piper: every job run failed ({failed}); see `piper jobs list --status failed`",
            file=sys.stderr,
            flush=True,
        )
        return 1
    return 0
