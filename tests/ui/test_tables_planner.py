"""The read-side queries behind the GUI's tables and dashboard (no Qt)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from piper_desktop.domain.errors import DomainError, ValidationError
from piper_desktop.domain.planner import PlannerService, classify_attention
from piper_desktop.domain.services import Services
from piper_desktop.domain.tables import TableQuery, TableService
from tests.conftest import make_video


def _accounts(services: Services, count: int) -> list[int]:
    ids = []
    for n in range(count):
        ids.append(
            services.accounts.add(
                {
                    "username": f"user{n:02d}",
                    "group": "even" if n % 2 == 0 else "odd",
                    "tags": ["t1"] if n < 3 else [],
                    "status": "needs_login" if n == 4 else "active",
                }
            ).id
        )
    return ids


def test_rows_filter_sort_page_and_count(services: Services) -> None:
    _accounts(services, 10)
    proxy = services.proxies.add({"host": "127.0.0.1", "port": 3128, "username": "u"})
    services.accounts.bulk_assign([1, 2], {"proxy_id": proxy.id})
    tables = TableService(services.db)

    everything = TableQuery(sort="username", descending=True)
    assert tables.count("accounts", everything) == 10
    page = tables.rows("accounts", everything, 0, 4)
    assert [r["username"] for r in page] == ["user09", "user08", "user07", "user06"]
    second = tables.rows("accounts", everything, 4, 4)
    assert [r["username"] for r in second] == ["user05", "user04", "user03", "user02"]

    even = TableQuery(filters={"group": "even", "status": "active"})
    assert tables.count("accounts", even) == 4  # user04 needs login
    assert tables.count("accounts", TableQuery(filters={"tag": "t1"})) == 3
    assert tables.count("accounts", TableQuery(search="user0")) == 10
    assert tables.count("accounts", TableQuery(search="#3")) == 1

    first = tables.by_ids("accounts", [1])[0]
    assert first["proxy_label"] == "http://u@127.0.0.1:3128"
    assert "password" not in first and "storage_state" not in first
    assert tables.distinct("accounts", "group") == ["even", "odd"]
    assert tables.distinct("accounts", "tags") == ["t1"]
    assert tables.count("proxies", TableQuery()) == 1
    assert tables.rows("proxies", TableQuery())[0]["accounts_count"] == 2

    with pytest.raises(ValidationError):
        tables.rows("accounts", TableQuery(sort="password"))


def test_jobs_rows_carry_labels_and_group_filters(services: Services, tmp_path: Path) -> None:
    (account,) = [services.accounts.add({"username": "poster"})]
    media, _ = services.media.add(make_video(tmp_path, "a.mp4"), {"title": "Clip A"})
    for _ in range(3):
        services.jobs.add(
            account_id=account.id, media_id=media.id, route="upload_post", allow_duplicate=True
        )
    services.jobs.cancel(2)
    tables = TableService(services.db)
    rows = tables.rows("jobs", TableQuery(sort="id", descending=True))
    assert [r["id"] for r in rows] == [3, 2, 1]
    assert rows[0]["account_username"] == "poster" and rows[0]["media_title"] == "Clip A"
    waiting = TableQuery(filters={"status": ["queued", "retrying"]})
    assert tables.count("jobs", waiting) == 2
    assert tables.count("jobs", TableQuery(search="poster")) == 3
    with pytest.raises(ValidationError):
        tables.count("jobs", TableQuery(filters={"status": "flying"}))
    counts = TableService(services.db).totals()
    assert counts["jobs"] == 3 and counts["media"] == 1


def test_reschedule_only_into_a_free_slot(services: Services, tmp_path: Path) -> None:
    account = services.accounts.add(
        {
            "username": "windowed",
            "timezone": "Asia/Tokyo",
            "window_enabled": True,
            "window_start": "09:00",
            "window_end": "18:00",
            "min_spacing_minutes": 60,
            "max_posts_per_day": 5,
        }
    )
    media, _ = services.media.add(make_video(tmp_path, "b.mp4"))
    now = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    first = services.jobs.add(
        account_id=account.id, media_id=media.id, route="tiktok_api", at="auto", now=now
    )
    second = services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="tiktok_api",
        at="auto",
        now=now,
        allow_duplicate=True,
    )
    planner = PlannerService(services.db)
    # 30 minutes after the first post: too close
    with pytest.raises(ValidationError, match="not a free slot for @windowed"):
        planner.reschedule(second.id, first.scheduled_at + timedelta(minutes=30), now=now)
    # outside the window (03:00 Tokyo)
    with pytest.raises(ValidationError, match="next free one"):
        planner.reschedule(second.id, datetime(2030, 1, 7, 18, 0, tzinfo=UTC), now=now)
    # in the past
    with pytest.raises(ValidationError, match="in the past"):
        planner.reschedule(second.id, now - timedelta(hours=1), now=now)
    target = datetime(2030, 1, 7, 5, 0, tzinfo=UTC)  # 14:00 Tokyo
    assert planner.check_move(second.id, target, now=now) is None
    planner.reschedule(second.id, target, now=now)
    moved = services.jobs.get(second.id)
    assert moved.scheduled_at == target and moved.next_attempt_at == target and moved.pinned_time
    assert services.jobs.events(second.id)[-1].kind == "rescheduled"
    # the moved post's own old slot does not block moving it back next to itself
    planner.reschedule(second.id, target + timedelta(minutes=15), now=now)
    services.jobs.cancel(first.id)
    with pytest.raises(DomainError, match="only waiting posts"):
        planner.reschedule(first.id, target + timedelta(hours=2), now=now)
    week = planner.week(datetime(2030, 1, 6, tzinfo=UTC), 7, account.id)
    assert [p["id"] for p in week] == [second.id]
    assert week[0]["movable"] and week[0]["account_timezone"] == "Asia/Tokyo"


def test_preview_campaign_matches_start(services: Services, tmp_path: Path) -> None:
    for name in ("a1", "a2"):
        services.accounts.add({"username": name, "min_spacing_minutes": 30})
    media_ids = [
        services.media.add(make_video(tmp_path, f"v{n}.mp4"), {"title": f"V{n}"})[0].id
        for n in range(3)
    ]
    now = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
    record = {
        "name": "Launch",
        "route": "upload_post",
        "media_ids": media_ids,
        "account_selection": {"accounts": ["tiktok:a1", "tiktok:a2"]},
        "caption_template": "{title} by {account} {hashtags}",
        "hashtags": ["go"],
        "strategy": "random",
        "start_at": now,
        "seed": 42,
    }
    planner = PlannerService(services.db)
    preview = planner.preview_campaign(record, now=now)
    campaign = services.campaigns.create(record)
    services.campaigns.start(campaign.id, now=now)
    jobs = services.jobs.list()
    assert [(p["account_id"], p["media_id"], p["scheduled_at"], p["caption"]) for p in preview] == [
        (j.account_id, j.media_id, j.scheduled_at, j.caption) for j in jobs
    ]
    with pytest.raises(ValidationError, match="unknown placeholder"):
        planner.preview_campaign({**record, "caption_template": "{nope}"}, now=now)


def test_dashboard_summaries(services: Services, tmp_path: Path) -> None:
    account = services.accounts.add({"username": "dash", "status": "needs_login"})
    media, _ = services.media.add(make_video(tmp_path, "d.mp4"))
    job = services.jobs.add(account_id=account.id, media_id=media.id, route="browser")
    with services.db.write() as session:
        from piper_desktop.store.models import Job

        row = session.get(Job, job.id)
        assert row is not None
        row.status = "needs_attention"
        row.attention_reason = "captcha on the upload page: solve it in the browser"
    planner = PlannerService(services.db)
    items = planner.attention()
    kinds = {(i.kind, i.action) for i in items}
    assert ("captcha", "resolve") in kinds and ("account", "resolve") in kinds
    today = planner.today(zone="UTC")
    assert today["needs_attention"] == 1
    assert classify_attention("lost answer", submitted=True, has_receipt=False)[0] == (
        "unknown_outcome"
    )
    assert planner.upcoming() == []


def test_a_crowded_week_is_shown_as_density(services: Services, tmp_path: Path) -> None:
    account = services.accounts.add({"username": "busy", "min_spacing_minutes": 0})
    media, _ = services.media.add(make_video(tmp_path, "c.mp4"))
    at = datetime(2030, 5, 6, 9, 0, tzinfo=UTC)
    for minutes in (0, 10, 20, 70):
        services.jobs.add(
            account_id=account.id,
            media_id=media.id,
            route="upload_post",
            at=at + timedelta(minutes=minutes),
            allow_duplicate=True,
        )
    planner = PlannerService(services.db)
    week = datetime(2030, 5, 6, tzinfo=UTC)
    assert planner.week_density(week, limit=10) is None  # few: shown one by one
    assert planner.week_density(week, limit=3) == {at: 3, at + timedelta(hours=1): 1}
    labels = TableService(services.db).account_labels()
    assert labels == [(account.id, "busy", "UTC")]


def test_attention_kind_follows_the_engines_code(services: Services, tmp_path: Path) -> None:
    from piper_desktop.domain.jobs import add_event

    account = services.accounts.add({"username": "web"})
    media, _ = services.media.add(make_video(tmp_path, "w.mp4"))
    job = services.jobs.add(account_id=account.id, media_id=media.id, route="browser")
    with services.db.write() as session:
        from piper_desktop.store.models import Job

        row = session.get(Job, job.id)
        assert row is not None
        row.status = "needs_attention"
        row.attention_reason = "the page is blocked; a person must look"
        add_event(session, row, "needs_attention", row.attention_reason, {"code": "captcha"})
    (item,) = PlannerService(services.db).attention()
    assert (item.kind, item.action, item.job_id) == ("captcha", "resolve", job.id)
