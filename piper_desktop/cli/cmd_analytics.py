"""`piper analytics ...`: read the posts' counts back now, and list what was read."""

from __future__ import annotations

import argparse
import sys
from argparse import Namespace
from dataclasses import asdict
from typing import Any

from .context import Commands, open_services
from .output import emit


def register(commands: Commands) -> None:
    group = commands.add_parser("analytics", help="how the posts did: views, likes, followers")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    collect = sub.add_parser("collect", help="read every TikTok API account's posts and counts now")
    collect.add_argument("--json", action="store_true")
    collect.set_defaults(handler=cmd_collect)

    posts = sub.add_parser("posts", help="the posts seen on the platform, newest first")
    posts.add_argument("--account")
    posts.add_argument("--platform")
    posts.add_argument("--limit", type=_positive, help="at most this many posts")
    posts.add_argument("--json", action="store_true")
    posts.set_defaults(handler=cmd_posts)

    accounts = sub.add_parser(
        "accounts", help="each account's followers, likes and views over time"
    )
    accounts.add_argument("--json", action="store_true")
    accounts.set_defaults(handler=cmd_accounts)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


class _CliDutyContext:
    """What the collection asks of the engine, for one pass from the command line:
    the same publisher factory; warnings go to stderr."""

    def __init__(self, services: Any) -> None:
        from ..engine.clock import SystemClock
        from ..engine.publishers import PublisherFactory

        self.services = services
        self.clock = SystemClock()
        self.factory = PublisherFactory(services, self.clock)

    def publisher(self) -> Any:
        return self.factory.get("tiktok_api")

    def account_status(self, account_id: int, status: str, reason: str) -> None:
        return None  # a pass of analytics changes no account's status

    def warn(self, message: str, data: dict[str, object]) -> None:
        print(f"warning: {message}", file=sys.stderr)


def cmd_collect(args: Namespace) -> int:
    from ..routes.tiktok_api.analytics import collect

    context = _CliDutyContext(open_services(args))
    try:
        found = collect(context, force=True)
    finally:
        context.factory.close()
    if found.error:
        print(found.summary(), file=sys.stderr)
        return 1
    if args.json:
        emit({"accounts": [asdict(a) for a in found.accounts]}, as_json=True)
    else:
        print(found.summary())
        for account in found.accounts:
            if account.error:
                print(f"@{account.username}: {account.error}", file=sys.stderr)
    return 1 if any(a.error for a in found.accounts) else 0


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def cmd_posts(args: Namespace) -> int:
    services = open_services(args)
    account_id = None
    if args.account:
        account_id = services.accounts.find(args.account, args.platform).id
    rows = services.analytics.posts(account_id, limit=args.limit)
    readings = services.analytics.post_readings([row.key for row in rows]) if args.json else {}
    out = []
    for row in rows:
        item = {k: _iso(v) for k, v in asdict(row).items()}
        if args.json:
            item["readings"] = [
                {k: _iso(v) for k, v in asdict(r).items()} for r in readings.get(row.key, [])
            ]
        out.append(item)
    emit(
        out,
        as_json=args.json,
        columns=["account", "post_id", "match", "job_id", "created_at", "views", "likes"],
    )
    return 0


def cmd_accounts(args: Namespace) -> int:
    services = open_services(args)
    readings = services.analytics.account_readings()
    out = []
    for account in services.accounts.list():
        creds = services.accounts.load(account.id, "tiktok_api")
        series = readings.get(account.id, [])
        if not series and not creds.get("analytics_collected_at"):
            continue
        latest = series[-1] if series else None
        out.append(
            {
                "account_id": account.id,
                "account": account.username,
                "platform": account.platform,
                "followers": latest.followers if latest else None,
                "likes": latest.likes if latest else None,
                "videos": latest.videos if latest else None,
                "views": latest.views if latest else None,
                "missing_scopes": list(creds.get("analytics_missing_scopes") or []),
                "readings": [{k: _iso(v) for k, v in asdict(r).items()} for r in series],
            }
        )
    if args.json:
        emit(out, as_json=True)
    else:
        emit(
            [{k: v for k, v in a.items() if k != "readings"} for a in out],
            as_json=False,
            columns=["account", "followers", "likes", "videos", "views", "missing_scopes"],
        )
    return 0
