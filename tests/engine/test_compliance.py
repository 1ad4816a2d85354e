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


def test_a_campaign_default_privacy_is_no_choice_once_the_job_moves_to_tiktok_api(
    services: Services,
    clock: ManualClock,
    tiktok: TikTokApiSandbox,
    upload_post: UploadPostSandbox,
    tmp_path: Path,
) -> None:
    """A job made with a campaign's default privacy for Upload-Post, then moved to the
    TikTok API (a route change; the engine's fallback is the same case): the default is
    marked as such, so compliance mode still waits for the operator's choice."""
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect_tiktok(services, tiktok, account, clock.time())
    media = add_media(services, tmp_path, "d.mp4")
    job = services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="upload_post",
        at=clock.now(),
        caption="a default, not a choice",
        now=clock.now(),
        options={"privacy_level": "PUBLIC_TO_EVERYONE", "privacy_default": True},
    )
    services.jobs.change_route(job.id, "tiktok_api")
    make_engine(services, clock).run_once()
    done = services.jobs.get(job.id)
    assert done.status == "needs_attention"
    assert "no privacy was chosen" in (done.attention_reason or "")
    assert tiktok.posts == []


def test_interactions_start_off_unless_the_job_said_and_photo_posts_ask_no_duets() -> None:
    from piper_desktop.clients.tiktok import CreatorInfo
    from piper_desktop.routes.base import AccountRef, PostOptions, PublishRequest
    from piper_desktop.routes.tiktok_api.publisher import (
        check_creator_allows,
        interactions_off_unless_chosen,
    )

    def request(options: dict[str, object], photos: tuple[Path, ...] = ()) -> PublishRequest:
        return PublishRequest(
            job_id=1,
            idempotency_key="k",
            account=AccountRef(1, "tiktok", "creator"),
            media_path=Path("v.mp4"),
            media_size=1,
            media_sha256="0" * 64,
            caption="c",
            options=PostOptions.from_dict({"privacy_level": "SELF_ONLY", **options}),
            photos=photos,
        )

    unsaid = interactions_off_unless_chosen(request({}), compliance=True).options
    assert (unsaid.disable_comment, unsaid.disable_duet, unsaid.disable_stitch) == (True,) * 3
    said = interactions_off_unless_chosen(request({"disable_comment": False}), True).options
    assert said.disable_comment is False  # the job's own word stands
    assert (
        interactions_off_unless_chosen(request({}), compliance=False).options.disable_duet is False
    )
    no_duets = CreatorInfo("creator", "C", ("SELF_ONLY",), False, True, True, 600)
    photo = request({"disable_comment": False}, photos=(Path("a.jpg"),))
    check_creator_allows(photo, no_duets)  # a photo post has no duets to refuse over
