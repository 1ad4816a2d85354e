"""The web publisher on every layout variant of the Studio replica, in real Chromium:
each posts exactly once with the right bytes, caption, visibility and schedule (the
server's records say so), and the probe names the fallback it used."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from piper_desktop.browser.host import BrowserHost
from piper_desktop.browser.sites import load_site
from piper_desktop.routes.base import AccountRef, PostOptions, PublishError
from piper_desktop.routes.web.form import WebTimeouts
from piper_desktop.routes.web.locate import Match
from piper_desktop.routes.web.publisher import WebPublisher
from piper_desktop.sandbox.studio_variants import SWEEP
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from tests.browser import fixtures
from tests.browser.fixtures import StateBook, make_request

browser_temp = fixtures.browser_temp
browser_host = fixtures.browser_host
states = fixtures.states
video_file = fixtures.video_file

pytestmark = pytest.mark.browser

FAST = WebTimeouts(
    page_load=20,
    step=8,
    upload=30,
    suggestion=4,
    post_result=20,
    content=10,
    probe=3,
    typing_delay_ms=4,
)
# a representative few in the default run; the full sweep is slow
QUICK = {"all_different", "iframe", "unknown_modal"}
POSTING = [v for v in SWEEP if v != "unknown_modal"]


def variant_param(name: str) -> object:
    return pytest.param(name, marks=() if name in QUICK else pytest.mark.slow, id=name)


def studio_for(variant: str) -> TikTokStudioSandbox:
    server = TikTokStudioSandbox(variant=variant)
    server.configure(processing_seconds=0.3, success_navigate_ms=300)
    return server


def publisher_for(
    host: BrowserHost, studio: TikTokStudioSandbox, states: StateBook
) -> WebPublisher:
    site = load_site("tiktok", base_url=studio.base_url, env={})
    return WebPublisher(host, site, load_state=states.load, save_state=states.save, timeouts=FAST)


def login(studio: TikTokStudioSandbox, states: StateBook, account: AccountRef) -> None:
    states.states[account.id] = studio.storage_state_for(account.username)


@pytest.mark.parametrize("variant", [variant_param(v) for v in POSTING])
def test_each_variant_posts_once_as_asked(
    browser_host: BrowserHost, states: StateBook, video_file: Path, variant: str
) -> None:
    when = (datetime.now(UTC) + timedelta(hours=5)).replace(second=0, microsecond=0)
    when += timedelta(minutes=(-when.minute) % 5)
    account = AccountRef(1, "tiktok", "vera", timezone="UTC")
    caption = "Sunset run #sunset with @piperfriend\nline two"
    request = make_request(
        video_file,
        caption=caption,
        account=account,
        options=PostOptions(privacy_level="SELF_ONLY", scheduled_at=when.isoformat(), is_aigc=True),
    )
    matches: list[dict[str, Match]] = []
    with studio_for(variant) as studio:
        login(studio, states, account)
        pub = publisher_for(browser_host, studio, states)
        pub.on_matches = lambda _site, found: matches.append(found)
        receipt = pub.submit(request, lambda r: None)
        posts = studio.posts
    assert len(posts) == 1, f"{variant}: posted {len(posts)} times"
    [post] = posts
    assert post.sha256 == request.media_sha256 and post.size == request.media_size
    assert post.caption == caption
    assert post.visibility == "SELF_ONLY" and post.aigc is True
    assert post.schedule_time == int(when.timestamp())
    assert {(e["type"], e["value"]) for e in post.text_extra} == {
        ("hashtag", "sunset"),
        ("mention", "piperfriend"),
    }
    assert not getattr(post, "split", False), "the split prompt is declined"
    assert receipt.post_url == post.url
    fallbacks = {key for key, m in matches[-1].items() if m.fallback}
    if variant == "default":
        assert fallbacks == set()
    elif variant not in ("slow", "post_now_confirm", "known_interrupters", "split_prompt"):
        assert fallbacks, f"{variant}: the changed markup is found only through fallbacks"


def test_unknown_modal_needs_attention_with_screenshot(
    browser_host: BrowserHost, states: StateBook, video_file: Path
) -> None:
    account = AccountRef(2, "tiktok", "walt")
    request = make_request(video_file, caption="hello", account=account)
    with studio_for("unknown_modal") as studio:
        login(studio, states, account)
        with pytest.raises(PublishError) as caught:
            publisher_for(browser_host, studio, states).submit(request, lambda r: None)
        assert studio.posts == []
    error = caught.value
    assert error.code == "blocking_dialog" and "Help us improve" in error.reason
    assert error.needs_attention and error.certainly_not_posted
    assert error.artifacts["screenshot.png"].startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("variant", "element"),
    [
        pytest.param("file_button", "file_input", marks=pytest.mark.slow),
        pytest.param("post_text_only", "post_button", id="post_text_only"),
        pytest.param("plain_editor", "caption_editor", marks=pytest.mark.slow),
        pytest.param("visibility_select", "visibility_toggle", marks=pytest.mark.slow),
    ],
)
def test_probe_reports_drift_on_a_variant(
    browser_host: BrowserHost, states: StateBook, video_file: Path, variant: str, element: str
) -> None:
    account = AccountRef(3, "tiktok", "xena")
    with studio_for(variant) as studio:
        login(studio, states, account)
        found = publisher_for(browser_host, studio, states).probe(account, video_file)
        assert studio.posts == []
    by_name = {f.what: f for f in found}
    assert by_name[element].found and by_name[element].fallback, found
    assert by_name[element].matched
