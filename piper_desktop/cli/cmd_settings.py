"""`piper settings get|set|list`"""

from __future__ import annotations

import sys
from argparse import Namespace
from typing import Any

from ..domain.settings import DEFS, mask_secret
from .context import Commands, UsageError, open_services, prompt_secret, secret_from_stdin
from .output import emit


def register(commands: Commands) -> None:
    group = commands.add_parser("settings", help="endpoints, API keys, limits")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    get = sub.add_parser("get", help="print one setting (secrets masked unless --reveal)")
    get.add_argument("key", help="the setting, e.g. engine.max_workers (`piper settings list`)")
    get.add_argument("--reveal", action="store_true", help="print a secret in full")
    get.add_argument("--json", action="store_true")
    get.set_defaults(handler=cmd_get)

    put = sub.add_parser(
        "set", help="set a setting; a secret from --stdin, or asked for when VALUE is left out"
    )
    put.add_argument("key", help="the setting, e.g. engine.max_workers (`piper settings list`)")
    put.add_argument(
        "value", nargs="?", help="the new value (a secret: leave it out, or use --stdin)"
    )
    put.add_argument("--stdin", action="store_true", help="read the value from stdin")
    put.add_argument("--unset", action="store_true", help="back to the default")
    put.add_argument(
        "--force",
        action="store_true",
        help="take a secret's VALUE from the command line anyway (it stays in shell history)",
    )
    put.set_defaults(handler=cmd_set)

    lst = sub.add_parser("list", help="all settings with where each value comes from")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)


def cmd_get(args: Namespace) -> int:
    if args.key == "api.token" and args.reveal:
        # one command shows the API's token, so there is one place to look for its use
        raise UsageError("the API token is shown by `piper api token` only")
    services = open_services(args)
    spec = services.settings.definition(args.key)
    value = services.settings.get(args.key)
    if spec.secret and not args.reveal:
        value = mask_secret(value)
    if args.json:
        emit(
            {"key": args.key, "value": value, "source": services.settings.source(args.key)},
            as_json=True,
        )
    else:
        print("" if value is None else value)
    return 0


def cmd_set(args: Namespace) -> int:
    spec = DEFS.get(args.key)
    secret = spec is not None and spec.secret
    if args.stdin:
        value: Any = secret_from_stdin(args)
    elif args.unset:
        value = None
    elif args.value is not None:
        if secret and not args.force:
            # refused before anything is stored; the value is not repeated
            raise UsageError(
                f"{args.key} is a secret: a value typed on the command line stays in the "
                "shell history. Leave VALUE out to be asked for it, or pipe it in with "
                "--stdin (--force takes it from the command line anyway)"
            )
        value = args.value
    elif secret and sys.stdin.isatty():
        value = prompt_secret(f"{args.key}: ")
    else:
        raise UsageError("give a VALUE, --stdin or --unset")
    services = open_services(args)
    spec = services.settings.definition(args.key)
    services.settings.set(args.key, value)
    print(f"{args.key} = {mask_secret(value) if spec.secret else value}")
    return 0


def cmd_list(args: Namespace) -> int:
    services = open_services(args)
    emit(services.settings.all(), as_json=args.json, columns=["key", "value", "source"])
    return 0
