"""`piper team create|join|status|passphrase|leave`: several desktops on one PostgreSQL.

The URL names the team's PostgreSQL database (postgresql://user:password@host:5432/db;
the password may also come from libpq's own PGPASSWORD). It is kept, encrypted, in this
data dir's vault; every command of this data dir then works on the team's database.
The team passphrase opens the team's secrets: a prompt, `--passphrase-stdin` or
`PIPER_TEAM_PASSPHRASE`, or this desktop's keychain once remembered there
(`--remember-passphrase` at create or join, `piper team passphrase --remember`;
`piper team passphrase --forget` and `piper team leave` remove it).
"""

from __future__ import annotations

import os
import sys
from argparse import ArgumentParser, Namespace

from ..domain import team, team_keychain
from ..store.db import Database
from ..store.pg import PgDatabase
from .context import (
    Commands,
    UsageError,
    open_local,
    open_team_store,
    prompt_secret,
    read_team_passphrase,
    stdin_line,
)
from .output import emit, print_table


def register(commands: Commands) -> None:
    group = commands.add_parser("team", help="team mode: several desktops share one PostgreSQL")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    for name, text in (
        ("create", "make an empty PostgreSQL database this team's, and join it"),
        ("join", "join a team another desktop created"),
    ):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("url", help="postgresql://user[:password]@host:5432/database")
        cmd.add_argument("--name", help="this desktop's name in the team (default: host name)")
        cmd.add_argument("--operator", help="who works at this desktop (default: login name)")
        add_remember_option(cmd)
        if name == "create":
            cmd.add_argument(
                "--from-local",
                action="store_true",
                help="copy this data dir's vault into the new team (secrets re-encrypted)",
            )
        cmd.add_argument("--json", action="store_true")
        cmd.set_defaults(handler=cmd_create if name == "create" else cmd_join)

    status = sub.add_parser("status", help="the team's desktops, their engines, what each holds")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_status)

    passphrase = sub.add_parser("passphrase", help="change the team passphrase (re-wraps the key)")
    passphrase.add_argument(
        "--new-passphrase-stdin",
        action="store_true",
        help="read the new passphrase from stdin (the line after the current one)",
    )
    kept = passphrase.add_mutually_exclusive_group()
    kept.add_argument(
        "--remember",
        action="store_true",
        help="keep the current passphrase in this desktop's keychain instead of changing it",
    )
    kept.add_argument(
        "--forget",
        action="store_true",
        help="remove the passphrase from this desktop's keychain instead of changing it",
    )
    passphrase.set_defaults(handler=cmd_passphrase)

    leave = sub.add_parser("leave", help="this data dir goes back to its own vault")
    leave.set_defaults(handler=cmd_leave)

    export = sub.add_parser(
        "export-local",
        help="copy the team's data into this data dir's own vault, then leave the team",
    )
    export.add_argument(
        "--replace",
        action="store_true",
        help="replace what the local vault holds (a copy of its file is kept beside it)",
    )
    export.add_argument(
        "--to",
        metavar="DIR",
        help="copy into a new data dir instead (same master password); this one stays in",
    )
    export.set_defaults(handler=cmd_export_local)


def add_remember_option(cmd: ArgumentParser) -> None:
    """`--remember-passphrase`, shared with `piper init --store`."""
    cmd.add_argument(
        "--remember-passphrase",
        action="store_true",
        help="keep the team passphrase in this desktop's OS keychain",
    )


def remember(member: team.Membership | None, passphrase: str) -> None:
    assert member is not None
    if team_keychain.remember_passphrase(member, passphrase):
        print("the team passphrase is remembered in this desktop's keychain")
    else:
        print("no usable keychain here: the team passphrase is not remembered")


def _new_passphrase(args: Namespace) -> str:
    if getattr(args, "passphrase_stdin", False):
        return read_team_passphrase(args)
    env = os.environ.get("PIPER_TEAM_PASSPHRASE")
    if env:
        return read_team_passphrase(args)
    if not sys.stdin.isatty():
        raise UsageError(
            "no team passphrase: use --passphrase-stdin, set PIPER_TEAM_PASSPHRASE,"
            " or run in a terminal"
        )
    first = prompt_secret("New team passphrase: ")
    if prompt_secret("Repeat it: ") != first:
        raise UsageError("the two passphrases differ")
    return first


def _report(args: Namespace, member: team.Membership | None, verb: str) -> int:
    assert member is not None
    if getattr(args, "json", False):
        emit(
            {"team": team.shown_url(member.url), "desktop": member.name, "joined": True},
            as_json=True,
        )
    else:
        print(f"{verb} {team.shown_url(member.url)} as {member.name} ({member.operator})")
    return 0


def init_store(args: Namespace, local: Database, url: str) -> int:
    """`piper init --store URL`: the new vault joins the team at `url`, or makes that
    database the team's when it is none yet. Whatever fails, the vault stays made."""
    try:
        if team.holds_team(url, local):
            passphrase = read_team_passphrase(args)
            team.join_team(url, passphrase, local).close()
            verb = "joined the team on"
        else:
            passphrase = _new_passphrase(args)
            team.create_team(url, passphrase, local).close()
            verb = "created the team on"
    except team.TeamError as exc:
        raise team.TeamError(
            f"{exc} (the local vault is made and works alone: `piper team join|create URL` later)"
        ) from None
    member = team.membership(local)
    if args.remember_passphrase:
        remember(member, passphrase)
    return _report(args, member, verb)


def cmd_create(args: Namespace) -> int:
    local = open_local(args)
    try:
        passphrase = _new_passphrase(args)
        if args.from_local:
            made, copied = team.create_team_from_local(
                args.url, passphrase, local, name=args.name, operator=args.operator
            )
            made.close()
            print(f"copied to the team: {copied.summary()}")
        else:
            team.create_team(
                args.url, passphrase, local, name=args.name, operator=args.operator
            ).close()
        member = team.membership(local)
    finally:
        local.close()
    if args.remember_passphrase:
        remember(member, passphrase)
    return _report(args, member, "created the team on")


def cmd_join(args: Namespace) -> int:
    local = open_local(args)
    try:
        passphrase = read_team_passphrase(args)
        team.join_team(args.url, passphrase, local, name=args.name, operator=args.operator).close()
        member = team.membership(local)
    finally:
        local.close()
    if args.remember_passphrase:
        remember(member, passphrase)
    return _report(args, member, "joined the team on")


def _member(local: Database) -> team.Membership:
    member = team.membership(local)
    if member is None:
        raise UsageError("this data dir is in no team: `piper team create` or `piper team join`")
    return member


def _open(args: Namespace) -> tuple[team.Membership, PgDatabase, str]:
    local = open_local(args)
    try:
        member = _member(local)
        shared, passphrase = open_team_store(args, local, member)
        return member, shared, passphrase
    finally:
        local.close()


def cmd_status(args: Namespace) -> int:
    member, shared, _ = _open(args)
    try:
        rows = team.desktops(shared, member.desktop_id)
    finally:
        shared.close()
    if args.json:
        emit(
            {"team": team.shown_url(member.url), "desktops": [r.as_dict() for r in rows]},
            as_json=True,
        )
        return 0
    print(f"team {team.shown_url(member.url)}")
    print_table(
        [
            {
                "desktop": r.name + (" (this one)" if r.this_desktop else ""),
                "operator": r.operator,
                "host": r.host,
                "engine": r.engine_state or "-",
                "last seen": r.last_seen_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                "jobs held": r.jobs_held,
            }
            for r in rows
        ],
        ["desktop", "operator", "host", "engine", "last seen", "jobs held"],
    )
    return 0


def cmd_passphrase(args: Namespace) -> int:
    if args.forget:
        local = open_local(args)
        try:
            member = _member(local)
        finally:
            local.close()
        team_keychain.forget_passphrase(member)
        print("the team passphrase is not kept in this desktop's keychain")
        return 0
    member, shared, current = _open(args)
    if args.remember:
        shared.close()  # opened: the passphrase works
        remember(member, current)
        return 0
    try:
        if args.new_passphrase_stdin:
            # stdin: [master password] [current passphrase] new passphrase
            index = int(getattr(args, "password_stdin", False))
            new = stdin_line(index + int(getattr(args, "passphrase_stdin", False)))
        elif os.environ.get("PIPER_NEW_TEAM_PASSPHRASE"):
            new = os.environ["PIPER_NEW_TEAM_PASSPHRASE"]
        else:
            new = _new_passphrase(Namespace())
        team.change_passphrase(shared, current, new)
    finally:
        shared.close()
    if team_keychain.remembered_passphrase(member) is not None:
        # the keychain must not keep the passphrase that no longer opens the key
        remember(member, new)
    print(f"the team passphrase of {team.shown_url(member.url)} changed; tell the others")
    return 0


def cmd_leave(args: Namespace) -> int:
    local = open_local(args)
    try:
        member = team.membership(local)
        left = team.forget(local)
    finally:
        local.close()
    if member is not None:
        team_keychain.forget_passphrase(member)
    print("left the team: this data dir uses its own vault again" if left else "in no team")
    return 0


def cmd_export_local(args: Namespace) -> int:
    from pathlib import Path

    from ..store.vault import vault_exists

    target = Path(args.to).expanduser() if args.to else None
    if target is not None and vault_exists(target):
        raise UsageError(f"--to: {target} holds a Piper vault already: name a new folder")
    local = open_local(args)
    try:
        member = _member(local)
        shared, _ = open_team_store(args, local, member)
        try:
            if target is not None:
                copied = team.export_to_new_vault(shared, target, local.password)
                print(f"copied the team's data to {target}: {copied.summary()}")
                print("this data dir stays in the team")
                return 0
            exported = team.export_local(shared, local, member, replace=args.replace)
        finally:
            shared.close()
    finally:
        local.close()
    team_keychain.forget_passphrase(member)
    if exported.replaced is not None:
        print(f"replaced the local vault's {exported.replaced.summary()}")
        print(f"the vault as it was is kept in {exported.kept_copy}")
    print(f"copied the team's data here: {exported.copied.summary()}")
    print("left the team: this data dir uses its own vault again")
    return 0
