"""Opening the vault for a command: where the master password comes from, in order.

`--password-stdin` (first line of standard input), `PIPER_PASSWORD`, the OS keychain if
the operator enabled it, then an interactive prompt when there is a terminal. A data dir
that joined a team (domain/team.py) then opens the team's database, with the team
passphrase remembered in the keychain (domain/team_keychain.py) if the operator chose so,
else from `--passphrase-stdin`, `PIPER_TEAM_PASSPHRASE` or a prompt.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from argparse import Namespace
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from ..domain.errors import DomainError
from ..logs import configure_logging, register_secret
from ..paths import default_data_dir
from ..store.filenames import DB_FILENAME
from ..store.vault import VaultNotFound, keychain_password, unlock_vault

if TYPE_CHECKING:
    # imported where used: `piper` with no command starts the GUI, whose first window
    # does not wait for the services (SQLAlchemy and all)
    from ..domain.services import Services
    from ..domain.team import Membership
    from ..store.db import Database
    from ..store.pg import PgDatabase

# what each command module's register() adds its sub-command to (argparse's own type;
# a string because argparse's classes are generic in the stubs only)
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

_stdin_lines: list[str] | None = None


class UsageError(DomainError):
    """Wrong or missing input from the operator: exit code 2."""


def stdin_line(index: int = 0) -> str:
    global _stdin_lines
    if _stdin_lines is None:
        _stdin_lines = sys.stdin.read().splitlines()
    if index >= len(_stdin_lines):
        raise UsageError("expected a password on standard input")
    value = _stdin_lines[index]
    register_secret(value)
    return value


def secret_from_stdin(args: Namespace) -> str:
    """A secret given on stdin: the line after the master password when both are there."""
    return stdin_line(1 if getattr(args, "password_stdin", False) else 0)


def prompt_secret(prompt: str, *, allow_empty: bool = False) -> str:
    """A secret typed at the terminal, not echoed (and kept out of shell history)."""
    value = getpass.getpass(prompt)
    if not value and not allow_empty:
        raise UsageError("nothing typed")
    register_secret(value)
    return value


def data_dir(args: Namespace) -> Path:
    if getattr(args, "data_dir", None):
        return Path(args.data_dir).expanduser()
    return default_data_dir()


def read_password(
    args: Namespace, *, prompt: str = "Master password: ", confirm: bool = False
) -> str:
    if getattr(args, "password_stdin", False):
        return stdin_line(0)
    env = os.environ.get("PIPER_PASSWORD")
    if env:
        register_secret(env)
        return env
    if not confirm:
        remembered = keychain_password(data_dir(args))
        if remembered:
            return remembered
    if not sys.stdin.isatty():
        raise UsageError(
            "no master password: use --password-stdin, set PIPER_PASSWORD, or run in a terminal"
        )
    password = getpass.getpass(prompt)
    if confirm and getpass.getpass("Repeat it: ") != password:
        raise UsageError("the two passwords differ")
    register_secret(password)
    return password


def read_new_password(args: Namespace, current: str) -> str:
    """The new master password for `piper passwd`: `--new-password-stdin` (the line
    after the current one when both come on stdin), `PIPER_NEW_PASSWORD`, or a prompt.
    Never `PIPER_PASSWORD`, which holds the current one; refused when it equals it."""
    if getattr(args, "new_password_stdin", False):
        new = stdin_line(1 if getattr(args, "password_stdin", False) else 0)
    elif os.environ.get("PIPER_NEW_PASSWORD"):
        new = os.environ["PIPER_NEW_PASSWORD"]
    elif sys.stdin.isatty():
        new = getpass.getpass("New master password: ")
        if getpass.getpass("Repeat it: ") != new:
            raise UsageError("the two passwords differ")
    else:
        raise UsageError(
            "the new master password is missing: use --new-password-stdin, set"
            " PIPER_NEW_PASSWORD, or run in a terminal"
        )
    register_secret(new)
    if new == current:
        raise UsageError("the new master password is the same as the current one")
    return new


def read_team_passphrase(args: Namespace, *, prompt: str = "Team passphrase: ") -> str:
    """The team passphrase: `--passphrase-stdin` (the line after the master password when
    both come on stdin), `PIPER_TEAM_PASSPHRASE`, or a prompt at a terminal."""
    if getattr(args, "passphrase_stdin", False):
        return stdin_line(1 if getattr(args, "password_stdin", False) else 0)
    env = os.environ.get("PIPER_TEAM_PASSPHRASE")
    if env:
        register_secret(env)
        return env
    if not sys.stdin.isatty():
        raise UsageError(
            "no team passphrase: use --passphrase-stdin, set PIPER_TEAM_PASSPHRASE,"
            " or run in a terminal"
        )
    return prompt_secret(prompt)


def open_local(args: Namespace) -> Database:
    """This data dir's own vault (the SQLCipher file), whether or not it joined a team."""
    directory = data_dir(args)
    if not (directory / DB_FILENAME).exists():
        # before asking for a password that could open nothing
        raise VaultNotFound(directory)
    configure_logging(directory, verbose=getattr(args, "verbose", False))
    return unlock_vault(directory, read_password(args))


def open_team_store(args: Namespace, local: Database, member: Membership) -> tuple[PgDatabase, str]:
    """The team's database for a data dir that joined one, and the passphrase that opened
    it: the keychain's if one is remembered, else stdin, environment or prompt. A
    remembered passphrase that no longer opens the team (changed at another desktop) is
    forgotten and said so in one line; it is never tried again."""
    from ..domain import team, team_keychain

    remembered = team_keychain.remembered_passphrase(member)
    if remembered is None:
        passphrase = read_team_passphrase(args)
        return team.open_team(local, member, passphrase), passphrase
    try:
        return team.open_team(local, member, remembered), remembered
    except team.WrongPassphrase:
        team_keychain.forget_passphrase(member)
        raise team.TeamError(
            "the team passphrase remembered in the keychain no longer opens the team"
            " (changed at another desktop?): it is forgotten now; give the current one"
        ) from None


def open_services(args: Namespace) -> Services:
    """The services of this data dir: its vault's, or its team's once it joined one."""
    from ..domain import team
    from ..domain.services import Services

    local = open_local(args)
    member = team.membership(local)
    if member is None:
        return Services(local)
    try:
        shared, _ = open_team_store(args, local, member)
    finally:
        local.close()
    return Services(shared)  # type: ignore[arg-type]  # a team store has the same face
