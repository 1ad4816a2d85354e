"""`piper media ...`"""

from __future__ import annotations

import sys
from argparse import Namespace

from ..domain.errors import ValidationError
from .context import Commands, open_services
from .output import emit

LIST_COLUMNS = ["id", "title", "sha256", "size", "duration_sec", "exists", "problem"]


def register(commands: Commands) -> None:
    group = commands.add_parser("media", help="the media library")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add video files or folders")
    add.add_argument("paths", nargs="+", help="video files, or folders of videos")
    add.add_argument("--caption", dest="default_caption", help="the default caption of posts of it")
    add.add_argument("--hashtags", help="hashtags added to its posts (comma or space separated)")
    add.add_argument("--title", help="its name in the library (default: the file name)")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)

    photos = sub.add_parser("add-photos", help="add a photo set (1-35 images, in order)")
    photos.add_argument("images", nargs="+", help="JPEG, PNG or WebP files, in their order")
    photos.add_argument("--title", help="its name in the library (default: the first file's)")
    photos.add_argument("--cover", type=int, default=1, help="which image is the cover (1 = first)")
    photos.add_argument("--caption", dest="default_caption", help="the default caption")
    photos.add_argument("--json", action="store_true")
    photos.set_defaults(handler=cmd_add_photos)

    cap = sub.add_parser("captions", help="AI caption suggestions (OpenRouter); nothing is posted")
    cap.add_argument("media", help="media id, sha256 or path")
    cap.add_argument("--account", help="write for this account")
    cap.add_argument("-n", type=int, default=3, help="how many suggestions")
    cap.add_argument("--model", help="OpenRouter model (default: setting openrouter.model)")
    cap.add_argument("--json", action="store_true")
    cap.set_defaults(handler=cmd_captions)

    check = sub.add_parser(
        "check", help="probe every library file again; list those that are no usable video"
    )
    check.add_argument("ids", nargs="*", type=int, help="only these media ids")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=cmd_check)

    lst = sub.add_parser("list", help="list media")
    lst.add_argument("--search", help="text in the title or path")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)


def cmd_captions(args: Namespace) -> int:
    from ..clients.captions import caption_suggestions

    services = open_services(args)
    media = services.media.find(args.media)
    account = services.accounts.find(args.account) if args.account else None
    suggestions = caption_suggestions(
        services, media.id, account=account, n=args.n, model=args.model
    )
    if args.json:
        emit(suggestions, as_json=True)
    else:
        for number, text in enumerate(suggestions, start=1):
            print(f"{number}. {text}")
    return 0


def cmd_add(args: Namespace) -> int:
    services = open_services(args)
    record = {
        k: v
        for k, v in {
            "default_caption": args.default_caption,
            "hashtags": args.hashtags,
            "title": args.title,
        }.items()
        if v is not None
    }
    rows = []
    skipped = 0
    for path in services.media.expand_paths(args.paths):
        try:
            item, created = services.media.add(path, record)
        except ValidationError as exc:
            # one line per refused file; the others are still added
            print(f"skipped: {exc}", file=sys.stderr)
            skipped += 1
            continue
        row = services.media.to_dict(item)
        row["created"] = created
        rows.append(row)
    emit(rows, as_json=args.json, columns=["id", "sha256", "title", "size", "created"])
    return 1 if skipped else 0


def cmd_add_photos(args: Namespace) -> int:
    from ..domain.photo_sets import PhotoSetService

    services = open_services(args)
    item, created = PhotoSetService(services.media.db).add(
        args.images,
        title=args.title,
        cover_index=args.cover - 1,
        caption=args.default_caption,
    )
    row = services.media.to_dict(item)
    row["created"] = created
    row["images"] = len(item.images or [])
    emit([row], as_json=args.json, columns=["id", "kind", "title", "images", "size", "created"])
    return 0


def cmd_check(args: Namespace) -> int:
    """Flag, never remove: the operator replaces the file or removes the item."""
    services = open_services(args)
    found = services.media.check(args.ids or None)
    rows = [{"id": item.id, "path": item.path, "problem": reason} for item, reason in found]
    if args.json:
        emit(rows, as_json=True)
    elif rows:
        emit(rows, as_json=False, columns=["id", "path", "problem"])
    else:
        print("every checked file is a video")
    return 1 if rows else 0


def cmd_list(args: Namespace) -> int:
    services = open_services(args)
    rows = [services.media.to_dict(m) for m in services.media.list(search=args.search)]
    emit(rows, as_json=args.json, columns=LIST_COLUMNS)
    return 0
