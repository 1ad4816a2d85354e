"""Command-line options generated from the domain's field specs, so the CLI and the
services never disagree about what a field is called."""

from __future__ import annotations

import argparse
from argparse import Namespace
from collections.abc import Callable
from typing import Any

from ..domain.fields import Field

# what each generated flag means: (secret_prefix, field) first, then ("", field)
FIELD_HELP: dict[tuple[str, str], str] = {
    ("account", "username"): "the account's username on the platform (without @)",
    ("account", "platform"): "tiktok (default), instagram, youtube, facebook, x, linkedin,"
    " threads or pinterest",
    ("account", "status"): "active, needs_login, needs_attention, cooldown or disabled",
    ("account", "group"): "a group name, to choose accounts by in campaigns (any case)",
    ("account", "tags"): "comma-separated tags",
    ("account", "proxy_id"): "the proxy's id (`piper proxies list`)",
    ("account", "profile_id"): "the browser profile's id (`piper profiles list`)",
    ("account", "timezone"): "IANA time zone of the account's audience, e.g. Asia/Tokyo",
    ("account", "country"): "two-letter country code (US, JP): spreading proxies by country"
    " matches it, else the time zone's country",
    ("account", "window_enabled"): "post only inside the posting window: yes or no",
    ("account", "window_start"): "posting window start, HH:MM in the account's time zone",
    ("account", "window_end"): "posting window end, HH:MM in the account's time zone",
    ("account", "min_spacing_minutes"): "at least this many minutes between two posts",
    ("account", "max_posts_per_day"): "at most this many posts a day",
    ("account", "routes"): "routes it may post by (comma separated): tiktok_api, upload_post,"
    " browser",
    ("", "display_name"): "the name shown on the profile",
    ("", "email"): "the account's e-mail address",
    ("", "notes"): "free text for you",
    ("", "name"): "a name of your choice",
    ("proxy", "scheme"): "http, https, socks5 (default http)",
    ("proxy", "host"): "the proxy's host name or IP address",
    ("proxy", "port"): "the proxy's port",
    ("proxy", "username"): "the proxy's user name (its password: --proxy-password-stdin)",
    ("proxy", "kind"): "residential, datacenter or mobile",
    ("profile", "template"): "start from this template (`piper profiles templates`)",
    ("profile", "user_agent"): "the browser's User-Agent string",
    ("profile", "viewport_width"): "window width in CSS pixels",
    ("profile", "viewport_height"): "window height in CSS pixels",
    ("profile", "device_scale_factor"): "device pixel ratio, e.g. 2",
    ("profile", "is_mobile"): "emulate a phone: yes or no",
    ("profile", "has_touch"): "a touch screen: yes or no",
    ("profile", "locale"): "browser locale, e.g. en-US",
    ("profile", "timezone"): "the browser's time zone, e.g. Europe/Paris",
    ("profile", "geolocation_lat"): "latitude the browser reports",
    ("profile", "geolocation_lon"): "longitude the browser reports",
    ("profile", "color_scheme"): "light, dark or no-preference",
}


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
        parser.add_argument(
            name, help=FIELD_HELP.get((secret_prefix, name)) or FIELD_HELP.get(("", name))
        )
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
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            metavar=name.upper(),
            help=FIELD_HELP.get((secret_prefix, name)) or FIELD_HELP.get(("", name)),
        )


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


def privacy_type(value: str) -> str:
    """argparse type for `--privacy`: an alias or TikTok's value; a usage error names them."""
    from ..domain.errors import ValidationError
    from ..domain.jobs import privacy_level

    try:
        return privacy_level(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def privacy_help() -> str:
    from ..domain.jobs import PRIVACY_ALIASES

    names = ", ".join(f"{alias} ({value})" for alias, value in PRIVACY_ALIASES.items())
    return f"who may see the post: {names}"


def status_list_type(value: str) -> list[str]:
    """argparse type for `--status a,b`: each one a job status."""
    from ..store.enums import JobStatus

    allowed = [s.value for s in JobStatus]
    chosen = [part.strip().lower() for part in value.split(",") if part.strip()]
    wrong = [s for s in chosen if s not in allowed]
    if wrong or not chosen:
        raise argparse.ArgumentTypeError(
            f"{wrong[0] if wrong else value!r} is no job status; choose from {', '.join(allowed)}"
        )
    return chosen


def status_help() -> str:
    from ..store.enums import JobStatus

    return "only jobs in these statuses (comma separated): " + ", ".join(s.value for s in JobStatus)
