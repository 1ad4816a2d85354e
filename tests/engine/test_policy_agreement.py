"""The planner and the claim pass ask one account policy: a planned slot is never held."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.engine.dispatch import next_due
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.engine.helpers import EventLog, add_account, add_media, make_engine, use_upload_post


def test_a_campaign_goes_out_at_the_slots_it_was_shown_with_nothing_held(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    # issue 13: the account allows 20 a day, the global cap is 15; the wizard showed 20
    # on one day and the engine then held 5 back
    use_upload_post(services, upload_post)
    services.settings.set("engine.daily_post_cap", 15)
    add_account(
        services, "busy", max_posts_per_day=20, min_spacing_minutes=20, timezone="Asia/Tokyo"
    )
    campaign = services.campaigns.create(
        {
            "name": "twenty",
            "route": "upload_post",
            "media_ids": [add_media(services, tmp_path, f"t{i}.mp4").id for i in range(20)],
            "account_selection": {"accounts": ["tiktok:busy"]},
            "caption_template": "{title}",
        }
    )
    ids = services.campaigns.start(campaign.id, now=clock.now())
    shown = {i: services.jobs.get(i).scheduled_at for i in ids}
    engine = make_engine(services, clock)
    log = EventLog()
    engine.events.subscribe(log)

    for _ in range(100):
        engine.run_once()
        with services.db.session() as session:
            due = next_due(session, clock.now())
        if due is None:
            break
        clock.set(due)

    jobs = [services.jobs.get(i) for i in ids]
    assert {j.status for j in jobs} == {"published"}
    assert log.of("held") == []
    # each went out at the moment it was shown
    assert {j.id: j.submitted_at for j in jobs} == shown
    tokyo = ZoneInfo("Asia/Tokyo")
    assert max(Counter(at.astimezone(tokyo).date() for at in shown.values()).values()) == 15
