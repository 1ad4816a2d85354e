"""Compliance mode, engine side: a tiktok_api job without the operator's privacy choice
is refused before anything is sent (it waits for the operator); campaigns write no
default privacy into tiktok_api jobs while it is on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from piper_desktop.store.models import Job
from tests.engine.helpers import (
    add_account,
    add_media,
    connect_tiktok,
    make_engine,
    use_tiktok,
    use_upload_post,
)


def _unchosen_job(
    services: Services,
    tiktok: TikTokApiSandbox,
    clock: ManualClock,
    tmp_path: Path,
    minutes: float = 0,
) -> Job:
    account = add_account(services, "sandbox_creator", routes=["tiktok_api", "upload_post"])
    connect_tiktok(services, tiktok, account, clock.time())
    media = add_media(services, tmp_path, "c.mp4")
    return services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="tiktok_api",
        at=clock.now() + timedelta(minutes=minutes),
        caption="no privacy chosen",
        now=clock.now(),
    )


def test_a_due_job_without_privacy_waits_for_the_operator_and_nothing_is_sent(
    services: Services,
    clock: ManualClock,
    tiktok: TikTokApiSandbox,
    upload_post: UploadPostSandbox,
    tmp_path: Path,
) -> None:
    use_tiktok(services, tiktok)
    use_upload_post(services, upload_post)
    job = _unchosen_job(services, tiktok, clock, tmp_path)
    make_engine(services, clock).run_once()
    done = services.jobs.get(job.id)
    assert done.status == "needs_attention"
    assert done.route == "tiktok_api"  # no other route posts it on its own default
    assert "no privacy was chosen" in (done.attention_reason or "")
    assert not [r for r in tiktok.requests if "init" in r.path or "/upload/" in r.path]
    assert not [r for r in upload_post.requests if r.method == "POST"]
    assert tiktok.posts == []


def test_readiness_holds_it_for_the_operator_before_its_slot(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    use_tiktok(services, tiktok)
    job = _unchosen_job(services, tiktok, clock, tmp_path, minutes=10)
    make_engine(services, clock).check_readiness()
    done = services.jobs.get(job.id)
    assert done.status == "needs_attention" and done.route == "tiktok_api"
    assert "no privacy was chosen" in (done.attention_reason or "")
    assert "the creator allows: public, friends, followers, private" in (
        done.attention_reason or ""
    )
    # the job's, not the account's
    assert services.accounts.get(done.account_id).status == "active"
    assert not [r for r in tiktok.requests if "init" in r.path]


def test_with_compliance_off_the_job_posts_as_before(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    use_tiktok(services, tiktok)
    services.settings.set("tiktok.compliance_mode", False)
    job = _unchosen_job(services, tiktok, clock, tmp_path)
    make_engine(services, clock).run_once()
    assert services.jobs.get(job.id).status in ("verifying", "published")
    assert len(tiktok.posts) == 1


def test_campaigns_carry_no_default_privacy_to_tiktok_api_while_compliance_is_on(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    account = add_account(services, "creator", routes=["tiktok_api", "upload_post"])
    media = add_media(services, tmp_path, "c.mp4")

    def started(route: str, name: str) -> dict[str, object]:
        campaign = services.campaigns.create(
            {
                "name": name,
                "route": route,
                "media_ids": [media.id],
                "account_selection": {"accounts": [account.username]},
                "caption_template": "hello",
            }
        )
        [job_id] = services.campaigns.start(campaign.id, now=clock.now())
        return dict(services.jobs.get(job_id).options or {})

    assert "privacy_level" not in started("tiktok_api", "on")
    # other routes keep the default, and so does tiktok_api with compliance off
    assert started("upload_post", "other")["privacy_level"] == "PUBLIC_TO_EVERYONE"
    services.settings.set("tiktok.compliance_mode", False)
    assert started("tiktok_api", "off")["privacy_level"] == "PUBLIC_TO_EVERYONE"
