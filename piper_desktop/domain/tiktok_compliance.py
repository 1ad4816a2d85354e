"""TikTok's Content Sharing Guidelines ("Required UX implementation in your app") as
rules: which post options the operator may choose given the creator's creator_info,
what the screen must say, and what is stored as the operator's choice.

The widgets (ui/tiktok_post_options.py, the campaign wizard) ask these functions and
show their answers; nothing here knows Qt. The wording the guidelines prescribe is kept
verbatim in the constants below, because auditors compare it word for word (see
docs/tiktok-audit.md).

Stored choice: a tiktok_api job's options carry `privacy_level` only when the operator
chose it, and `consent_at` (ISO 8601, UTC) the moment they pressed Post / Schedule /
Create campaign; the engine refuses such a job without them while
`tiktok.compliance_mode` is on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from . import compliance

GUIDELINES_URL = (
    "https://developers.tiktok.com/doc/content-sharing-guidelines"
    "#required_ux_implementation_in_your_app"
)
MUSIC_USAGE_URL = "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en"
BRANDED_POLICY_URL = "https://www.tiktok.com/legal/page/global/bc-policy/en"

COMPLIANCE_KEY = compliance.SETTING

PRIVACY_LABELS: dict[str, str] = {
    "PUBLIC_TO_EVERYONE": "Everyone",
    "FOLLOWER_OF_CREATOR": "Followers",
    "MUTUAL_FOLLOW_FRIENDS": "Friends",
    "SELF_ONLY": "Only me",
}
PRIVACY_PLACEHOLDER = "Choose who can view"

# the guidelines' own sentences (point 3 and 4)
BRANDED_NOT_PRIVATE = "Branded content visibility cannot be set to private."
DISCLOSURE_NEEDED = (
    "You need to indicate if your content promotes yourself, a third party, or both."
)
LABEL_PROMOTIONAL = "Your photo/video will be labeled as 'Promotional content'"
LABEL_PAID_PARTNERSHIP = "Your photo/video will be labeled as 'Paid partnership'"
CONSENT_MUSIC = "By posting, you agree to TikTok's Music Usage Confirmation."
CONSENT_BRANDED = (
    "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation."
)
PROCESSING_NOTE = (
    "It can take a few minutes for the post to process and appear on the creator's profile."
)

# creator_info answers these error codes when the creator cannot post now (point 1b)
CANNOT_POST: dict[str, str] = {
    "spam_risk_too_many_posts": "the creator has reached TikTok's limit of posts for today",
    "spam_risk_user_banned_from_posting": "TikTok has banned the creator from posting",
    "reached_active_user_cap": (
        "the app has reached TikTok's cap of creators posting today (unaudited apps: 5 a day)"
    ),
    "unaudited_client_can_only_post_to_private_accounts": (
        "this TikTok app is not audited yet and may only post to private accounts"
    ),
}


class CreatorFacts(Protocol):
    """What creator_info says (clients/tiktok.CreatorInfo has these fields)."""

    @property
    def username(self) -> str: ...
    @property
    def nickname(self) -> str: ...
    @property
    def privacy_level_options(self) -> tuple[str, ...]: ...
    @property
    def comment_disabled(self) -> bool: ...
    @property
    def duet_disabled(self) -> bool: ...
    @property
    def stitch_disabled(self) -> bool: ...
    @property
    def max_video_post_duration_sec(self) -> int | None: ...


@dataclass(frozen=True)
class Choice:
    """What the operator has set on the post screen; nothing is set until they set it."""

    privacy_level: str | None = None
    allow_comment: bool = False
    allow_duet: bool = False
    allow_stitch: bool = False
    disclose: bool = False
    your_brand: bool = False
    branded_content: bool = False

    @property
    def branded(self) -> bool:
        return self.disclose and self.branded_content

    @property
    def promotes_self(self) -> bool:
        return self.disclose and self.your_brand


@dataclass(frozen=True)
class Offer:
    """One control as the screen shows it: enabled or greyed out with the reason."""

    value: str
    label: str
    enabled: bool = True
    reason: str | None = None


def cannot_post_reason(code: str | None) -> str | None:
    """The plain words for a creator_info refusal that means "not now", else None."""
    return CANNOT_POST.get(code or "")


def privacy_offers(creator: CreatorFacts, choice: Choice) -> list[Offer]:
    """Exactly the creator's privacy_level_options, in TikTok's order; SELF_ONLY greyed
    out while branded content is chosen (point 3: branded content cannot be private)."""
    offers = []
    for value in creator.privacy_level_options:
        label = PRIVACY_LABELS.get(value, value.replace("_", " ").capitalize())
        if value == "SELF_ONLY" and choice.branded:
            offers.append(Offer(value, label, False, BRANDED_NOT_PRIVATE))
        else:
            offers.append(Offer(value, label))
    return offers


def interaction_offers(creator: CreatorFacts, *, photo: bool) -> list[Offer]:
    """Comment, Duet, Stitch (photo posts: Comment only), greyed out where the creator
    has turned them off in TikTok."""
    rows = [("comment", "Comment", creator.comment_disabled)]
    if not photo:
        rows += [
            ("duet", "Duet", creator.duet_disabled),
            ("stitch", "Stitch", creator.stitch_disabled),
        ]
    return [
        Offer(
            key,
            label,
            not disabled,
            f"@{creator.username} has turned {label} off in their TikTok settings"
            if disabled
            else None,
        )
        for key, label, disabled in rows
    ]


def branded_offer(choice: Choice) -> Offer:
    """The "Branded content" box: greyed out while the post is private."""
    if choice.privacy_level == "SELF_ONLY":
        return Offer("branded_content", "Branded content", False, BRANDED_NOT_PRIVATE)
    return Offer("branded_content", "Branded content")


def disclosure_label(choice: Choice) -> str | None:
    """What the post will be labeled as (points 3b/3c); None when nothing is chosen."""
    if choice.branded:
        return LABEL_PAID_PARTNERSHIP
    if choice.promotes_self:
        return LABEL_PROMOTIONAL
    return None


def consent_text(choice: Choice) -> str:
    """The declaration under the disclosure, as plain text (point 4)."""
    return CONSENT_BRANDED if choice.branded else CONSENT_MUSIC


def consent_html(choice: Choice) -> str:
    """The declaration with its links, for a rich-text label."""
    music = f'<a href="{MUSIC_USAGE_URL}">Music Usage Confirmation</a>'
    if choice.branded:
        policy = f'<a href="{BRANDED_POLICY_URL}">Branded Content Policy</a>'
        return f"By posting, you agree to TikTok's {policy} and {music}."
    return f"By posting, you agree to TikTok's {music}."


def duration_problem(
    creator: CreatorFacts, duration_sec: float | None, *, photo: bool = False
) -> str | None:
    """One line when the video is longer than the creator may post (point 1c)."""
    limit = creator.max_video_post_duration_sec
    if photo or limit is None or duration_sec is None or duration_sec <= limit:
        return None
    return (
        f"This video lasts {duration_sec:.0f} s; @{creator.username} may post videos of at "
        f"most {limit} s. Choose a shorter video."
    )


def problems(
    creator: CreatorFacts, choice: Choice, duration_sec: float | None, *, photo: bool = False
) -> list[str]:
    """Why the post cannot go yet, in the order the screen shows them; [] = ready."""
    found = []
    too_long = duration_problem(creator, duration_sec, photo=photo)
    if too_long:
        found.append(too_long)
    if choice.privacy_level is None:
        found.append("Choose who can view this post.")
    elif choice.privacy_level not in creator.privacy_level_options:
        found.append(f"@{creator.username} cannot post as {choice.privacy_level}.")
    elif choice.branded and choice.privacy_level == "SELF_ONLY":
        found.append(BRANDED_NOT_PRIVATE)
    if choice.disclose and not (choice.your_brand or choice.branded_content):
        found.append(DISCLOSURE_NEEDED)
    for offer in interaction_offers(creator, photo=photo):
        if not offer.enabled and getattr(choice, f"allow_{offer.value}"):
            found.append(offer.reason or f"{offer.label} is off")
    return found


def to_options(choice: Choice, consent_at: datetime, *, photo: bool = False) -> dict[str, Any]:
    """The job's options for this choice, with the consent's moment. `privacy_level` is
    absent when the operator chose none (so the engine can tell)."""
    options: dict[str, Any] = {
        "disable_comment": not choice.allow_comment,
        "brand_content_toggle": choice.branded,
        "brand_organic_toggle": choice.promotes_self,
        "consent_at": consent_at.astimezone(UTC).isoformat(timespec="seconds"),
    }
    if not photo:
        options["disable_duet"] = not choice.allow_duet
        options["disable_stitch"] = not choice.allow_stitch
    if choice.privacy_level is not None:
        options["privacy_level"] = choice.privacy_level
    return options


def shared_privacy(options: Iterable[Sequence[str]]) -> tuple[str, ...]:
    """The privacy levels every one of these creators offers, in the first one's order
    (a campaign chooses once for all its accounts)."""
    lists = [tuple(o) for o in options]
    if not lists:
        return ()
    rest = [set(o) for o in lists[1:]]
    return tuple(level for level in lists[0] if all(level in other for other in rest))


def compliance_on(get: Callable[[str], Any]) -> bool:
    """The `tiktok.compliance_mode` setting (domain/compliance.py owns the rule)."""
    value = get(COMPLIANCE_KEY)
    return value is None or bool(value)


def status_line(status: str, *, reason: str | None = None, detail: str | None = None) -> str:
    """What the post screen says after Post (point 5): the job's state in TikTok's terms.
    `reason`: the job's error; `detail`: its latest event's message (TikTok's status)."""
    if status == "published":
        return f"Posted. {PROCESSING_NOTE}"
    if status in ("failed", "needs_attention"):
        return f"TikTok did not post it: {reason or detail or 'no reason given'}"
    if status == "cancelled":
        return "Cancelled: nothing more will be sent."
    if status in ("submitted", "verifying"):
        said = f" ({detail})" if detail else ""
        return f"TikTok is processing the post{said}. {PROCESSING_NOTE}"
    if status == "submitting":
        return "Sending the post to TikTok…"
    return "Waiting to be sent to TikTok."


# --- a campaign: one choice for several creators ---------------------------------------
@dataclass(frozen=True)
class Combined:
    """Several creators as one for a campaign's single choice: the privacy levels all
    offer, an interaction greyed out when any of them turned it off, the shortest
    duration limit."""

    username: str
    nickname: str
    privacy_level_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int | None


def combine(creators: Sequence[CreatorFacts]) -> Combined:
    limits = [c.max_video_post_duration_sec for c in creators if c.max_video_post_duration_sec]
    names = ", @".join(c.username for c in creators)
    return Combined(
        username=names,
        nickname=", ".join(c.nickname or c.username for c in creators),
        privacy_level_options=shared_privacy(c.privacy_level_options for c in creators),
        comment_disabled=any(c.comment_disabled for c in creators),
        duet_disabled=any(c.duet_disabled for c in creators),
        stitch_disabled=any(c.stitch_disabled for c in creators),
        max_video_post_duration_sec=min(limits) if limits else None,
    )


def campaign_duration_problems(
    creators: Sequence[CreatorFacts], media: Sequence[tuple[str, float | None]]
) -> list[str]:
    """Each video longer than an account of the campaign may post (any video may go to
    any account), one line per video."""
    found = []
    for title, seconds in media:
        if seconds is None:
            continue
        over = [
            c
            for c in creators
            if c.max_video_post_duration_sec is not None
            and seconds > c.max_video_post_duration_sec
        ]
        if over:
            limits = ", ".join(f"@{c.username} {c.max_video_post_duration_sec} s" for c in over)
            found.append(f"{title} lasts {seconds:.0f} s, longer than {limits} may post.")
    return found


def summary(choice: Choice, creator: CreatorFacts, *, photo: bool = False) -> str:
    """What goes out for this creator, in one line (the campaign's review)."""
    level = choice.privacy_level
    parts = [f"Who can view: {PRIVACY_LABELS.get(level, level) if level else 'not chosen'}"]
    for offer in interaction_offers(creator, photo=photo):
        on = offer.enabled and getattr(choice, f"allow_{offer.value}")
        parts.append(f"{offer.label} {'on' if on else 'off'}")
    label = disclosure_label(choice)
    parts.append(f"labeled {label.split(' as ', 1)[1]}" if label else "no disclosure")
    return " · ".join(parts)
