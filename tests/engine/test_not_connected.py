"""A job for an account never connected to its route: the job waits for the operator,
the account keeps its status (it may be fine on its other routes, and a browser login
would not connect it), and a retry does not pretend anything changed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.routes.connected import not_connected
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from tests.engine.helpers import add_account, add_media, connect_tiktok, make_engine, use_tiktok


def test_not_connected_job_waits_and_the_account_stays_active(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "never_connected", routes=["tiktok_api"])
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "n.mp4").id,
        route="tiktok_api",
        at=clock.now(),
        caption="now",
        now=clock.now(),
    )
    engine = make_engine(services, clock)
    engine.run_once()

    waiting = services.jobs.get(job.id)
    assert waiting.status == "needs_attention"
    assert "not connected to the TikTok API" in (waiting.attention_reason or "")
    assert services.accounts.get(account.id).status == "active"


def test_readiness_flags_only_the_job_for_a_route_not_connected(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "later_creator", routes=["tiktok_api"])
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "l.mp4").id,
        route="tiktok_api",
        at=clock.now() + timedelta(minutes=20),
        caption="later",
        now=clock.now(),
    )
    problems = make_engine(services, clock).check_readiness()
    assert [(p.job_id, p.scope) for p in problems] == [(job.id, "job")]
    assert services.accounts.get(account.id).status == "active"


def test_connected_asks_each_route(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox
) -> None:
    use_tiktok(services, tiktok)
    linked = add_account(services, "sandbox_creator")
    bare = add_account(services, "bare_one")
    connect_tiktok(services, tiktok, linked, clock.time())
    services.accounts.save(linked.id, "upload_post", {"profile": "brand"})
    services.accounts.save_storage_state(linked.id, {"cookies": [{"name": "sid"}], "origins": []})
    ids = [linked.id, bare.id]
    for route in ("tiktok_api", "upload_post", "browser"):
        assert [m.username for m in not_connected(services, route, ids)] == ["bare_one"], route


def test_a_campaign_whose_jobs_all_wait_says_so_not_running(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    use_tiktok(services, tiktok)
    for name in ("crew_a", "crew_b"):
        add_account(services, name, group="crew", routes=["tiktok_api"])
    media = [add_media(services, tmp_path, f"c{i}.mp4").id for i in range(2)]
    campaign = services.campaigns.create(
        {
            "name": "nobody connected",
            "route": "tiktok_api",
            "media_ids": media,
            "account_selection": {"group": "crew"},
            "start_at": clock.now().isoformat(),
        }
    )
    ids = services.campaigns.start(campaign.id, now=clock.now())
    engine = make_engine(services, clock)
    for _ in ids:
        clock.advance(24 * 3600)
        engine.run_once()
    assert {services.jobs.get(i).status for i in ids} == {"needs_attention"}
    progress = services.campaigns.progress(campaign.id)
    assert services.campaigns.get(campaign.id).status == "running"
    assert progress["state"] == "needs_attention"


def test_campaign_state_rules() -> None:
    from piper_desktop.domain.campaigns import campaign_state

    assert campaign_state("running", {"needs_attention": 3, "failed": 2}) == "needs_attention"
    assert campaign_state("running", {"needs_attention": 3, "queued": 1}) == "running"
    assert campaign_state("paused", {"needs_attention": 1}) == "needs_attention"
    assert campaign_state("completed", {"published": 4, "failed": 1}) == "completed_with_problems"
    assert campaign_state("completed", {"published": 4}) == "completed"
    assert campaign_state("running", {}) == "running"
