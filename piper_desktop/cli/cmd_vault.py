"""`piper init`, `piper passwd`, `piper keychain`, `piper vault check|backup|restore`."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

from ..logs import configure_logging
from ..store import copies
from ..store.faults import DatabaseDamaged
from ..store.vault import (
    VaultNotFound,
    change_password,
    create_vault,
    db_path,
    forget_keychain,
    remember_in_keychain,
    unlock_vault,
    vault_exists,
)
from .cmd_team import add_remember_option, init_store
from .context import (
    Commands,
    data_dir,
    open_services,
    read_new_password,
    read_password,
)


def register(commands: Commands) -> None:
    init = commands.add_parser("init", help="create the encrypted database")
    init.add_argument(
        "--store",
        metavar="URL",
        help=(
            "team mode: postgresql+psycopg://user@host:5432/db; joins the team there, or"
            " makes that empty database the team's (the vault keeps the membership)"
        ),
    )
    add_remember_option(init)
    init.set_defaults(handler=cmd_init)

    passwd = commands.add_parser(
        "passwd",
        help="change the master password (re-keys the database and Piper's copies of it)",
        description=(
            "Re-keys the database and every copy Piper knows of (upgrade and restore "
            "copies beside it, backups made with 'piper vault backup'). The new password "
            "comes from --new-password-stdin, PIPER_NEW_PASSWORD or a prompt, never from "
            "PIPER_PASSWORD. Close the GUI and stop 'piper run' first."
        ),
    )
    passwd.add_argument(
        "--new-password-stdin",
        action="store_true",
        help="read the new password from stdin (after the current one with --password-stdin)",
    )
    passwd.set_defaults(handler=cmd_passwd)

    keychain = commands.add_parser(
        "keychain", help="remember the master password in the OS keychain"
    )
    keychain.add_argument("action", choices=["remember", "forget"], help="%(choices)s")
    keychain.set_defaults(handler=cmd_keychain)

    vault = commands.add_parser("vault", help="check, back up or restore the database file")
    actions = vault.add_subparsers(dest="vault_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", help="check every page and the structure (exit 3 if damaged)"
    )
    check.set_defaults(handler=cmd_check)
    backup = actions.add_parser(
        "backup", help="write an encrypted copy (the current password opens it)"
    )
    backup.add_argument("path", help="the new backup file")
    backup.set_defaults(handler=cmd_backup)
    restore = actions.add_parser(
        "restore",
        help="replace the database with a backup (checked first; the current file is kept)",
    )
    restore.add_argument("path", help="a backup made by 'piper vault backup'")
    restore.set_defaults(handler=cmd_restore)


def cmd_init(args: Namespace) -> int:
    directory = data_dir(args)
    configure_logging(directory, verbose=args.verbose)
    if args.store:
        from ..domain.team import check_url

        check_url(args.store)  # a typo makes nothing
    db = create_vault(directory, read_password(args, prompt="New master password: ", confirm=True))
    try:
        print(f"created {directory / 'piper.db'}")
        return init_store(args, db, args.store) if args.store else 0
    finally:
        db.close()


def cmd_passwd(args: Namespace) -> int:
    services = open_services(args)
    try:
        new = read_new_password(args, services.db.password)
        notes = change_password(services.db, new)
    finally:
        services.close()
    for note in notes:
        print(note)
    print("master password changed")
    return 0


def cmd_keychain(args: Namespace) -> int:
    directory = data_dir(args)
    if args.action == "remember":
        password = read_password(args)
        unlock_vault(directory, password).close()  # only remember a password that works
        result = remember_in_keychain(directory, password)
    else:
        result = forget_keychain(directory)
    print(result.message)
    return 0 if result.ok else 1


def cmd_check(args: Namespace) -> int:
    directory = data_dir(args)
    configure_logging(directory, verbose=args.verbose)
    if not vault_exists(directory):
        raise VaultNotFound(directory)
    path = db_path(directory)
    # read-only, without the migrations an unlock runs: it reports on a damaged file too
    problems = copies.check_file(path, read_password(args))
    if problems:
        for problem in problems[:20]:
            print(problem)
        raise DatabaseDamaged(path, f"{len(problems)} problem(s), the first: {problems[0]}")
    print(f"{path}: ok (every page and the structure check out)")
    return 0


def cmd_backup(args: Namespace) -> int:
    services = open_services(args)
    try:
        target = copies.backup(services.db, Path(args.path))
    finally:
        services.close()
    print(f"backed up to {target} (the current master password opens it)")
    return 0


def cmd_restore(args: Namespace) -> int:
    directory = data_dir(args)
    configure_logging(directory, verbose=args.verbose)
    kept = copies.restore(directory, Path(args.path), read_password(args))
    print(f"restored {directory / 'piper.db'} from {Path(args.path).expanduser()}")
    if kept is not None:
        print(f"the previous database is kept as {kept}")
    return 0
