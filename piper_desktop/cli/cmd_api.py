"""`piper api token [--rotate]`: the local automation API's bearer token.

The only output that shows the token. Rotating stores a new one; the old one is refused
from the next request on, also by an engine that is serving the API right now (each
request reads the token from the vault).
"""

from __future__ import annotations

from argparse import Namespace

from .context import Commands, open_services


def register(commands: Commands) -> None:
    group = commands.add_parser(
        "api",
        help="the local automation API (127.0.0.1; `piper run --api`)",
        description="The local automation API: served by `piper run --api` and by the GUI"
        " when the setting api.enabled is on; requests carry Authorization: Bearer TOKEN.",
    )
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    token = sub.add_parser("token", help="print the API's bearer token (made on first use)")
    token.add_argument(
        "--rotate", action="store_true", help="make a new token; the old one stops working"
    )
    token.set_defaults(handler=cmd_token)


def cmd_token(args: Namespace) -> int:
    from ..intake.api.token import ensure_token, rotate_token

    services = open_services(args)
    settings = services.settings
    print(rotate_token(settings) if args.rotate else ensure_token(settings), flush=True)
    return 0
