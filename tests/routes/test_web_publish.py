"""The web publisher against the TikTok Studio replica, in real Chromium."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from piper_desktop.browser.host import BrowserHost
from piper_desktop.browser.profile import ProfileSettings
from piper_desktop.browser.sites import SiteConfig, load_site
from piper_desktop.routes.base import AccountRef, CheckState, PostOptions, PublishError, Receipt
from piper_desktop.routes.web.form import WebTimeouts
from piper_desktop.routes.web.publisher import WebPublisher
from piper_desktop.sandbox.proxy import LocalProxy
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from tests.browser import fixtures
from tests.browser.fixtures import StateBook, make_request

# The browser fixtures, shared with tests/browser (one Chromium per module).
browser_temp = fixtures.browser_temp
browser_host = fixtures.browser_host
studio = fixtures.studio
site = fixtures.site
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
    probe=2,
    typing_delay_ms=4,
)
PNG = b"\x89PNG\r\n\x1a\n"


def publisher(host: BrowserHost, site: SiteConfig, states: StateBook, **kw) -> WebPublisher:
    return WebPublisher(
        host,
        site,
        load_state=states.load,
        save_state=states.save,
        profile_for=kw.pop("profile_for", None),
        timeouts=kw.pop("timeouts", FAST),
    )


def login(studio: TikTokStudioSandbox, states: StateBook, account: AccountRef) -> str:
    sessionid = studio.create_session(account.username)
    states.states[account.id] = {"cookies": [studio.session_cookie(sessionid)], "origins": []}
    return sessionid


def test_publish_with_tags_only_you_through_proxy(
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    site: SiteConfig,
    states: StateBook,
    video_file: Path,
) -> None:
    studio.configure(confirm_post_now=True)
    with LocalProxy(users={"alice-proxy": "s3cret pass"}) as proxy:
        account = AccountRef(
            1, "tiktok", "alice", proxy_url=proxy.url_for("alice-proxy", "s3cret pass")
        )
        login(studio, states, account)
        caption = "Sunset run #sunset with @piperfriend\nsecond line, #fyp"
        request = make_request(
            video_file,
            caption=caption,
            account=account,
            options=PostOptions(
                privacy_level="SELF_ONLY", disable_duet=False, disable_stitch=False, is_aigc=True
            ),
        )
        receipts: list[Receipt] = []
        steps: list[str] = []
        receipt = publisher(browser_host, site, states).submit(
            request, receipts.append, lambda message, _f: steps.append(message)
        )
        records = proxy.records

    posts = studio.posts
    assert len(posts) == 1, "published exactly once"
    post = posts[0]
    assert post.username == "alice"
    assert post.caption == caption
    assert {(e["type"], e["value"]) for e in post.text_extra} == {
        ("hashtag", "sunset"),
        ("mention", "piperfriend"),
        ("hashtag", "fyp"),
    }
    assert post.visibility == "SELF_ONLY"
    assert (post.allow_comment, post.allow_duet, post.allow_stitch) == (True, False, False)
    assert post.aigc is True and post.schedule_time is None
    assert post.sha256 == request.media_sha256 and post.size == request.media_size
    assert receipts == [receipt]
    assert receipt.kind == "post_url" and receipt.value == post.url == receipt.post_url
    assert receipt.extra["evidence_png"].startswith(PNG)
    assert "form filled" in steps
    # the session went through this account's proxy only, with its credentials
    authorised = {r.destination for r in records if r.authorized and r.username == "alice-proxy"}
    assert authorised == {studio.base_url.removeprefix("http://")}
    # the storage state was handed back, with the site's rotated token in it
    saved = states.states[account.id]
    names = {c["name"] for c in saved["cookies"]}
    assert {"sessionid", "tt_csrf_token", "cookie-consent"} <= names


def test_captcha_needs_attention_with_artifacts(
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    site: SiteConfig,
    states: StateBook,
    video_file: Path,
) -> None:
    account = AccountRef(2, "tiktok", "bob")
    login(studio, states, account)
    studio.require_captcha("load", "bob")
    request = make_request(video_file, caption="hello", account=account)
    with pytest.raises(PublishError) as caught:
        publisher(browser_host, site, states).submit(request, lambda r: None)
    error = caught.value
    assert error.needs_attention and error.code == "captcha"
    assert error.certainly_not_posted
    assert error.artifacts["screenshot.png"].startswith(PNG)
    assert b"captcha_container" in error.artifacts["page.html"]
    assert studio.posts == []
    assert states.saves == [2], "storage state saved back after a failed session too"


def test_expired_login_needs_login(
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    site: SiteConfig,
    states: StateBook,
    video_file: Path,
) -> None:
    account = AccountRef(3, "tiktok", "carol")
    login(studio, states, account)
    studio.expire_sessions("carol")
    request = make_request(video_file, caption="hello", account=account)
    with pytest.raises(PublishError) as caught:
        publisher(browser_host, site, states).submit(request, lambda r: None)
    error = caught.value
    assert error.needs_attention and error.account_status == "needs_login"
    assert error.certainly_not_posted and error.code == "needs_login"
    assert "log in" in error.reason
    assert studio.posts == []


def test_unknown_dialog_and_step_timeout_are_named(
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    site: SiteConfig,
    states: StateBook,
    video_file: Path,
) -> None:
    account = AccountRef(4, "tiktok", "dave")
    login(studio, states, account)
    request = make_request(video_file, caption="hello", account=account)
    pub = publisher(
        browser_host, site, states, timeouts=WebTimeouts(upload=1, step=5, typing_delay_ms=2)
    )

    studio.configure(interstitial="Your account is under review")
    with pytest.raises(PublishError) as caught:
        pub.submit(request, lambda r: None)
    assert caught.value.code == "blocking_dialog" and "under review" in caught.value.reason
    assert caught.value.needs_attention and caught.value.certainly_not_posted
    assert caught.value.artifacts["screenshot.png"].startswith(PNG)

    studio.configure(interstitial=None, processing_seconds=30)
    with pytest.raises(PublishError) as caught:
        pub.submit(request, lambda r: None)
    assert caught.value.reason.startswith("step 'wait upload finished' timed out after 1s")
    assert "upload_done not found (tried" in caught.value.reason
    assert caught.value.retryable and caught.value.certainly_not_posted
    assert caught.value.artifacts["page.html"]
    assert studio.posts == []


def test_schedule_on_site(
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    site: SiteConfig,
    states: StateBook,
    video_file: Path,
) -> None:
    account = AccountRef(5, "tiktok", "erin", timezone="Asia/Tokyo")
    login(studio, states, account)
    when = (datetime.now(UTC) + timedelta(hours=30)).replace(second=0, microsecond=0)
    when += timedelta(minutes=(-when.minute) % 5)
    request = make_request(
        video_file,
        caption="later #sunset",
        account=account,
        options=PostOptions(privacy_level="PUBLIC_TO_EVERYONE", scheduled_at=when.isoformat()),
    )
    pub = publisher(
        browser_host,
        site,
        states,
        profile_for=lambda a: ProfileSettings(timezone_id="Europe/Berlin"),
    )
    receipt = pub.submit(request, lambda r: None)
    [post] = studio.posts
    assert post.schedule_time == int(when.timestamp())
    assert post.visibility == "PUBLIC_TO_EVERYONE" and post.caption == "later #sunset"
    assert datetime.fromisoformat(receipt.extra["scheduled_at"]) == when
    result = pub.check(request, receipt)
    assert result.state == CheckState.PENDING and result.next_check_in > 3600


def test_selectors_override_file(
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    states: StateBook,
    video_file: Path,
    tmp_path: Path,
) -> None:
    studio.configure(variant="v2")
    account = AccountRef(6, "tiktok", "frank")
    login(studio, states, account)
    bundled = load_site("tiktok", base_url=studio.base_url, env={})
    probe = {f.what: f for f in publisher(browser_host, bundled, states).probe(account)}
    # the v2 markup renamed the card: the bundled file's fallback finds the input (drift)
    assert probe["file_input"].found and probe["file_input"].fallback
    assert probe["file_input"].matched == "input[type=file][accept*='video']"

    override = tmp_path / "tiktok-v2.json"
    override.write_text(
        json.dumps(
            {
                "version": 2,
                "selectors": {
                    "file_card": "[data-e2e=upload_card_v2]",
                    "file_input": "[data-e2e=upload_card_v2] input[type=file]",
                    "upload_status": "[data-e2e=upload_progress_v2]",
                    "upload_done": "[data-e2e=upload_progress_v2] :text-is('Uploaded')",
                    "upload_failed": "[data-e2e=upload_progress_v2] .upload-failed",
                    "upload_file_name": "[data-e2e=upload_progress_v2] .file-name",
                    "upload_replace": "[data-e2e=upload_progress_v2] button:has-text('Replace')",
                    "caption_editor": "div.caption-editor-v2[contenteditable=true]",
                    "visibility_toggle": "[data-e2e=privacy_container] [role=combobox]",
                    "visibility_value": "[data-e2e=privacy_container] [role=combobox] .select-value",
                    "visibility_option": "[data-e2e=privacy_container] [role=option]:text-is('{label}')",
                    "post_button": "button[data-e2e=publish_button]",
                    "post_button_enabled": "button[data-e2e=publish_button][aria-disabled=false]",
                },
            }
        )
    )
    site_v2 = load_site("tiktok", override_path=override, base_url=studio.base_url, env={})
    assert site_v2.version == 2
    request = make_request(
        video_file,
        caption="v2 works",
        account=account,
        options=PostOptions(privacy_level="MUTUAL_FOLLOW_FRIENDS"),
    )
    seen: list[dict] = []
    pub = publisher(browser_host, site_v2, states)
    pub.on_matches = lambda _site, matches: seen.append(matches)
    receipt = pub.submit(request, lambda r: None)
    [post] = studio.posts
    assert post.caption == "v2 works" and post.visibility == "MUTUAL_FOLLOW_FRIENDS"
    assert receipt.post_url == post.url
    # with the newer file every element matched its first candidate: no drift
    assert [key for key, m in seen[-1].items() if m.fallback] == []


def test_probe_reports_without_posting(
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    site: SiteConfig,
    states: StateBook,
    video_file: Path,
) -> None:
    account = AccountRef(7, "tiktok", "gina")
    login(studio, states, account)
    results = publisher(browser_host, site, states).probe(account, video_file)
    found = {f.what: f.found for f in results}
    missing = [f.what for f in results if not f.found]
    assert missing == [], results
    for name in (
        "file_input",
        "upload_done",
        "caption_editor",
        "mention_popover",
        "visibility_option",
        "duet_checkbox",
        "calendar_day",
        "time_minute_option",
        "post_button_enabled",
    ):
        assert found[name], name
    assert studio.posts == [], "a probe never posts"
    assert len(studio.uploads) == 1


def test_handoff_continues_in_the_operator_window(
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    site: SiteConfig,
    states: StateBook,
    video_file: Path,
) -> None:
    account = AccountRef(8, "tiktok", "hana")
    login(studio, states, account)
    studio.require_captcha("load", "hana")
    request = make_request(video_file, caption="after the captcha #sunset", account=account)
    pub = publisher(browser_host, site, states)
    with pytest.raises(PublishError) as caught:
        pub.submit(request, lambda r: None)
    assert caught.value.code == "captcha"

    handoff = pub.begin_handoff(request)
    assert handoff.is_open and handoff.blocked_by == "captcha"

    async def operator_solves() -> None:
        page = handoff.window.page
        await page.locator("#captcha_container button").click()
        await page.locator("#captcha_container").wait_for(state="detached")

    browser_host.run(operator_solves)
    receipts: list[Receipt] = []
    receipt = pub.resume_after_handoff(request, receipts.append, handoff)
    [post] = studio.posts
    assert post.caption == "after the captcha #sunset" and receipt.post_url == post.url
    assert receipts == [receipt] and not handoff.is_open
    assert len(studio.uploads) == 1, "the upload happened once, in the operator's window"

    # Resuming again (e.g. after a crash) finds the post instead of posting twice.
    again = pub.resume_after_handoff(request, lambda r: None)
    assert again.post_url == post.url and len(studio.posts) == 1
    assert pub.reconcile(request) is not None
    other = make_request(video_file, caption="never posted", account=account, job_id=2)
    assert pub.reconcile(other) is None


def test_read_back_mismatch_refuses_to_post(
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    site: SiteConfig,
    states: StateBook,
    video_file: Path,
) -> None:
    """The page keeps 4000 characters of a caption; what it would post is not the job's."""
    account = AccountRef(9, "tiktok", "ivan")
    login(studio, states, account)
    caption = "long " * 801  # 4005 characters
    request = make_request(video_file, caption=caption.strip(), account=account)
    with pytest.raises(PublishError) as caught:
        publisher(browser_host, site, states).submit(request, lambda r: None)
    error = caught.value
    assert error.code == "readback_mismatch" and "refusing to post" in error.reason
    assert "the caption" in error.reason
    # nothing went out: the engine may fall back, or the operator decides
    assert error.certainly_not_posted and error.needs_attention and not error.retryable
    assert error.artifacts["screenshot.png"].startswith(PNG)
    assert studio.posts == []


def test_missing_suggestion_stays_plain_text_and_is_noted(
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    site: SiteConfig,
    states: StateBook,
    video_file: Path,
) -> None:
    account = AccountRef(10, "tiktok", "jane")
    login(studio, states, account)
    caption = "hello @nobody_known and #sunset"
    request = make_request(video_file, caption=caption, account=account)
    receipt = publisher(browser_host, site, states).submit(request, lambda r: None)
    [post] = studio.posts
    assert post.caption == caption
    assert [(e["type"], e["value"]) for e in post.text_extra] == [("hashtag", "sunset")]
    assert "no suggestion offered for @nobody_known" in receipt.extra["notes"]
