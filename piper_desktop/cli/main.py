"""`piper`: the headless face of the same services the GUI uses.

Exit codes: 0 success, 1 an error (one line on stderr), 2 usage or wrong password.
Each command group lives in its own `cmd_*.py` module with a `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .. import __version__
from ..clients.errors import ApiError
from ..domain.errors import DomainError
from ..logs import get_logger, mask
from ..routes.base import PublishError
from ..store.db import WrongPassword
from ..store.vault import VaultError
from .context import UsageError

log = get_logger("cli")

# Command groups, in the order `piper --help` lists them. Modules that need optional
# layers (engine, browser) import them lazily inside their handlers.
COMMAND_MODULES = [
    "cmd_vault",
    "cmd_accounts",
    "cmd_proxies",
    "cmd_profiles",
    "cmd_media",
    "cmd_campaigns",
    "cmd_jobs",
    "cmd_settings",
    "cmd_uploadpost",
    "cmd_selftest",
    "cmd_playwright",
]
OPTIONAL_COMMAND_MODULES = ["cmd_sandbox", "cmd_browser", "cmd_run"]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"piper: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="piper", description="Piper Desktop: publish on schedule, once.")
    parser.add_argument("--version", action="version", version=f"piper {__version__}")
    parser.add_argument(
        "--data-dir", help="data folder (default: PIPER_DATA_DIR or the user data dir)"
    )
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the master password from stdin"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument("--sandbox", action="store_true", help="GUI: try Piper against the sandbox")
    parser.add_argument("--minimized", action="store_true", help="GUI: start in the tray")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMAND_MODULES + OPTIONAL_COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if name in OPTIONAL_COMMAND_MODULES and exc.name and exc.name.endswith(name):
                continue
            raise
        module.register(commands)
    _accept_global_options_everywhere(parser)
    return parser


_GLOBAL_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--data-dir",), {}),
    (("--password-stdin",), {"action": "store_true"}),
    (("-v", "--verbose"), {"action": "store_true"}),
]


def _accept_global_options_everywhere(parser: argparse.ArgumentParser) -> None:
    """`piper init --password-stdin` reads as naturally as `piper --password-stdin init`:
    the global options are accepted after any subcommand too (SUPPRESS keeps the value
    given before the subcommand when the option is not repeated after it)."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for sub in set(action.choices.values()):
            for flags, kwargs in _GLOBAL_OPTIONS:
                if not any(flag in sub._option_string_actions for flag in flags):
                    sub.add_argument(
                        *flags, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kwargs
                    )
            _accept_global_options_everywhere(sub)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from ..ui.launch import launch_gui

        return launch_gui(args)
    try:
        result = args.handler(args)
    except WrongPassword:
        print("piper: wrong master password", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"piper: {exc}", file=sys.stderr)
        return 2
    except (DomainError, VaultError, ApiError) as exc:
        print(f"piper: {mask(str(exc))}", file=sys.stderr)
        return 1
    except PublishError as exc:
        # a publishing or browser failure: its first line says what happened
        print(
            f"piper: {mask(exc.reason.splitlines()[0] if exc.reason else type(exc).__name__)}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("piper: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"piper: {mask(str(exc))}", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())
