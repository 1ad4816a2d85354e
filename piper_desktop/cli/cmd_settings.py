"""`piper settings get|set|list`"""

from __future__ import annotations

from argparse import Namespace
from typing import Any

from ..domain.settings import mask_secret
from .context import Commands, open_services, secret_from_stdin
from .output import emit


def register(commands: Commands) -> None:
    group = commands.add_parser("settings", help="endpoints, API keys, limits")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    get = sub.add_parser("get", help="print one setting (secrets masked unless --reveal)")
    get.add_argument("key")
    get.add_argument("--reveal", action="store_true")
    get.add_argument("--json", action="store_true")
    get.set_defaults(handler=cmd_get)

    put = sub.add_parser("set", help="set a setting; secrets with --stdin")
    put.add_argument("key")
    put.add_argument("value", nargs="?")
    put.add_argument("--stdin", action="store_true", help="read the value from stdin")
    put.add_argument("--unset", action="store_true", help="back to the default")
    put.set_defaults(handler=cmd_set)

    lst = sub.add_parser("list", help="all settings with where each value comes from")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)


def cmd_get(args: Namespace) -> int:
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
    if args.stdin:
        value: Any = secret_from_stdin(args)
    elif args.unset:
        value = None
    elif args.value is None:
        from .context import UsageError

        raise UsageError("give a VALUE, --stdin or --unset")
    else:
        value = args.value
    services = open_services(args)
    spec = services.settings.definition(args.key)
    if spec.secret and not args.stdin and value is not None:
        print("piper: note: pass secrets with --stdin to keep them out of shell history")
    services.settings.set(args.key, value)
    print(f"{args.key} = {mask_secret(value) if spec.secret else value}")
    return 0


def cmd_list(args: Namespace) -> int:
    services = open_services(args)
    emit(services.settings.all(), as_json=args.json, columns=["key", "value", "source"])
    return 0
