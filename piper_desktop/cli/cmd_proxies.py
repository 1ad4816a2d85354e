"""`piper proxies ...`"""

from __future__ import annotations

import sys
from argparse import Namespace

from ..domain import importers
from ..domain import proxies as prx
from ..domain.textfiles import read_text_file
from ..logs import register_secret
from .cmd_accounts import print_report, write_output
from .context import Commands, open_services, prompt_secret, secret_from_stdin
from .fieldopts import add_field_options, collect_fields
from .output import emit

LIST_COLUMNS = [
    "id",
    "scheme",
    "host",
    "port",
    "username",
    "kind",
    "status",
    "latency_ms",
    "exit_ip",
    "country",
]


def register(commands: Commands) -> None:
    group = commands.add_parser("proxies", help="manage proxies")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = sub.add_parser(
        "add", help="add a proxy: host:port[:user:pass] or scheme://user:pass@host:port"
    )
    add.add_argument("proxy", nargs="?", help="the proxy in one-line form")
    add_field_options(add, prx.FIELDS, secret_prefix="proxy")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)

    lst = sub.add_parser("list", help="list proxies")
    lst.add_argument("--status", help="only proxies in this status: unchecked, ok, error")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)

    rm = sub.add_parser("rm", help="remove proxies")
    rm.add_argument("proxies", nargs="+", help="ids or host:port")
    rm.set_defaults(handler=cmd_rm)

    imp = sub.add_parser("import", help="import proxies (CSV, JSON or one per line)")
    imp.add_argument("file", help="the file to read")
    imp.add_argument("--format", choices=["csv", "json", "lines"])
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(handler=cmd_import)

    check = sub.add_parser("check", help="connect through proxies: latency, exit IP, status")
    check.add_argument("proxies", nargs="*", help="ids or host:port (default: all)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=cmd_check)

    exp = sub.add_parser("export", help="export proxies")
    exp.add_argument("file", nargs="?", help="the file to write (default: standard output)")
    exp.add_argument("--format", choices=["csv", "json"], default="csv")
    exp.add_argument("--include-secrets", action="store_true")
    exp.set_defaults(handler=cmd_export)


def cmd_add(args: Namespace) -> int:
    record = collect_fields(
        args, prx.FIELDS, lambda: secret_from_stdin(args), secret_prefix="proxy"
    )
    if args.proxy:
        parsed = prx.parse_proxy_line(args.proxy, user_without_password=True)
        if parsed.get("password"):
            register_secret(parsed["password"])
            if "password" not in record:
                print(
                    "piper: warning: the proxy's password is on the command line, so it stays "
                    "in the shell history. Next time leave it out (host:port:user) to be asked "
                    "for it, or give it with --proxy-password-stdin",
                    file=sys.stderr,
                )
        record = {**parsed, **record}
    if record.get("username") and not record.get("password") and sys.stdin.isatty():
        record["password"] = prompt_secret(
            f"password of proxy user {record['username']} (empty: none): ", allow_empty=True
        )
        if not record["password"]:
            del record["password"]
    services = open_services(args)
    proxy = services.proxies.add(record)
    emit(services.proxies.to_dict(proxy), as_json=args.json)
    return 0


def cmd_list(args: Namespace) -> int:
    services = open_services(args)
    rows = [services.proxies.to_dict(p) for p in services.proxies.list(status=args.status)]
    emit(rows, as_json=args.json, columns=LIST_COLUMNS)
    return 0


def cmd_rm(args: Namespace) -> int:
    services = open_services(args)
    for ref in args.proxies:
        proxy = services.proxies.find(ref)
        services.proxies.remove(proxy.id)
        print(f"removed {prx.proxy_label(proxy)}")
    return 0


def cmd_import(args: Namespace) -> int:
    text = read_text_file(args.file)
    services = open_services(args)
    return print_report(importers.import_proxies(services.db, text, args.format), args.json)


def cmd_check(args: Namespace) -> int:
    from ..clients.proxycheck import ProxySpec, check_proxies

    services = open_services(args)
    chosen = [services.proxies.find(ref) for ref in args.proxies] or services.proxies.list()
    results = check_proxies(
        [ProxySpec(p.id, prx.proxy_url(p)) for p in chosen],
        services.settings.get("proxy.check_url"),
        concurrency=services.settings.get("proxy.check_concurrency"),
    )
    rows = []
    for proxy, result in zip(chosen, results, strict=True):
        services.proxies.record_check(
            proxy.id,
            ok=result.ok,
            latency_ms=result.latency_ms,
            exit_ip=result.exit_ip,
            country=result.country,
            error=result.error,
        )
        rows.append(
            {
                "id": proxy.id,
                "proxy": prx.proxy_label(proxy),
                "ok": result.ok,
                "latency_ms": result.latency_ms,
                "exit_ip": result.exit_ip,
                "country": result.country,
                "error": result.error,
            }
        )
    emit(
        rows,
        as_json=args.json,
        columns=["id", "proxy", "ok", "latency_ms", "exit_ip", "country", "error"],
    )
    return 0 if all(r["ok"] for r in rows) else 1


def cmd_export(args: Namespace) -> int:
    services = open_services(args)
    write_output(
        args.file,
        importers.export_proxies(services.db, args.format, include_secrets=args.include_secrets),
    )
    return 0
