"""`piper upload-post ...`: posts scheduled on Upload-Post's side, and its history."""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING

from .context import Commands, open_services
from .output import emit

if TYPE_CHECKING:  # httpx is imported when a command needs it, not at start-up
    from ..clients.upload_post import UploadPostClient


def register(commands: Commands) -> None:
    group = commands.add_parser("upload-post", help="posts scheduled on Upload-Post, history")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    lst = sub.add_parser("scheduled", help="posts Upload-Post holds for later")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_scheduled)

    edit = sub.add_parser("edit", help="move a scheduled post or change its title")
    edit.add_argument("job_id", help="Upload-Post's job id (`piper upload-post scheduled`)")
    edit.add_argument("--at", dest="scheduled_date", help="new ISO 8601 time")
    edit.add_argument("--title", help="the new title (the caption)")
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(handler=cmd_edit)

    cancel = sub.add_parser("cancel", help="cancel a scheduled post")
    cancel.add_argument("job_id", help="Upload-Post's job id (`piper upload-post scheduled`)")
    cancel.set_defaults(handler=cmd_cancel)

    history = sub.add_parser("history", help="recent uploads")
    history.add_argument("--page", type=int, default=1, help="page number (default 1)")
    history.add_argument("--limit", type=int, default=20, help="uploads per page (default 20)")
    history.add_argument("--json", action="store_true")
    history.set_defaults(handler=cmd_history)


def _client(args: Namespace) -> UploadPostClient:
    from ..routes.upload_post.connect import upload_post_client

    return upload_post_client(open_services(args))


def cmd_scheduled(args: Namespace) -> int:
    with _client(args) as client:
        emit(client.scheduled(), as_json=args.json, columns=["job_id", "scheduled_date", "title"])
    return 0


def cmd_edit(args: Namespace) -> int:
    with _client(args) as client:
        emit(
            client.edit_scheduled(
                args.job_id, scheduled_date=args.scheduled_date, title=args.title
            ),
            as_json=args.json,
        )
    return 0


def cmd_cancel(args: Namespace) -> int:
    with _client(args) as client:
        client.cancel_scheduled(args.job_id)
    print(f"cancelled scheduled post {args.job_id}")
    return 0


def cmd_history(args: Namespace) -> int:
    with _client(args) as client:
        emit(client.history(page=args.page, limit=args.limit), as_json=args.json)
    return 0
