"""The Content Sharing Guidelines' rules, without Qt (domain/tiktok_compliance.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from piper_desktop.domain import tiktok_compliance as tc
from piper_desktop.domain.jobs import parse_options
from piper_desktop.domain.services import Services


@dataclass(frozen=True)
class Creator:
    username: str = "ana"
    nickname: str = "Ana"
    privacy_level_options: tuple[str, ...] = (
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    )
    comment_disabled: bool = False
    duet_disabled: bool = True
    stitch_disabled: bool = False
    max_video_post_duration_sec: int | None = 60


CREATOR = Creator()


def test_privacy_is_exactly_the_creators_options_and_nothing_is_chosen() -> None:
    offers = tc.privacy_offers(CREATOR, tc.Choice())
    assert [o.value for o in offers] == list(CREATOR.privacy_level_options)
    assert all(o.enabled for o in offers)
    assert tc.Choice().privacy_level is None
    assert "Choose who can view this post." in tc.problems(CREATOR, tc.Choice(), 10)


def test_branded_content_greys_out_only_me_with_the_guidelines_reason() -> None:
    choice = tc.Choice(disclose=True, branded_content=True)
    offers = {o.value: o for o in tc.privacy_offers(CREATOR, choice)}
    assert not offers["SELF_ONLY"].enabled
    assert offers["SELF_ONLY"].reason == "Branded content visibility cannot be set to private."
    assert offers["PUBLIC_TO_EVERYONE"].enabled
    # private first: the branded box is greyed out with the same reason
    private = tc.Choice(privacy_level="SELF_ONLY", disclose=True)
    assert not tc.branded_offer(private).enabled
    assert tc.branded_offer(private).reason == tc.BRANDED_NOT_PRIVATE
    # the toggle off: "branded" does not count, SELF_ONLY stays
    assert all(o.enabled for o in tc.privacy_offers(CREATOR, tc.Choice(branded_content=True)))


def test_interactions_greyed_where_the_creator_disabled_them_photo_comments_only() -> None:
    video = {o.value: o for o in tc.interaction_offers(CREATOR, photo=False)}
    assert list(video) == ["comment", "duet", "stitch"]
    assert not video["duet"].enabled and "@ana" in (video["duet"].reason or "")
    assert video["comment"].enabled and video["stitch"].enabled
    photo = tc.interaction_offers(CREATOR, photo=True)
    assert [o.value for o in photo] == ["comment"]


def test_disclosure_labels_and_consent_lines() -> None:
    assert tc.disclosure_label(tc.Choice()) is None
    assert tc.disclosure_label(tc.Choice(your_brand=True)) is None  # toggle off
    own = tc.Choice(disclose=True, your_brand=True)
    assert tc.disclosure_label(own) == "Your photo/video will be labeled as 'Promotional content'"
    paid = "Your photo/video will be labeled as 'Paid partnership'"
    assert tc.disclosure_label(tc.Choice(disclose=True, branded_content=True)) == paid
    assert tc.disclosure_label(replace(own, branded_content=True)) == paid
    assert tc.consent_text(own) == "By posting, you agree to TikTok's Music Usage Confirmation."
    assert tc.consent_text(replace(own, branded_content=True)) == (
        "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation."
    )
    html = tc.consent_html(replace(own, branded_content=True))
    assert tc.MUSIC_USAGE_URL in html and tc.BRANDED_POLICY_URL in html
    assert tc.BRANDED_POLICY_URL not in tc.consent_html(own)


def test_toggle_on_with_nothing_chosen_cannot_post() -> None:
    choice = tc.Choice(privacy_level="PUBLIC_TO_EVERYONE", disclose=True)
    assert tc.problems(CREATOR, choice, 10) == [tc.DISCLOSURE_NEEDED]
    assert tc.problems(CREATOR, replace(choice, your_brand=True), 10) == []


def test_duration_over_the_creators_limit_is_one_line() -> None:
    line = tc.duration_problem(CREATOR, 75.0)
    assert line == (
        "This video lasts 75 s; @ana may post videos of at most 60 s. Choose a shorter video."
    )
    assert tc.duration_problem(CREATOR, 60.0) is None
    assert tc.duration_problem(CREATOR, 75.0, photo=True) is None
    choice = tc.Choice(privacy_level="SELF_ONLY")
    assert tc.problems(CREATOR, choice, 75.0) == [line]


def test_a_disabled_interaction_asked_for_is_a_problem() -> None:
    choice = tc.Choice(privacy_level="SELF_ONLY", allow_duet=True)
    assert len(tc.problems(CREATOR, choice, 1.0)) == 1


def test_options_carry_privacy_only_when_chosen_and_the_consent_moment() -> None:
    moment = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    chosen = tc.to_options(
        tc.Choice(privacy_level="MUTUAL_FOLLOW_FRIENDS", allow_comment=True), moment
    )
    assert chosen == {
        "privacy_level": "MUTUAL_FOLLOW_FRIENDS",
        "disable_comment": False,
        "disable_duet": True,
        "disable_stitch": True,
        "brand_content_toggle": False,
        "brand_organic_toggle": False,
        "consent_at": "2026-12-07T07:00:00+00:00",
    }
    assert parse_options(chosen) == chosen  # the job store accepts them as they are
    assert "privacy_level" not in tc.to_options(tc.Choice(), moment)
    photo = tc.to_options(tc.Choice(privacy_level="SELF_ONLY"), moment, photo=True)
    assert "disable_duet" not in photo and "disable_stitch" not in photo


def test_a_campaign_offers_the_levels_every_account_has() -> None:
    assert tc.shared_privacy(
        [
            ("PUBLIC_TO_EVERYONE", "FOLLOWER_OF_CREATOR", "SELF_ONLY"),
            ("SELF_ONLY", "PUBLIC_TO_EVERYONE"),
        ]
    ) == ("PUBLIC_TO_EVERYONE", "SELF_ONLY")
    assert tc.shared_privacy([]) == ()


def test_cannot_post_codes_have_plain_words() -> None:
    assert "limit" in (tc.cannot_post_reason("spam_risk_too_many_posts") or "")
    assert tc.cannot_post_reason("reached_active_user_cap")
    assert tc.cannot_post_reason("access_token_invalid") is None
    assert tc.cannot_post_reason(None) is None


def test_compliance_mode_is_on_unless_turned_off(services: Services) -> None:
    assert tc.compliance_on(services.settings.get)
    assert not tc.compliance_on(lambda _key: False)


def test_status_lines_say_what_tiktok_reports() -> None:
    assert tc.status_line("published").startswith("Posted. It can take a few minutes")
    assert tc.status_line("failed", reason="spam risk") == "TikTok did not post it: spam risk"
    assert "processing" in tc.status_line("verifying", detail="PROCESSING_UPLOAD")
    assert "PROCESSING_UPLOAD" in tc.status_line("verifying", detail="PROCESSING_UPLOAD")
    assert tc.status_line("queued") == "Waiting to be sent to TikTok."


def test_a_campaign_chooses_once_for_all_its_creators() -> None:
    other = Creator(
        username="bo",
        nickname="Bo",
        privacy_level_options=("SELF_ONLY", "PUBLIC_TO_EVERYONE"),
        duet_disabled=False,
        comment_disabled=True,
        max_video_post_duration_sec=30,
    )
    both = tc.combine([CREATOR, other])
    assert both.privacy_level_options == ("PUBLIC_TO_EVERYONE", "SELF_ONLY")
    assert both.comment_disabled and both.duet_disabled and not both.stitch_disabled
    assert both.max_video_post_duration_sec == 30
    assert tc.campaign_duration_problems([CREATOR, other], [("a", 45.0), ("b", 10.0)]) == [
        "a lasts 45 s, longer than @bo 30 s may post."
    ]
    choice = tc.Choice(privacy_level="PUBLIC_TO_EVERYONE", allow_stitch=True, disclose=True,
                       branded_content=True)
    assert tc.summary(choice, CREATOR) == (
        "Who can view: Everyone · Comment off · Duet off · Stitch on · labeled 'Paid partnership'"
    )
