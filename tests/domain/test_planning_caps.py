"""What the operator is shown is what the engine will do: every planner keeps the global
daily cap (`engine.daily_post_cap`) when it is below the account's own (issue 13).

An account allows 20 posts a day, the global cap is 15 (its default): the campaign plan
(the wizard's review page and `campaigns start`), the week calendar's moves and
`jobs add --at auto` put at most 15 posts on one local day of the account.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.planner import PlannerService
from piper_desktop.domain.services import Services
from piper_desktop.store.models import Account, Job
from tests.conftest import make_video, piper_cmd, piper_env

NOW = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, a Monday
ZONE = "Europe/Berlin"
GLOBAL_CAP = 15


def _account(services: Services) -> Account:
    # the global cap is the setting's default (15); say so, so the test reads alone
    services.settings.set("engine.daily_post_cap", GLOBAL_CAP)
    return services.accounts.add(
        {
            "username": "busy",
            "timezone": ZONE,
            "max_posts_per_day": 20,
            "min_spacing_minutes": 0,
        }
    )


def _media(services: Services, tmp_path: Path, count: int) -> list[int]:
    return [services.media.add(make_video(tmp_path, f"clip{n}.mp4"))[0].id for n in range(count)]


def _per_day(times: list[datetime]) -> dict[date, int]:
    zone = ZoneInfo(ZONE)
    return dict(sorted(Counter(t.astimezone(zone).date() for t in times).items()))


def _campaign(media: list[int]) -> dict[str, object]:
    return {
        "name": "twenty",
        "route": "upload_post",
        "media_ids": media,
        "account_selection": {"accounts": ["tiktok:busy"]},
        "caption_template": "{title}",
        "start_at": NOW,
    }


def test_the_campaign_plan_puts_at_most_the_global_cap_on_one_day(
    services: Services, tmp_path: Path
) -> None:
    _account(services)
    record = _campaign(_media(services, tmp_path, 20))
    # the wizard's review page
    preview = PlannerService(services.db).preview_campaign(record, now=NOW)
    shown = [p["scheduled_at"] for p in preview]
    assert _per_day(shown) == {date(2030, 1, 7): 15, date(2030, 1, 8): 5}
    # what starting the campaign queues is what was shown
    campaign = services.campaigns.create(record)
    ids = services.campaigns.start(campaign.id, now=NOW)
    assert [services.jobs.get(i).scheduled_at for i in ids] == shown


def test_the_week_calendar_refuses_a_move_into_a_day_at_the_global_cap(
    services: Services, tmp_path: Path
) -> None:
    account = _account(services)
    media = _media(services, tmp_path, 17)
    for n in range(15):
        services.jobs.add(
            account_id=account.id,
            media_id=media[n],
            route="upload_post",
            at=NOW + timedelta(minutes=n),
            now=NOW,
        )
    tomorrow = datetime(2030, 1, 8, 12, 0, tzinfo=UTC)
    later = services.jobs.add(
        account_id=account.id, media_id=media[15], route="upload_post", at=tomorrow, now=NOW
    )
    planner = PlannerService(services.db)
    target = NOW + timedelta(hours=5)
    # the next free slot is Berlin's next midnight, not the chosen time
    midnight = datetime(2030, 1, 7, 23, 0, tzinfo=UTC)
    assert planner.check_move(later.id, target, now=NOW) == midnight
    with pytest.raises(ValidationError, match="not a free slot for @busy"):
        planner.reschedule(later.id, target, now=NOW)
    assert services.jobs.get(later.id).scheduled_at == tomorrow
    # moving within the day that has room is fine
    assert planner.check_move(later.id, midnight + timedelta(hours=10), now=NOW) is None


def test_jobs_add_at_auto_puts_at_most_the_global_cap_on_one_day(
    services: Services, tmp_path: Path
) -> None:
    account = _account(services)
    jobs = [
        services.jobs.add(
            account_id=account.id, media_id=m, route="upload_post", at="auto", now=NOW
        )
        for m in _media(services, tmp_path, 20)
    ]
    times = [j.scheduled_at for j in jobs]
    assert _per_day(times) == {date(2030, 1, 7): 15, date(2030, 1, 8): 5}
    assert times[15] == datetime(2030, 1, 7, 23, 0, tzinfo=UTC)  # Berlin's midnight


@pytest.mark.local_store  # `piper jobs add` opens the data dir's file
def test_piper_jobs_add_at_auto_keeps_the_global_cap(
    services: Services, tmp_path: Path, data_dir: Path
) -> None:
    account = _account(services)
    services.accounts.save(account.id, "upload_post", {"profile": "busy"})  # connected
    media = _media(services, tmp_path, 16)
    now = datetime.now(UTC)
    for m in media[:15]:
        services.jobs.add(account_id=account.id, media_id=m, route="upload_post", at=now, now=now)
    sha = services.media.get(media[15]).sha256
    args = ["jobs", "add", "--account", "busy", "--media", sha, "--route", "upload_post"]
    args += ["--caption", "clip 15"]  # Upload-Post needs one
    result = subprocess.run(
        [*piper_cmd(), *args, "--at", "auto", "--json"],
        capture_output=True,
        text=True,
        env=piper_env(data_dir),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    scheduled = datetime.fromisoformat(json.loads(result.stdout)["scheduled_at"])
    zone = ZoneInfo(ZONE)
    today = now.astimezone(zone).date()
    next_midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
    assert scheduled == next_midnight


def test_a_submitted_post_that_failed_still_counts_for_the_plan(
    services: Services, tmp_path: Path
) -> None:
    # the claim pass counts every submission of the day (the platform saw it start),
    # whatever became of it: the planner must count it too, or it offers a slot the
    # engine then holds back
    services.settings.set("engine.daily_post_cap", 1)
    account = services.accounts.add({"username": "once", "min_spacing_minutes": 0})
    first, second = _media(services, tmp_path, 2)
    job = services.jobs.add(account_id=account.id, media_id=first, route="upload_post", now=NOW)
    with services.db.write() as session:
        row = session.get(Job, job.id)
        assert row is not None
        row.status, row.submitted_at, row.last_error = "failed", NOW, "rejected"
    later = services.jobs.add(
        account_id=account.id, media_id=second, route="upload_post", at="auto", now=NOW
    )
    assert later.scheduled_at == datetime(2030, 1, 8, 0, 0, tzinfo=UTC)
