"""`piper campaigns ...`"""

from __future__ import annotations

import sys
from argparse import Namespace
from typing import Any

from ..domain.fields import string_list
from ..domain.services import Services
from .context import Commands, open_services
from .fieldopts import privacy_help, privacy_type
from .output import emit

# state: the status as people read it (domain/campaigns.py campaign_state)
LIST_COLUMNS = ["id", "name", "status", "state", "route", "strategy", "start_at", "jobs", "failed"]
JSON_HELP = "print JSON (the model's field names) instead of text"
CAMPAIGN_HELP = "the campaign's name or id"


def register(commands: Commands) -> None:
    group = commands.add_parser("campaigns", help="campaigns: media across accounts on a schedule")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = sub.add_parser("create", help="create a campaign (draft)")
    create.add_argument("name", help="a name of your choice, unique")
    create.add_argument(
        "--route",
        required=True,
        choices=["tiktok_api", "upload_post", "browser"],
        help="how it is posted: %(choices)s",
    )
    create.add_argument(
        "--media",
        nargs="+",
        required=True,
        help="media ids, sha256, video files or folders (their videos are added to the library)",
    )
    create.add_argument("--accounts", nargs="*", default=[], help="platform:username or username")
    create.add_argument("--group", help="every active account of this group (any case)")
    create.add_argument("--tags", help="accounts with any of these tags (comma separated)")
    create.add_argument(
        "--caption-template",
        help="placeholders: {account} {date} {hashtags} {caption} {title} {display_name} {platform}",
    )
    create.add_argument("--hashtags", help="added to every post (comma or space separated)")
    create.add_argument(
        "--strategy",
        choices=["round_robin", "random", "least_used"],
        help="which account gets the next media: %(choices)s",
    )
    create.add_argument("--start-at", help="ISO 8601 (default: now)")
    create.add_argument("--privacy", dest="privacy_level", type=privacy_type, help=privacy_help())
    create.add_argument(
        "--missed-policy",
        choices=["reslot", "missed"],
        help="a slot missed while Piper was off: reslot it, or mark it missed",
    )
    create.add_argument("--max-attempts", type=int, help="tries per job before it fails")
    create.add_argument("--seed", type=int, help="for the random strategy: repeatable choices")
    create.add_argument("--start", action="store_true", help="start it at once")
    create.add_argument("--json", action="store_true", help=JSON_HELP)
    create.set_defaults(handler=cmd_create)

    lst = sub.add_parser("list", help="list campaigns")
    lst.add_argument("--json", action="store_true", help=JSON_HELP)
    lst.set_defaults(handler=cmd_list)

    show = sub.add_parser("show", help="a campaign with its progress per account")
    show.add_argument("campaign", help=CAMPAIGN_HELP)
    show.add_argument("--json", action="store_true", help=JSON_HELP)
    show.set_defaults(handler=cmd_show)

    for action, text in [
        ("start", "expand into jobs in free slots and queue them"),
        ("pause", "stop new claims for this campaign"),
        ("resume", "resume a paused campaign"),
        ("cancel", "cancel the campaign and its queued jobs"),
    ]:
        p = sub.add_parser(action, help=text)
        p.add_argument("campaign", help=CAMPAIGN_HELP)
        p.add_argument("--json", action="store_true", help=JSON_HELP)
        p.set_defaults(handler=cmd_state, state_action=action)


def cmd_create(args: Namespace) -> int:
    services = open_services(args)
    chosen = [item.id for item in services.media.find_or_add_all(args.media)]
    tags = string_list()("tags", args.tags) if args.tags else []
    record: dict[str, Any] = {
        "name": args.name,
        "route": args.route,
        "media_ids": chosen,
        "account_selection": {"accounts": args.accounts, "group": args.group, "tags": tags},
    }
    for key in (
        "caption_template",
        "hashtags",
        "strategy",
        "start_at",
        "missed_policy",
        "max_attempts",
        "seed",
    ):
        value = getattr(args, key)
        if value is not None:
            record[key] = value
    if args.privacy_level:
        record["options"] = {"privacy_level": args.privacy_level}
    from ..domain.compliance import SETTING, require_privacy

    require_privacy(args.route, record.get("options"), bool(services.settings.get(SETTING)))
    _require_connected(services, args.route, record["account_selection"])
    campaign = services.campaigns.create(record)
    data = services.campaigns.to_dict(campaign)
    if args.start:
        data["job_ids"] = services.campaigns.start(campaign.id)
        data["status"] = "running"
    else:
        data["preview"] = services.campaigns.preview(campaign.id)
    emit(data, as_json=args.json)
    return 0


def _require_connected(services: Services, route: str, selection: dict[str, Any]) -> None:
    """Refuse (or warn, per jobs.require_connected) accounts not connected to the route."""
    from ..routes.connected import require_connected

    ids = services.campaigns.selected_account_ids(selection)
    require_connected(services, route, ids, warn=lambda line: print(line, file=sys.stderr))


def cmd_list(args: Namespace) -> int:
    services = open_services(args)
    rows = []
    for campaign in services.campaigns.list():
        row = services.campaigns.to_dict(campaign)
        row["progress"] = services.campaigns.progress(campaign.id)
        row["state"] = row["progress"]["state"]
        if not args.json:
            row["status"] = status_text(row["status"], row["progress"])
            row["jobs"] = row["progress"]["total"]
            row["failed"] = row["progress"]["by_status"].get("failed", 0)
        rows.append(row)
    emit(rows, as_json=args.json, columns=LIST_COLUMNS)
    return 0


def cmd_show(args: Namespace) -> int:
    services = open_services(args)
    campaign = services.campaigns.find(args.campaign)
    data = services.campaigns.to_dict(campaign)
    data["progress"] = services.campaigns.progress(campaign.id)
    if not args.json:
        data["status"] = status_text(data["status"], data["progress"])
    emit(data, as_json=args.json)
    return 0


def status_text(status: str, progress: dict[str, Any]) -> str:
    """What a person reads: a campaign whose jobs failed never looks plainly done."""
    failed = progress["by_status"].get("failed", 0)
    if failed and status == "completed":
        total = progress["total"]
        return f"completed with {failed} failed" + (" (all)" if failed == total else "")
    return status


def cmd_state(args: Namespace) -> int:
    services = open_services(args)
    campaign = services.campaigns.find(args.campaign)
    action = args.state_action
    result: dict[str, Any] = {"id": campaign.id, "name": campaign.name}
    if action == "start":
        _require_connected(services, campaign.route, campaign.account_selection or {})
        result["job_ids"] = services.campaigns.start(campaign.id)
    elif action == "pause":
        services.campaigns.pause(campaign.id)
    elif action == "resume":
        services.campaigns.resume(campaign.id)
    else:
        result["cancelled_jobs"] = services.campaigns.cancel(campaign.id)
    result["status"] = services.campaigns.get(campaign.id).status
    emit(result, as_json=args.json)
    return 0
