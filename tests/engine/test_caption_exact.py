"""The caption goes out exactly as approved: what the platform's stand-in receives is the
stored caption byte for byte, on every API route, with nothing added (no watermark, no
signature, no "posted with Piper"); TikTok's 2200 limit counts UTF-16 units."""

from __future__ import annotations

from pathlib import Path

import pytest

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.tiktok import TikTokClient, plan_chunks
from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.engine.helpers import (
    add_account,
    add_media,
    connect_tiktok,
    make_engine,
    use_tiktok,
    use_upload_post,
)

# emoji with skin tones and ZWJ sequences, a flag, accents, hashtags, mentions, blank
# lines, a trailing space and a line break at the end
APPROVED = (
    "Morning ☀️ run 🏃🏽‍♀️ with 👩‍👩‍👧‍👦 🇺🇦 #fitness #Läufer @friend.name\n"
    "line two — «quoted» 你好\n\n"
    "  indented line, then a trailing space \n"
)
FULL = "😀" * 1100  # 1100 characters, 2200 UTF-16 units: TikTok's limit exactly
ADDED = ("piper", "watermark", "posted with", "via ")


def _job(services: Services, clock: ManualClock, tmp_path: Path, route: str, caption: str) -> int:
    account = services.accounts.find("sandbox_creator") if services.accounts.list() else None
    if account is None:
        account = add_account(services, "sandbox_creator", routes=["tiktok_api", "upload_post"])
    return services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, f"{route}-{len(caption)}.mp4").id,
        route=route,
        at=clock.now(),
        caption=caption,
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
        now=clock.now(),
    ).id


@pytest.mark.parametrize("caption", [APPROVED, FULL], ids=["mixed", "2200-units"])
def test_tiktok_api_sends_the_stored_caption_byte_for_byte(
    services: Services,
    clock: ManualClock,
    tiktok: TikTokApiSandbox,
    tmp_path: Path,
    caption: str,
) -> None:
    use_tiktok(services, tiktok)
    job_id = _job(services, clock, tmp_path, "tiktok_api", caption)
    account = services.accounts.find("sandbox_creator")
    connect_tiktok(services, tiktok, account, clock.time())
    stored = services.jobs.get(job_id).caption
    assert stored == caption
    make_engine(services, clock).run_once()
    [post] = tiktok.posts
    assert post["title"].encode("utf-8") == stored.encode("utf-8")
    assert not any(word in post["title"].lower() for word in ADDED)


def test_upload_post_sends_the_stored_caption_byte_for_byte(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    job_id = _job(services, clock, tmp_path, "upload_post", APPROVED)
    make_engine(services, clock).run_once()
    [record] = upload_post.state.records.values()
    assert record.title.encode("utf-8") == services.jobs.get(job_id).caption.encode("utf-8")
    assert record.title == APPROVED


def test_a_caption_over_2200_utf16_units_is_refused_when_made(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    with pytest.raises(ValidationError) as caught:
        _job(services, clock, tmp_path, "tiktok_api", FULL + "😀")  # 1101 chars, 2202 units
    assert caught.value.field == "caption"
    assert "2202 units" in str(caught.value) and "at most 2200" in str(caught.value)
    _job(services, clock, tmp_path, "tiktok_api", "a" * 2200)  # 2200 units: fine


def test_the_stand_in_counts_the_title_in_utf16_like_tiktok(
    tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    token = tiktok.issue_tokens()["access_token"]
    source = plan_chunks(1024).source_info()
    with TikTokClient(
        client_key=tiktok.client_key, client_secret=tiktok.client_secret, api_base=tiktok.base_url
    ) as client:
        info = {"privacy_level": "SELF_ONLY", "brand_content_toggle": False}
        assert client.init_video(token, post_info=info | {"title": FULL}, source_info=source)
        with pytest.raises(ApiError) as caught:
            client.init_video(token, post_info=info | {"title": FULL + "😀"}, source_info=source)
    assert caught.value.code == "invalid_params"
