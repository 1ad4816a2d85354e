"""`piper`: the headless face of the same services the GUI uses.

Every failure is one line on stderr (never SQL, never a secret) and an exit code from
EXIT_CODES (listed in `piper --help`). Each command group lives in its own `cmd_*.py`
module with a `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from .. import __version__
from ..domain.errors import DomainError
from ..failures import one_line
from ..logs import get_logger, mask
from ..owner_only import restrict_process
from ..store.faults import (
    DatabaseBusy,
    DatabaseDamaged,
    DiskFull,
    NotAPiperDatabase,
    StoreFault,
    WrongPassword,
    classify,
)
from ..store.filenames import DB_FILENAME
from ..store.vault import VaultError
from .context import UsageError, data_dir

if TYPE_CHECKING:
    from ..routes.base import PublishError

log = get_logger("cli")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2  # also a wrong master password (as before: scripts test for it)
EXIT_INTERNAL = 70  # a bug: sysexits' EX_SOFTWARE
EXIT_INTERRUPTED = 130
# each fault of the database file has its own code, so a script can tell them apart
FAULT_EXIT_CODES: dict[type[StoreFault], int] = {
    WrongPassword: EXIT_USAGE,
    DatabaseDamaged: 3,
    NotAPiperDatabase: 4,
    DiskFull: 5,
    DatabaseBusy: 6,
}
EXIT_CODES_HELP = """exit codes:
  0    success
  1    an error (one line on stderr says what)
  2    usage error, or wrong master password
  3    database file damaged (see 'piper vault check' and 'piper vault restore')
  4    not a Piper database
  5    disk full
  6    database in use by the GUI or 'piper run'
  70   internal error (details in the log file)
  130  interrupted"""

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
    "cmd_api",
    "cmd_team",
    "cmd_uploadpost",
    "cmd_telegram",
    "cmd_analytics",
    "cmd_watch",
    "cmd_selftest",
    "cmd_playwright",
]
OPTIONAL_COMMAND_MODULES = ["cmd_sandbox", "cmd_browser", "cmd_run"]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"piper: error: {message}", file=sys.stderr)
        raise SystemExit(2)


class _GuiOptionsOnly(Exception):
    """Raised by the GUI's parser on anything it does not know: the full parser decides."""


class _GuiParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _GuiOptionsOnly(message)


def build_parser(*, commands: bool = True) -> argparse.ArgumentParser:
    """`piper`'s parser; without `commands`, the global options only (no help, no
    version): what `piper` with no command, the GUI, needs."""
    parser = (Parser if commands else _GuiParser)(
        prog="piper",
        description="Piper Desktop: publish on schedule, once.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=commands,
    )
    if commands:
        parser.add_argument("--version", action="version", version=f"piper {__version__}")
    parser.add_argument(
        "--data-dir", help="data folder (default: PIPER_DATA_DIR or the user data dir)"
    )
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the master password from stdin"
    )
    parser.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="team mode: read the team passphrase from stdin (after the master password)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument("--sandbox", action="store_true", help="GUI: try Piper against the sandbox")
    parser.add_argument("--minimized", action="store_true", help="GUI: start in the tray")
    if not commands:
        parser.set_defaults(command=None)
        return parser
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMAND_MODULES + OPTIONAL_COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if name in OPTIONAL_COMMAND_MODULES and exc.name and exc.name.endswith(name):
                continue
            raise
        module.register(subparsers)
    _accept_global_options_everywhere(parser)
    _describe_common_options(parser)
    return parser


# help for options many commands share, given once here (a command's own help wins)
COMMON_HELP = {
    "json": "print JSON (the model's field names) instead of text",
    "platform": "the account's platform, when its username is on several",
    "account": "the account: username (any case), platform:username or id",
    "accounts": "accounts: usernames, platform:username or ids",
    "include_secrets": "include passwords (the file written is owner-only)",
    "format": "file format",
}


def _describe_common_options(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                _describe_common_options(sub)
        elif action.help is None and action.dest in COMMON_HELP:
            text = COMMON_HELP[action.dest]
            if action.choices:
                text += ": %(choices)s"
            if action.default not in (None, False):
                text += " (default %(default)s)"
            action.help = text


_GLOBAL_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("--data-dir",), {}),
    (("--password-stdin",), {"action": "store_true"}),
    (("--passphrase-stdin",), {"action": "store_true"}),
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


def _fail(message: str, code: int) -> int:
    print(f"piper: {mask(message)}", file=sys.stderr)
    return code


def _fault(fault: StoreFault) -> int:
    return _fail(str(fault), FAULT_EXIT_CODES.get(type(fault), EXIT_ERROR))


# The errors of the layers below are imported when one is met (an except clause evaluates
# its expression only then): `piper` with no command starts the GUI, whose first window
# does not wait for SQLAlchemy, httpx and the routes.
def _expected_errors() -> tuple[type[Exception], ...]:
    from ..clients.errors import ApiError
    from ..store.copies import CopyError

    return (DomainError, VaultError, ApiError, CopyError)


def _publish_error() -> type[PublishError]:
    from ..routes.base import PublishError

    return PublishError


def _gui_args(argv: Sequence[str] | None) -> argparse.Namespace | None:
    """The GUI's arguments when `argv` names no command (and asks for no help), parsed
    without importing the command modules: they import the services, and the first
    window does not wait for those. None when the full parser is needed."""
    try:
        args, rest = build_parser(commands=False).parse_known_args(argv)
    except _GuiOptionsOnly:
        return None  # a malformed option: the full parser says what is wrong
    return None if rest else args


def main(argv: Sequence[str] | None = None) -> int:
    # first of all: everything this process writes is owner-only (the GUI starts here too)
    restrict_process()
    args = _gui_args(argv)
    if args is None:
        args = build_parser().parse_args(argv)
    database = data_dir(args) / DB_FILENAME
    try:
        if args.command is None:
            from ..ui.launch import launch_gui

            return launch_gui(args)
        result = args.handler(args)
    except StoreFault as fault:
        return _fault(fault)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except _expected_errors() as exc:
        return _fail(str(exc), EXIT_ERROR)
    except _publish_error() as exc:
        # a publishing or browser failure: its first line says what happened
        print(
            f"piper: {mask(exc.reason.splitlines()[0] if exc.reason else type(exc).__name__)}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        return _reader_went_away()
    except Exception as exc:
        # anything else: a fault of the database file if it is one (a full disk in the
        # middle of an import), else one line and the details (masked) in the log
        found = classify(exc, database)
        if found is not None:
            return _fault(found)
        if isinstance(exc, OSError):
            return _fail(str(exc), EXIT_ERROR)
        # at info: the file log takes it, the console (warnings and up) keeps to one line
        log.info("internal error in 'piper %s'", args.command, exc_info=exc)
        return _fail(f"internal error ({one_line(exc)}); details in the log file", EXIT_INTERNAL)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return _reader_went_away()
    return int(result or 0)


def _reader_went_away() -> int:
    """`piper accounts list | head`: the reader closed the pipe. Not an error worth a
    line; point stdout at /dev/null so the interpreter's own final flush is quiet too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
