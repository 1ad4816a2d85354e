"""`piper accounts connect --all|--group G` and `piper accounts import-cookies FOLDER`:
many accounts at once, one line per account. The matching is domain/name_match.py's,
the connecting the routes' own (routes/*/connect.py, routes/web/cookie_files.py)."""

from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path
from typing import Any

from ..clients.errors import ApiError
from ..domain.errors import DomainError
from ..domain.name_match import Named
from ..domain.services import Services
from ..routes.connected import not_connected
from .context import UsageError, open_services
from .output import print_json


def _accounts(services: Services, args: Namespace) -> list[Named]:
    rows = services.accounts.rows(group=args.group, platform=getattr(args, "platform", None))
    if args.group is not None and not rows:
        raise UsageError(f"group {args.group!r} has no accounts")
    return [Named(row["id"], row["username"]) for row in rows]


class Report:
    """One line per account as it goes (or, with --json, one list at the end)."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.lines: list[dict[str, Any]] = []

    def say(self, account: Named, text: str, state: str, **more: Any) -> None:
        self.lines.append({"account": account.username, "state": state, "detail": text, **more})
        if not self.as_json:
            print(f"@{account.username}  {text}", flush=True)

    @property
    def ok(self) -> bool:
        return all(line["state"] in ("connected", "skipped") for line in self.lines)


def connect_many(args: Namespace) -> int:
    services = open_services(args)
    accounts = _accounts(services, args)
    report = Report(args.json)
    if not args.reconnect:
        ids = [a.account_id for a in accounts]
        missing = {m.account_id for m in not_connected(services, args.route, ids)}
        for account in accounts:
            if account.account_id not in missing:
                report.say(account, "already connected (skipped)", "skipped")
        accounts = [a for a in accounts if a.account_id in missing]
    if not accounts:
        print("nothing to connect", file=sys.stderr)
    elif args.route == "upload_post":
        _upload_post(services, report, accounts)
    else:
        _tiktok(services, args, report, accounts)
    if args.json:
        print_json(report.lines)
    return 0 if report.ok else 1


def _upload_post(services: Services, report: Report, accounts: list[Named]) -> None:
    from ..routes.upload_post.connect import connect_upload_post, list_profiles, propose_profiles

    match = propose_profiles(accounts, list_profiles(services))
    for account, profile in match.pairs:
        connect_upload_post(services, services.accounts.get(account.account_id), profile)
        report.say(account, f"connected to Upload-Post profile {profile}", "connected",
             profile=profile)  # fmt: skip
    for account in match.accounts:
        report.say(account, "no Upload-Post profile of that name: not connected", "unmatched")


def _tiktok(services: Services, args: Namespace, report: Report, accounts: list[Named]) -> None:
    from ..routes.tiktok_api.connect import TikTokConsent
    from .cmd_accounts import _url_opener

    opener = _url_opener(args.no_browser)
    for number, account in enumerate(accounts, start=1):
        print(f"[{number}/{len(accounts)}] @{account.username}: sign in as this creator "
              f"(waiting up to {args.timeout:g} s)", flush=True)  # fmt: skip
        try:
            with TikTokConsent(
                services, services.accounts.get(account.account_id), timeout=args.timeout
            ) as consent:
                opener(consent.url)
                result = consent.wait()
        except (ApiError, DomainError) as exc:
            report.say(account, f"failed: {getattr(exc, 'message', None) or exc}", "failed")
            continue
        creator = result["creator_username"]
        report.say(account, f"connected as @{creator}", "connected", creator=creator)
        if result.get("warning"):
            print(f"warning: {result['warning']}", file=sys.stderr, flush=True)


def import_cookies(args: Namespace) -> int:
    from ..routes.web.cookie_files import import_one, plan_cookie_folder

    folder = Path(args.folder).expanduser()
    if not folder.is_dir():
        raise UsageError(f"{args.folder}: not a folder")
    services = open_services(args)
    plan = plan_cookie_folder(folder, _accounts(services, args))
    failed = bool(plan.unmatched_files)
    for planned in plan.imported:
        done = import_one(services, planned)
        if done.error:
            failed = True
            print(done.error, file=sys.stderr, flush=True)
            continue
        assert done.result is not None
        skipped = f", skipped {len(done.result.skipped)}" if done.result.skipped else ""
        print(f"@{done.account.username}  imported {done.result.imported} cookie(s) from "
              f"{done.file.name}{skipped}", flush=True)  # fmt: skip
    for item in plan.unmatched_files:
        print(f"{item.item.name}: {item.reason}", file=sys.stderr)
    if plan.unmatched_accounts:
        names = ", ".join(f"@{a.username}" for a in plan.unmatched_accounts)
        print(f"no cookies file for {len(plan.unmatched_accounts)} account(s): {names}")
    if not plan.imported and not plan.unmatched_files:
        print(f"no cookies files (*.json, *.txt) in {args.folder}", file=sys.stderr)
        return 1
    return 1 if failed else 0
