"""`piper telegram allow|list|deny`: the chats the Telegram intake bot serves.

The bot itself runs inside the engine (`piper run`, or the GUI in the tray) once a bot
token is set (`piper settings set telegram.bot_token`) and a chat is allowed here.
"""

from __future__ import annotations

from argparse import Namespace

from .context import Commands, open_services
from .output import emit


def register(commands: Commands) -> None:
    group = commands.add_parser("telegram", help="chats the Telegram bot takes videos from")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    allow = sub.add_parser(
        "allow",
        help="serve a chat: its videos go to an account or a group",
        description="Serve CHAT_ID (a private chat's is your Telegram user id; a group's "
        "is negative, e.g. -1001234567890): its videos are queued on the account, or on "
        "every account of the group, at the next free slot.",
    )
    allow.add_argument("chat_id", metavar="CHAT_ID", help="the Telegram chat id")
    where = allow.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--account", help="the account: username (any case), platform:username or id"
    )
    where.add_argument("--group", help="every account of this group")
    allow.add_argument("--route", help="the route (default: each account's first route)")
    allow.set_defaults(handler=cmd_allow)

    lst = sub.add_parser("list", help="the chats served and their targets")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)

    deny = sub.add_parser("deny", help="stop serving a chat")
    deny.add_argument("chat_id", metavar="CHAT_ID", help="the Telegram chat id")
    deny.set_defaults(handler=cmd_deny)


def cmd_allow(args: Namespace) -> int:
    from ..domain.telegram_chats import allow

    chat = allow(
        open_services(args), args.chat_id, account=args.account, group=args.group, route=args.route
    )
    print(f"telegram chat {chat.chat_id} allowed: videos go to {chat.target.describe()}")
    return 0


def cmd_list(args: Namespace) -> int:
    from ..domain.telegram_chats import listed

    rows = [
        {
            "chat_id": chat.chat_id,
            "account": chat.target.account,
            "group": chat.target.group,
            "route": chat.target.route,
        }
        for chat in listed(open_services(args).settings)
    ]
    if not rows and not args.json:
        print("no chat allowed yet: piper telegram allow CHAT_ID --account NAME")
        return 0
    emit(rows, as_json=args.json, columns=["chat_id", "account", "group", "route"])
    return 0


def cmd_deny(args: Namespace) -> int:
    from ..domain.telegram_chats import deny

    chat = deny(open_services(args), args.chat_id)
    print(f"telegram chat {chat} is no longer served")
    return 0
