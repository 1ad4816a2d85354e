"""`piper sandbox`: run local stand-ins of every external service until Ctrl-C."""

from __future__ import annotations

import os
import signal
import threading
from argparse import Namespace

from .context import Commands, UsageError


def register(commands: Commands) -> None:
    cmd = commands.add_parser(
        "sandbox", help="run local stand-ins of TikTok, Upload-Post, OpenRouter, Telegram"
    )
    cmd.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    cmd.add_argument("--only", nargs="*", help="start only these stand-ins")
    cmd.add_argument(
        "--studio-variant",
        metavar="SPEC",
        help="layout variant of the TikTok Studio replica: names joined by '+' "
        "(default: $PIPER_SANDBOX_STUDIO_VARIANT, else 'default'); see --studio-variants",
    )
    cmd.add_argument(
        "--studio-variants",
        action="store_true",
        help="list the Studio replica's layout variants and exit",
    )
    cmd.set_defaults(handler=run)


def run(args: Namespace) -> int:
    from ..domain.settings import DEFS
    from ..sandbox import SANDBOXES, start_sandboxes, stop_sandboxes
    from ..sandbox.env import sandbox_env, sandbox_settings
    from ..sandbox.studio_variants import (
        DEFAULT,
        VARIANT_ENV,
        VariantError,
        describe,
        parse_variant,
    )

    if args.studio_variants:
        for name, what in describe():
            print(f"{name:20} {what}")
        return 0
    names = tuple(args.only) if args.only else tuple(SANDBOXES)
    unknown = [name for name in names if name not in SANDBOXES]
    if unknown:
        raise UsageError(f"--only: unknown stand-in {unknown[0]!r}; known: {', '.join(SANDBOXES)}")
    source = "--studio-variant" if args.studio_variant is not None else VARIANT_ENV
    variant = (
        args.studio_variant if args.studio_variant is not None else os.environ.get(VARIANT_ENV)
    )
    try:
        parse_variant(variant)
    except VariantError as exc:
        raise UsageError(f"{source}: {exc}") from None
    servers = start_sandboxes(names, args.host, studio_variant=variant or DEFAULT)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        for name, server in servers.items():
            layout = f"  (layout: {variant})" if name == "tiktok_web" and variant else ""
            print(f"{name:12} {server.base_url}{layout}", flush=True)
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
