"""`piper playwright ARGS...`: Playwright's own command line, e.g. `install chromium`.

The frozen app has no `python -m playwright`; this runs the same driver command line
with the Node.js Playwright uses (in the frozen app, unpacked on first use).
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from .context import Commands


def register(commands: Commands) -> None:
    cmd = commands.add_parser(
        "playwright",
        help="run Playwright's command line (e.g. `piper playwright install chromium`)",
        add_help=False,
    )
    cmd.add_argument("args", nargs=argparse.REMAINDER, help="what to pass to Playwright")
    cmd.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from playwright._impl import _driver

    from ..packed_node import UnpackError

    try:
        node, cli = _driver.compute_driver_executable()
    except UnpackError as exc:
        print(f"piper: {exc}", file=sys.stderr)
        return 1
    return subprocess.run([node, cli, *args.args], env=_driver.get_driver_env()).returncode
