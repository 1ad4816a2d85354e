"""Compliance mode: posting through TikTok's Content Posting API as its audit requires.

TikTok's Content Sharing Guidelines want the privacy chosen by the person posting,
never a default. With `tiktok.compliance_mode` on (the default) a tiktok_api post needs
an explicit privacy choice: the job's stored options hold the key `privacy_level` only
when the operator chose it (`piper jobs add --privacy`, `campaigns create --privacy`,
the post screen's dropdown; the screen also records `consent_at`, the ISO time of the
operator's consent). So:

- `jobs add` / `campaigns create` on tiktok_api refuse to make a job without it
  (`require_privacy`, one line naming the flag and the creator's levels when known);
- `campaigns.default_privacy` is not written into tiktok_api jobs (`default_privacy_for`);
- the route refuses, before anything is sent, a job that still lacks one (an older job,
  an import): the job waits for the operator (routes/tiktok_api/publisher.py).

With it off (an operator's own audited flow), campaigns carry defaults as before.
Inbox uploads are exempt: TikTok has the creator choose the privacy in the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..store.enums import JobRoute
from .errors import ValidationError

SETTING = "tiktok.compliance_mode"
ROUTE = JobRoute.TIKTOK_API.value
PRIVACY_KEY = "privacy_level"
CONSENT_KEY = "consent_at"
# the operator's words for the levels, as `--privacy` takes them
WORDS = {
    "PUBLIC_TO_EVERYONE": "public",
    "MUTUAL_FOLLOW_FRIENDS": "friends",
    "FOLLOWER_OF_CREATOR": "followers",
    "SELF_ONLY": "private",
}


# a job option saying its privacy_level is a campaign default, nobody's choice
DEFAULT_MARK = "privacy_default"


def needs_choice(route: str, options: Mapping[str, Any] | None) -> bool:
    """Does this job need the operator's privacy choice under compliance mode?"""
    return route == ROUTE and (options or {}).get("mode", "direct") != "inbox"


def privacy_missing(route: str, options: Mapping[str, Any] | None, compliance: bool) -> bool:
    """True when compliance mode refuses the job for want of a privacy choice."""
    if not compliance or not needs_choice(route, options):
        return False
    given = options or {}
    return not given.get(PRIVACY_KEY) or bool(given.get(DEFAULT_MARK))


def missing_reason(allowed: Iterable[str] = ()) -> str:
    levels = ", ".join(WORDS.get(level, level) for level in allowed)
    known = f"; the creator allows: {levels}" if levels else ""
    return (
        "no privacy was chosen for this TikTok API post, and compliance mode "
        f"({SETTING}) posts nothing without one{known}"
    )


def require_privacy(
    route: str, options: Mapping[str, Any] | None, compliance: bool, allowed: Iterable[str] = ()
) -> None:
    """Refuse to create a tiktok_api job without an explicit privacy (compliance on)."""
    if not privacy_missing(route, options, compliance):
        return
    levels = ", ".join(WORDS.get(level, level) for level in allowed) or ", ".join(WORDS.values())
    raise ValidationError(
        "privacy",
        f"--privacy is required on tiktok_api while {SETTING} is on (TikTok's audit: no "
        f"default privacy); choose one of: {levels}",
    )


def creator_levels(creds: Mapping[str, Any]) -> tuple[str, ...]:
    """The creator's privacy levels as TikTok gave them at the last connect, if kept."""
    levels = creds.get("privacy_level_options")
    return tuple(str(level) for level in levels) if isinstance(levels, list) else ()


def default_privacy_for(route: str, compliance: bool, default: str) -> dict[str, Any]:
    """The campaign default's contribution to a job's options: none on tiktok_api while
    compliance mode is on (a default is not the operator's choice)."""
    if compliance and route == ROUTE:
        return {}
    # marked as a default: should the job move to tiktok_api later (a route change, the
    # engine's fallback), it is no operator's choice there (PostOptions.privacy_chosen)
    return {PRIVACY_KEY: default, DEFAULT_MARK: True}
