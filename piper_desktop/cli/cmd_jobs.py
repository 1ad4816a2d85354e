"""`piper jobs ...`"""

from __future__ import annotations

import io
import sys
from argparse import Namespace
from typing import Any

from ..domain.compliance import SETTING as COMPLIANCE_SETTING
from ..domain.compliance import creator_levels, require_privacy
from ..domain.jobs import check_caption, default_caption
from ..owner_only import write_private_text
from ..routes.connected import require_connected
from .context import open_services
from .fieldopts import privacy_help, privacy_type, status_help, status_list_type
from .output import emit

LIST_COLUMNS = [
    "id",
    "account",
    "route",
    "status",
    "scheduled_at",
    "attempts",
    "receipt",
    "last_error",
]


JSON_HELP = "print JSON (the model's field names) instead of text"


def register(commands: Any) -> None:
    group = commands.add_parser("jobs", help="upload jobs")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="create one upload job")
    add.add_argument("--account", required=True, help="username, platform:username or id")
    add.add_argument("--platform", help="the account's platform when the username is ambiguous")
    add.add_argument("--media", required=True, help="media id, sha256 or a file path")
    add.add_argument(
        "--route",
        required=True,
        choices=["tiktok_api", "upload_post", "browser"],
        help="how it is posted: %(choices)s",
    )
    add.add_argument("--at", default="now", help="ISO 8601, 'now' or 'auto' (next free slot)")
    add.add_argument(
        "--caption",
        help="the post's text (default: the media's caption and hashtags; upload_post needs one)",
    )
    add.add_argument("--privacy", dest="privacy_level", type=privacy_type, help=privacy_help())
    add.add_argument(
        "--disable-comment", action="store_true", default=None, help="turn comments off"
    )
    add.add_argument("--disable-duet", action="store_true", default=None, help="turn duets off")
    add.add_argument(
        "--disable-stitch", action="store_true", default=None, help="turn stitches off"
    )
    add.add_argument(
        "--cover-ms",
        dest="video_cover_timestamp_ms",
        type=int,
        help="TikTok API: the cover frame, in milliseconds from the start",
    )
    add.add_argument(
        "--branded",
        dest="brand_content_toggle",
        action="store_true",
        default=None,
        help="paid partnership: promotes another brand",
    )
    add.add_argument(
        "--organic",
        dest="brand_organic_toggle",
        action="store_true",
        default=None,
        help="promotes your own business",
    )
    add.add_argument(
        "--aigc", dest="is_aigc", action="store_true", default=None, help="label as AI-generated"
    )
    add.add_argument(
        "--inbox", action="store_true", help="TikTok API: upload as a draft to the inbox"
    )
    add.add_argument("--video-url", help="TikTok API: PULL_FROM_URL from a verified host")
    add.add_argument("--platforms", help="Upload-Post: comma-separated platforms")
    add.add_argument(
        "--max-attempts", type=int, default=3, help="tries before it fails (default 3)"
    )
    add.add_argument("--allow-duplicate", action="store_true", help="override the duplicate guard")
    add.add_argument("--json", action="store_true", help=JSON_HELP)
    add.set_defaults(handler=cmd_add)

    lst = sub.add_parser("list", help="list jobs")
    lst.add_argument("--status", type=status_list_type, help=status_help())
    lst.add_argument("--account", help="only this account's jobs (username or id)")
    lst.add_argument("--campaign", help="only this campaign's jobs (name or id)")
    lst.add_argument(
        "--route", choices=["tiktok_api", "upload_post", "browser"], help="only %(choices)s"
    )
    lst.add_argument("--limit", type=int, help="at most this many")
    lst.add_argument("--json", action="store_true", help=JSON_HELP)
    lst.set_defaults(handler=cmd_list)

    show = sub.add_parser("show", help="a job with its events and artifacts")
    show.add_argument("job", type=int, help="the job's id")
    show.add_argument("--json", action="store_true", help=JSON_HELP)
    show.set_defaults(handler=cmd_show)

    cancel = sub.add_parser("cancel", help="cancel jobs (or --all-queued)")
    cancel.add_argument("jobs", type=int, nargs="*", help="job ids")
    cancel.add_argument("--all-queued", action="store_true", help="every queued job")
    cancel.set_defaults(handler=cmd_cancel)

    retry = sub.add_parser("retry", help="re-queue failed jobs (or --all-failed)")
    retry.add_argument("jobs", type=int, nargs="*", help="job ids")
    retry.add_argument("--all-failed", action="store_true", help="every failed job")
    retry.add_argument("--route", help="with --all-failed: only this route's")
    retry.add_argument(
        "--force", action="store_true", help="re-queue even if it may have been posted"
    )
    retry.set_defaults(handler=cmd_retry)

    edit = sub.add_parser("edit", help="change a job before it is claimed")
    edit.add_argument("job", type=int, help="the job's id")
    edit.add_argument(
        "--route", choices=["tiktok_api", "upload_post", "browser"],
        help="post it through this route instead",
    )  # fmt: skip
    edit.add_argument("--caption", help="the post's new text")
    edit.add_argument("--at", help="the new time, ISO 8601 (e.g. 2026-05-01T18:00+02:00)")
    edit.add_argument("--json", action="store_true", help="print the job as JSON")
    edit.set_defaults(handler=cmd_edit)

    mark = sub.add_parser(
        "mark-published", help="a failed / needs-attention job you checked went out after all"
    )
    mark.add_argument("job", type=int, help="the job's id")
    mark.add_argument("--url", required=True, help="the post's URL on the platform")
    mark.add_argument("--json", action="store_true", help=JSON_HELP)
    mark.set_defaults(handler=cmd_mark_published)

    stats = sub.add_parser("stats", help="counts by status, route and account; success rate")
    stats.add_argument("--json", action="store_true", help=JSON_HELP)
    stats.set_defaults(handler=cmd_stats)

    export = sub.add_parser("export", help="every job with its events, receipts and artifacts")
    export.add_argument(
        "--format", choices=["csv", "json"], default="json", help="%(choices)s (default json)"
    )
    export.add_argument("--since", help="only jobs changed since this ISO 8601 time")
    export.add_argument("-o", "--output", help="write to this file (default: standard output)")
    export.set_defaults(handler=cmd_export)


def cmd_add(args: Namespace) -> int:
    services = open_services(args)
    account = services.accounts.find(args.account, args.platform)
    media = services.media.find_or_add(args.media)
    # refused here, not at posting time ("title is required")
    caption = args.caption if args.caption is not None else default_caption(media)
    check_caption(args.route, caption, media)
    options: dict[str, Any] = {
        key: getattr(args, key)
        for key in (
            "privacy_level",
            "disable_comment",
            "disable_duet",
            "disable_stitch",
            "video_cover_timestamp_ms",
            "brand_content_toggle",
            "brand_organic_toggle",
            "is_aigc",
            "video_url",
            "platforms",
        )
        if getattr(args, key) is not None
    }
    if args.inbox:
        options["mode"] = "inbox"
    if args.video_url:
        options["source"] = "url"
    require_privacy(
        args.route,
        options,
        bool(services.settings.get(COMPLIANCE_SETTING)),
        creator_levels(services.accounts.load(account.id, args.route)),
    )
    require_connected(services, args.route, [account.id], warn=_warn)
    job = services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route=args.route,
        at=args.at,
        caption=args.caption,
        options=options,
        max_attempts=args.max_attempts,
        allow_duplicate=args.allow_duplicate,
    )
    emit(services.jobs.to_dict(job), as_json=args.json)
    return 0


def cmd_edit(args: Namespace) -> int:
    services = open_services(args)
    if args.route is None and args.caption is None and args.at is None:
        print("piper jobs edit: give --caption, --at and/or --route", file=sys.stderr)
        return 2
    job = services.jobs.get(args.job)
    if args.route is not None:
        require_connected(services, args.route, [job.account_id], warn=_warn)
    job = services.jobs.edit(
        args.job, caption=args.caption, scheduled_at=args.at, route=args.route
    )
    emit(services.jobs.to_dict(job), as_json=args.json)
    return 0


def _warn(line: str) -> None:
    print(line, file=sys.stderr)


def cmd_list(args: Namespace) -> int:
    services = open_services(args)
    account_id = services.accounts.find(args.account).id if args.account else None
    campaign_id = services.campaigns.find(args.campaign).id if args.campaign else None
    jobs = services.jobs.list(
        status=args.status,
        account_id=account_id,
        campaign_id=campaign_id,
        route=args.route,
        limit=args.limit,
    )
    rows = [services.jobs.to_dict(j) for j in jobs]
    names = services.accounts.names({j.account_id for j in jobs})
    for row in rows:
        # people read usernames; scripts keep account_id (and get the name beside it)
        row["account"] = names.get(row["account_id"], str(row["account_id"]))
    emit(rows, as_json=args.json, columns=LIST_COLUMNS)
    return 0


def cmd_show(args: Namespace) -> int:
    services = open_services(args)
    job = services.jobs.get(args.job)
    data = services.jobs.to_dict(job)
    data["account"] = services.accounts.names([job.account_id]).get(job.account_id)
    upload = services.jobs.upload(job.id)
    if upload is not None:
        # a terminal gets the one line; --json the figures too
        data["upload"] = upload if args.json else upload["summary"]
    data["events"] = [services.jobs.event_dict(e) for e in services.jobs.events(job.id)]
    data["artifacts"] = [services.jobs.artifact_dict(a) for a in services.jobs.artifacts(job.id)]
    emit(data, as_json=args.json)
    return 0


def cmd_cancel(args: Namespace) -> int:
    services = open_services(args)
    ids = services.jobs.bulk_cancel() if args.all_queued else []
    for job_id in args.jobs:
        services.jobs.cancel(job_id)
        ids.append(job_id)
    print(f"cancelled {len(ids)} job(s)")
    return 0


def cmd_retry(args: Namespace) -> int:
    services = open_services(args)
    ids = services.jobs.bulk_retry(route=args.route) if args.all_failed else []
    for job_id in args.jobs:
        services.jobs.retry(job_id, force=args.force)
        ids.append(job_id)
    print(f"re-queued {len(ids)} job(s)")
    return 0


def cmd_mark_published(args: Namespace) -> int:
    services = open_services(args)
    job = services.jobs.mark_published(args.job, args.url)
    emit(services.jobs.to_dict(job), as_json=args.json)
    return 0


def cmd_stats(args: Namespace) -> int:
    from ..domain.reporting import job_stats

    services = open_services(args)
    emit(job_stats(services.db), as_json=args.json)
    return 0


def cmd_export(args: Namespace) -> int:
    import sys
    from pathlib import Path

    from ..domain.fields import moment
    from ..domain.reporting import export_jobs, write_export

    services = open_services(args)
    since = moment()("since", args.since) if args.since else None
    rows = export_jobs(services.db, since=since)
    if args.output:
        out = io.StringIO(newline="")
        write_export(rows, args.format, out)
        write_private_text(Path(args.output).expanduser(), out.getvalue(), newline="")
        print(f"exported {len(rows)} job(s) to {args.output}", file=sys.stderr)
    else:
        write_export(rows, args.format, sys.stdout)
    return 0
