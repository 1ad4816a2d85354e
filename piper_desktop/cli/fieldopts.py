"""Command-line options generated from the domain's field specs, so the CLI and the
services never disagree about what a field is called."""

from __future__ import annotations

import argparse
from argparse import Namespace
from collections.abc import Callable
from typing import Any

from ..domain.fields import Field


def add_field_options(
    parser: argparse.ArgumentParser,
    fields: dict[str, Field],
    *,
    skip: tuple[str, ...] = (),
    positional: tuple[str, ...] = (),
    secret_prefix: str,
) -> None:
    """Secret fields become `--<prefix>-<name>-stdin` flags: `--password-stdin` already
    means the master password."""
    for name in positional:
        parser.add_argument(name)
    for name, spec in fields.items():
        if name in skip or name in positional:
            continue
        if spec.secret:
            parser.add_argument(
                f"--{secret_prefix}-{name.replace('_', '-')}-stdin",
                dest=f"{secret_prefix}_{name}_stdin",
                action="store_true",
                help=f"read {name} from standard input",
            )
            continue
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, metavar=name.upper())


def collect_fields(
    args: Namespace,
    fields: dict[str, Field],
    read_secret: Callable[[], str],
    *,
    secret_prefix: str = "",
) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name, spec in fields.items():
        if spec.secret:
            if getattr(args, f"{secret_prefix}_{name}_stdin", False):
                record[name] = read_secret()
            continue
        value = getattr(args, name, None)
        if value is not None:
            record[name] = value
    return record
