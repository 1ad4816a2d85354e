"""`piper watch add|list|rm`: folders whose finished videos are queued.

The watcher itself runs inside the engine (`piper run`, or the GUI in the tray): a
video dropped into a watched folder is queued at the next free slot (or now), then
moved to done/ (or failed/ with a reason file). Rules: domain/watch_folders.py.
"""

from __future__ import annotations

from argparse import Namespace

from .context import Commands, open_services
from .output import emit


def register(commands: Commands) -> None:
    group = commands.add_parser("watch", help="folders whose videos are queued when finished")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = sub.add_parser(
        "add",
        help="watch a folder: its videos go to an account or a group",
        description="Watch FOLDER: each finished video in it is queued on the account, or "
        "on every account of the group, then moved to FOLDER/done (or FOLDER/failed with "
        "a .reason.txt). A sidecar <stem>.txt holds the caption; <stem>.json may give "
        "caption, hashtags, at (auto, now or an ISO time) and route.",
    )
    add.add_argument("folder", metavar="FOLDER", help="the folder to watch (not inside another)")
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--account", help="the account: username (any case), platform:username or id"
    )
    where.add_argument("--group", help="every account of this group")
    add.add_argument("--route", help="the route (default: each account's first route)")
    add.add_argument(
        "--caption-template",
        help="the caption when no sidecar gives one; placeholders {stem}, {name}, {folder}, {date}",
    )
    add.add_argument(
        "--at",
        choices=["auto", "now"],
        default="auto",
        help="auto: each account's next free slot (default); now: at once",
    )
    add.set_defaults(handler=cmd_add)

    lst = sub.add_parser("list", help="the watched folders, their targets and status")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)

    rm = sub.add_parser("rm", help="stop watching a folder")
    rm.add_argument("folder", metavar="FOLDER|ID", help="the folder, or its id from watch list")
    rm.set_defaults(handler=cmd_rm)


def cmd_add(args: Namespace) -> int:
    from ..domain import watch_folders

    folder = watch_folders.add(
        open_services(args),
        args.folder,
        account=args.account,
        group=args.group,
        route=args.route,
        caption_template=args.caption_template,
        at=args.at,
    )
    print(f"watching folder {folder.id}: {folder.path}; videos go to {folder.target.describe()}")
    return 0


def cmd_list(args: Namespace) -> int:
    from ..domain import watch_folders

    settings = open_services(args).settings
    rows = []
    for folder in watch_folders.watched(settings):
        state = watch_folders.status(settings, folder)
        rows.append(
            {
                "id": folder.id,
                "folder": str(folder.path),
                "account": folder.target.account,
                "group": folder.target.group,
                "route": folder.target.route,
                "caption_template": folder.caption_template,
                "at": folder.at,
                "status": state.watching,
                "waiting": state.waiting,
                "last_taken": state.last_taken,
                "last_failed": state.last_failed,
            }
        )
    if not rows and not args.json:
        print("no folder watched yet: piper watch add FOLDER --account NAME")
        return 0
    emit(
        rows,
        as_json=args.json,
        columns=["id", "folder", "account", "group", "route", "at", "status", "waiting"],
    )
    return 0


def cmd_rm(args: Namespace) -> int:
    from ..domain import watch_folders

    folder = watch_folders.remove(open_services(args), args.folder)
    print(f"folder {folder.id} ({folder.path}) is no longer watched")
    return 0
