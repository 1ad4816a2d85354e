"""`piper accounts ...`"""

from __future__ import annotations

import argparse
import sys
import textwrap
import webbrowser
from argparse import Namespace
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..domain import accounts as acc
from ..domain import importers
from ..domain.policy import posting_window_fields
from ..domain.textfiles import read_text_file
from ..owner_only import write_private_text
from .context import Commands, UsageError, open_services, secret_from_stdin
from .fieldopts import add_field_options, collect_fields
from .output import emit

LIST_COLUMNS = ["id", "platform", "username", "status", "group", "tags", "proxy_id", "timezone"]
EDIT_COLUMNS = [
    "id",
    "username",
    "group",
    "timezone",
    "window_enabled",
    "window_start",
    "window_end",
]


def register(commands: Commands) -> None:
    group = commands.add_parser("accounts", help="manage accounts")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = sub.add_parser("add", help="add an account")
    add_field_options(add, acc.FIELDS, positional=("username",), secret_prefix="account")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)

    lst = sub.add_parser("list", help="list accounts")
    lst.add_argument(
        "--status",
        help="only accounts in this status: active, needs_login, needs_attention, cooldown,"
        " disabled",
    )
    lst.add_argument("--group", help="only this group (any case)")
    lst.add_argument("--tag", help="only accounts with this tag")
    lst.add_argument("--platform")
    lst.add_argument("--search", help="text in the username, display name, e-mail or notes")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)

    show = sub.add_parser("show", help="show one account")
    show.add_argument("account", help="id, platform:username or username")
    show.add_argument("--platform")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    edit = sub.add_parser("edit", help="change one account, several, or a group's")
    edit.add_argument("account", nargs="*", help="ids, platform:username or usernames")
    edit.add_argument("--of-group", metavar="GROUP", help="every account of this group")
    edit.add_argument(
        "--posting-window",
        metavar="HH:MM-HH:MM",
        help='posting window in the account\'s own time, e.g. "09:00-21:00", or "off"',
    )
    add_field_options(edit, acc.FIELDS, secret_prefix="account")
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(handler=cmd_edit)

    rm = sub.add_parser("rm", help="remove accounts")
    rm.add_argument("accounts", nargs="+")
    rm.add_argument("--platform")
    rm.set_defaults(handler=cmd_rm)

    imp = sub.add_parser(
        "import",
        help="import accounts from CSV or JSON (with proxies and cookies)",
        description=textwrap.fill(
            "Import accounts from a CSV (header row) or JSON file. Columns other tools"
            " name differently (AdsPower, GoLogin, Multilogin, Dolphin exports) are"
            " recognised; map the rest with --map. The mapping is remembered for files"
            " with the same columns.",
            78,
        ),
        epilog=import_columns_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", nargs="?", help="the CSV or JSON file to read")
    imp.add_argument("--format", choices=["csv", "json"], help="csv or json (default: detected)")
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help="read the file's COLUMN as FIELD (one of the columns below), or COLUMN=ignore;"
        " repeatable",
    )
    imp.add_argument(
        "--spread",
        choices=["round-robin", "country"],
        help="give accounts without a proxy one each of the live proxies: round-robin, or"
        " by country (the account's country, else its time zone's)",
    )
    imp.add_argument(
        "--template",
        nargs="?",
        const="-",
        metavar="FILE",
        help="write a CSV template with every accepted column and an example row to FILE"
        " (default: stdout) and stop",
    )
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    imp.set_defaults(handler=cmd_import)

    connect = sub.add_parser(
        "connect", help="connect an account (or --all, --group G) to a publishing route"
    )
    connect.add_argument("account", nargs="?", help="id, platform:username or username")
    connect.add_argument(
        "--all", action="store_true", help="every account not yet connected to the route"
    )
    connect.add_argument(
        "--group", help="the accounts of this group (any case) not yet connected to the route"
    )
    connect.add_argument(
        "--reconnect",
        action="store_true",
        help="with --all/--group: also the accounts already connected",
    )
    connect.add_argument("--platform")
    connect.add_argument(
        "--route", required=True, choices=["tiktok_api", "upload_post"], help="%(choices)s"
    )
    connect.add_argument(
        "--profile",
        help="upload_post: the Upload-Post profile name (with --all/--group: matched by name)",
    )
    connect.add_argument(
        "--refresh-token-stdin",
        action="store_true",
        help="tiktok_api: import an existing refresh token instead of signing in",
    )
    connect.add_argument(
        "--no-browser",
        action="store_true",
        help="tiktok_api: print the sign-in URL instead of opening the browser",
    )
    connect.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for sign-in")
    connect.add_argument("--json", action="store_true")
    connect.set_defaults(handler=cmd_connect)

    cookies = sub.add_parser(
        "import-cookies",
        help="import browser sessions from a folder of <username>.json / <username>.txt files",
    )
    cookies.add_argument("folder", help="the folder of cookies files, one per account")
    cookies.add_argument("--group", help="only the accounts of this group (any case)")
    cookies.set_defaults(handler=cmd_import_cookies)

    exp = sub.add_parser("export", help="export accounts to CSV or JSON")
    exp.add_argument("file", nargs="?", help="output file (default: stdout)")
    exp.add_argument("--format", choices=["csv", "json"], default="csv")
    exp.add_argument("--include-secrets", action="store_true")
    exp.set_defaults(handler=cmd_export)


def _record(args: Namespace) -> dict[str, Any]:
    return collect_fields(
        args, acc.FIELDS, lambda: secret_from_stdin(args), secret_prefix="account"
    )


def cmd_add(args: Namespace) -> int:
    record = _record(args)
    services = open_services(args)
    account = services.accounts.add(record)
    emit(services.accounts.to_dict(account), as_json=args.json)
    return 0


def cmd_list(args: Namespace) -> int:
    services = open_services(args)
    rows = services.accounts.rows(
        status=args.status,
        group=args.group,
        tag=args.tag,
        platform=args.platform,
        search=args.search,
    )
    emit(rows, as_json=args.json, columns=LIST_COLUMNS)
    return 0


def cmd_show(args: Namespace) -> int:
    services = open_services(args)
    account = services.accounts.find(args.account, args.platform)
    data = services.accounts.to_dict(account)
    data["connected_routes"] = services.accounts.connected_routes(account.id)
    data["has_session"] = bool(services.accounts.storage_state(account.id))
    emit(data, as_json=args.json)
    return 0


def cmd_edit(args: Namespace) -> int:
    record = _record(args)
    # checked before the vault opens: a bad window changes no account
    record.update(posting_window_fields("posting_window", args.posting_window))
    if not args.account and not args.of_group:
        raise UsageError("name the accounts to change, or --of-group GROUP")
    if not record:
        raise UsageError("nothing to change: give a field such as --posting-window")
    services = open_services(args)
    ids = [services.accounts.find(ref, record.get("platform")).id for ref in args.account]
    if args.of_group:
        members = [row["id"] for row in services.accounts.rows(group=args.of_group)]
        if not members:
            raise UsageError(f"group {args.of_group!r} has no accounts")
        ids += [i for i in members if i not in ids]
    changed = [services.accounts.to_dict(services.accounts.edit(i, record)) for i in ids]
    if len(changed) == 1 and args.account and not args.of_group:
        emit(changed[0], as_json=args.json)
    else:
        emit(changed, as_json=args.json, columns=EDIT_COLUMNS)
    return 0


def cmd_connect(args: Namespace) -> int:
    from ..routes.tiktok_api.connect import connect_tiktok
    from ..routes.upload_post.connect import connect_upload_post

    bulk = args.all or args.group is not None
    if bulk == bool(args.account):
        raise UsageError("name one account, or give --all or --group GROUP")
    if bulk and (args.profile or args.refresh_token_stdin):
        raise UsageError("--all/--group match Upload-Post profiles by name and sign in one by one")
    if bulk:
        from .accounts_connect import connect_many

        return connect_many(args)
    refresh = secret_from_stdin(args) if args.refresh_token_stdin else None
    services = open_services(args)
    account = services.accounts.find(args.account, args.platform)
    if args.route == "upload_post":
        if not args.profile:
            raise UsageError("--route upload_post needs --profile NAME")
        result = connect_upload_post(services, account, args.profile)
    else:
        result = connect_tiktok(
            services,
            account,
            refresh_token=refresh,
            open_url=None if refresh else _url_opener(args.no_browser),
            timeout=args.timeout,
        )
        if result.get("warning"):
            print(f"warning: {result['warning']}", file=sys.stderr)
    emit(result, as_json=args.json)
    return 0


def cmd_import_cookies(args: Namespace) -> int:
    from .accounts_connect import import_cookies

    return import_cookies(args)


def _url_opener(print_only: bool) -> Callable[[str], object]:
    def open_url(url: str) -> None:
        if print_only or not webbrowser.open(url):
            print(f"Open this address to sign in, then come back here:\n{url}", flush=True)
        else:
            print("Sign in in the browser window that just opened...", flush=True)

    return open_url


def cmd_rm(args: Namespace) -> int:
    services = open_services(args)
    for ref in args.accounts:
        account = services.accounts.find(ref, args.platform)
        services.accounts.remove(account.id)
        print(f"removed {account.platform}:{account.username}")
    return 0


def import_columns_help() -> str:
    from ..domain.import_columns import ACCOUNT_COLUMNS

    width = max(len(c.name) for c in ACCOUNT_COLUMNS)
    lines = ["accepted columns:"]
    lines += [f"  {c.name.ljust(width)}  {c.meaning}" for c in ACCOUNT_COLUMNS]
    return "\n".join(lines)


def _mapping_options(values: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value in values:
        column, sep, target = value.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise UsageError(f"--map takes COLUMN=FIELD, got {value!r}")
        mapping[column.strip()] = target.strip().lower()
    return mapping


def cmd_import(args: Namespace) -> int:
    from ..browser.cookies import read_cookie_list
    from ..domain.import_columns import IGNORE

    if args.template is not None:
        template = importers.account_template()
        write_output(None if args.template == "-" else args.template, template)
        return 0
    if not args.file:
        raise UsageError("name the file to import, or --template to write one")
    overrides = _mapping_options(args.map)
    importers.check_mapping(importers.ACCOUNT_FILE, overrides)
    text = read_text_file(args.file)
    services = open_services(args)
    mapping, remembered = importers.account_mapping(services.db, text, args.format, overrides)
    if remembered and not args.json:
        print("using the column mapping chosen before for these columns")
    unknown = (
        [h for h in importers.account_headers(text, args.format) if h not in mapping]
        if (args.format or importers.detect_format(text, importers.ACCOUNT_FILE)) == "csv"
        else []
    )
    if unknown:
        raise UsageError(
            f"unknown column {unknown[0]!r}: map it with --map {unknown[0]!r}=FIELD"
            f" or --map {unknown[0]!r}={IGNORE} (the columns: see --help)"
        )
    report = importers.import_accounts(
        services.db,
        text,
        args.format,
        mapping=mapping,
        context=importers.AccountFileContext(Path(args.file).resolve().parent, read_cookie_list),
        spread=args.spread.replace("-", "_") if args.spread else None,
        remember=bool(overrides),
    )
    return print_report(report, args.json)


def print_report(report: importers.ImportReport, as_json: bool) -> int:
    import sys

    if as_json:
        emit(report.as_dict(), as_json=True)
    else:
        print(f"created {report.created}, updated {report.updated}, errors {len(report.errors)}")
        if report.proxies_created:
            print(f"proxies created {report.proxies_created}")
        for note in report.notes:
            print(note)
        for error in report.errors:
            print(str(error), file=sys.stderr)
    return 0 if report.ok else 1


def cmd_export(args: Namespace) -> int:
    services = open_services(args)
    text = importers.export_accounts(services.db, args.format, include_secrets=args.include_secrets)
    write_output(args.file, text)
    return 0


def write_output(file: str | None, text: str) -> None:
    if file:
        write_private_text(Path(file), text)
    else:
        print(text, end="" if text.endswith("\n") else "\n")
