"""`piper watch add | list | rm`: watched folders (intake/watch_config.py, intake/folders.py).

The engine (`piper run`, the GUI's tray mode) watches them; a finished video there is
queued for the folder's account or group and moved to done/ (or failed/ with a reason).
"""

from __future__ import annotations

from argparse import Namespace
from datetime import UTC, datetime

from .context import Commands, open_services
from .output import emit

TEMPLATE_HELP = (
    "caption when the video has no sidecar; placeholders: {stem} {name} {ext} {folder}"
    " {date} {time}"
)


def register(commands: Commands) -> None:
    group = commands.add_parser("watch", help="watched folders: videos dropped in get queued")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser(
        "add",
        help="watch a folder for an account or a group",
        epilog="A video is taken once finished (size stable, no partial-download name), with"
        " its caption from <stem>.txt, or <stem>.json (caption, hashtags, at, route, title),"
        " or the template; then moved to done/, or to failed/ with <name>.reason.txt.",
    )
    add.add_argument("folder", help="the folder to watch")
    who = add.add_mutually_exclusive_group(required=True)
    who.add_argument("--account", help="post as this account")
    who.add_argument("--group", help="post on every account of this group")
    add.add_argument("--route", required=True, help="tiktok_api, upload_post or browser")
    add.add_argument("--caption-template", help=TEMPLATE_HELP)
    add.add_argument(
        "--slot", choices=["auto", "now"], default="auto", help="auto: next free slot (default)"
    )
    add.set_defaults(handler=cmd_add)
    lst = sub.add_parser("list", help="the watched folders and what they did last")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)
    rm = sub.add_parser("rm", help="stop watching a folder (its files stay)")
    rm.add_argument("folder", help="the folder, or its id from 'piper watch list'")
    rm.set_defaults(handler=cmd_rm)


def cmd_add(args: Namespace) -> int:
    from ..intake.watch_config import add_folder

    services = open_services(args)
    folder = add_folder(
        services,
        args.folder,
        account=args.account,
        group=args.group,
        route=args.route,
        caption_template=args.caption_template,
        slot=args.slot,
    )
    print(f"watching {folder.path} (id {folder.id}) for {folder.target_text()} via {folder.route}")
    return 0


def cmd_list(args: Namespace) -> int:
    from ..intake.watch_config import folder_status, load_folders

    services = open_services(args)
    now = datetime.now(UTC)
    rows = [folder_status(services, folder, now) for folder in load_folders(services)]
    if args.json:
        emit(rows, as_json=True)
        return 0
    if not rows:
        print("no watched folders (add one with 'piper watch add FOLDER ...')")
    for row in rows:
        print(
            f"{row['id']}  {row['path']}  {row['target']} via {row['route']}  slot {row['slot']}"
            f"  {row['status']}, {row['waiting']} waiting"
        )
        if row["caption_template"]:
            print(f"    caption template: {row['caption_template']}")
        if row["last_taken"]:
            taken = row["last_taken"]
            print(f"    last taken: {taken['name']} at {taken['at'][:16]}: {taken['line']}")
        if row["last_failed"]:
            failed = row["last_failed"]
            print(f"    last failed: {failed['name']} at {failed['at'][:16]}: {failed['reason']}")
    return 0


def cmd_rm(args: Namespace) -> int:
    from ..intake.watch_config import remove_folder

    services = open_services(args)
    folder = remove_folder(services, args.folder)
    print(f"no longer watching {folder.path}")
    return 0
