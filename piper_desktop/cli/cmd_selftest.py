"""`piper self-test`"""

from __future__ import annotations

from argparse import Namespace

from .context import Commands


def register(commands: Commands) -> None:
    cmd = commands.add_parser("self-test", help="check that this installation has what it needs")
    cmd.set_defaults(handler=run)


def run(args: Namespace) -> int:
    from ..selftest import run_self_test

    return 0 if run_self_test() else 1
