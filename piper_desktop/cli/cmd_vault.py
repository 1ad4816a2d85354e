"""`piper init`, `piper passwd`, `piper keychain`."""

from __future__ import annotations

from argparse import Namespace

from ..logs import configure_logging
from ..store.vault import (
    change_password,
    create_vault,
    forget_keychain,
    remember_in_keychain,
    unlock_vault,
)
from .context import Commands, data_dir, open_services, read_password, stdin_line


def register(commands: Commands) -> None:
    init = commands.add_parser("init", help="create the encrypted database")
    init.set_defaults(handler=cmd_init)

    passwd = commands.add_parser("passwd", help="change the master password (re-keys the database)")
    passwd.add_argument(
        "--new-password-stdin",
        action="store_true",
        help="read the new password from stdin (after the current one with --password-stdin)",
    )
    passwd.set_defaults(handler=cmd_passwd)

    keychain = commands.add_parser(
        "keychain", help="remember the master password in the OS keychain"
    )
    keychain.add_argument("action", choices=["remember", "forget"])
    keychain.set_defaults(handler=cmd_keychain)


def cmd_init(args: Namespace) -> int:
    directory = data_dir(args)
    configure_logging(directory, verbose=args.verbose)
    db = create_vault(directory, read_password(args, prompt="New master password: ", confirm=True))
    db.close()
    print(f"created {directory / 'piper.db'}")
    return 0


def cmd_passwd(args: Namespace) -> int:
    services = open_services(args)
    if args.new_password_stdin:
        new = stdin_line(1 if args.password_stdin else 0)
    else:
        args_new = Namespace(**{**vars(args), "password_stdin": False})
        new = read_password(args_new, prompt="New master password: ", confirm=True)
    change_password(services.db, new)
    services.close()
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
