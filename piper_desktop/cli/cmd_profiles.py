"""`piper profiles ...`"""

from __future__ import annotations

from argparse import Namespace

from ..domain import profiles as prof
from .context import Commands, open_services
from .fieldopts import add_field_options, collect_fields
from .output import emit

LIST_COLUMNS = [
    "id",
    "name",
    "template",
    "locale",
    "timezone",
    "viewport_width",
    "viewport_height",
    "is_mobile",
]


def register(commands: Commands) -> None:
    group = commands.add_parser("profiles", help="browser profiles")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    lst = sub.add_parser("list", help="list profiles")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=cmd_list)

    tpl = sub.add_parser("templates", help="list built-in templates")
    tpl.add_argument("--json", action="store_true")
    tpl.set_defaults(handler=cmd_templates)

    add = sub.add_parser("add", help="add a profile (from --template, adjusted by options)")
    add_field_options(add, prof.FIELDS, secret_prefix="profile")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_add)


def cmd_list(args: Namespace) -> int:
    services = open_services(args)
    rows = []
    for profile in services.profiles.list():
        row = services.profiles.to_dict(profile)
        row["accounts"] = services.profiles.accounts_using(profile.id)
        rows.append(row)
    emit(rows, as_json=args.json, columns=LIST_COLUMNS)
    return 0


def cmd_templates(args: Namespace) -> int:
    emit(
        prof.templates(),
        as_json=args.json,
        columns=["template", "name", "viewport_width", "viewport_height", "is_mobile"],
    )
    return 0


def cmd_add(args: Namespace) -> int:
    record = collect_fields(args, prof.FIELDS, lambda: "", secret_prefix="profile")
    services = open_services(args)
    if "name" not in record and record.get("template"):
        record["name"] = prof.template(record["template"])["name"]
    profile = services.profiles.add(record)
    emit(services.profiles.to_dict(profile), as_json=args.json)
    return 0
