"""`piper sandbox`: run local stand-ins of every external service until Ctrl-C."""

from __future__ import annotations

import signal
import threading
from argparse import Namespace

from .context import Commands


def register(commands: Commands) -> None:
    cmd = commands.add_parser(
        "sandbox", help="run local stand-ins of TikTok, Upload-Post, OpenRouter, Telegram"
    )
    cmd.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    cmd.add_argument("--only", nargs="*", help="start only these stand-ins")
    cmd.set_defaults(handler=run)


def run(args: Namespace) -> int:
    from ..domain.settings import DEFS
    from ..sandbox import SANDBOXES, start_sandboxes, stop_sandboxes
    from ..sandbox.env import sandbox_env, sandbox_settings

    names = tuple(args.only) if args.only else tuple(SANDBOXES)
    servers = start_sandboxes(names, args.host)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        for name, server in servers.items():
            print(f"{name:12} {server.base_url}", flush=True)
        print("\nPoint piper at them (in another shell):", flush=True)
        for var, value in sandbox_env(servers).items():
            print(f"export {var}={value}", flush=True)
        print("\nThe stand-ins' demo keys (for a data dir of its own):", flush=True)
        for key, value in sandbox_settings(servers).items():
            if DEFS[key].secret:
                print(f"echo {value} | piper settings set {key} --stdin", flush=True)
        print("\nCtrl-C stops the sandbox.", flush=True)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop_sandboxes(servers)
    return 0
