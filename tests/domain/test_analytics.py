"""Analytics' store: posts seen on the platform, their readings, matching to Piper's jobs
(on the SQLCipher file and on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from piper_desktop.domain.analytics import AccountCounts, SeenPost
from piper_desktop.domain.services import Services
from piper_desktop.store.enums import JobStatus
from piper_desktop.store.models import Job
from tests.conftest import make_video

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def published_job(
    services: Services,
    tmp_path: Path,
    account_id: int,
    caption: str,
    at: datetime,
    *,
    post_id: str | None = None,
    post_url: str | None = None,
    campaign_id: int | None = None,
) -> int:
    """A job as the engine leaves it once published (seeded straight into the store)."""
    media, _ = services.media.add(make_video(tmp_path, f"{caption[:8]}-{at.timestamp()}.mp4"))
    job = services.jobs.add(
        account_id=account_id,
        media_id=media.id,
        route="tiktok_api",
        at=at,
        caption=caption,
        campaign_id=campaign_id,
        allow_duplicate=True,
    )
    with services.db.write() as session:
        row = session.get(Job, job.id)
        assert row is not None
        row.status = JobStatus.PUBLISHED.value
        row.submitted_at = at
        row.published_at = at + timedelta(minutes=2)
        row.post_id = post_id
        row.post_url = post_url
    return job.id


def seen(post_id: str, at: datetime, caption: str = "", views: int = 0, **kw: int) -> SeenPost:
    return SeenPost(
        post_id, at, caption, f"https://www.tiktok.com/@a/video/{post_id}", 15, views, **kw
    )


def test_posts_and_readings_grow_over_readings(services: Services, tmp_path: Path) -> None:
    account = services.accounts.add({"username": "growth"})
    analytics = services.analytics
    for n in range(3):
        at = T0 + timedelta(hours=n)
        done = analytics.record(
            account.id,
            at,
            [
                seen("7001", T0 - timedelta(days=1), "old", 100 * (n + 1), likes=n),
                seen("7002", T0, "new", 10 * (n + 1), shares=n),
            ],
            AccountCounts(followers=50 + n, likes=7 + n, videos=2),
        )
        assert done.posts == 2 and done.new == (2 if n == 0 else 0)
        assert done.views == 110 * (n + 1)
    posts = analytics.posts()
    assert [row.post_id for row in posts] == ["7002", "7001"]  # newest first
    assert posts[0].views == 30 and posts[0].shares == 2 and posts[0].account == "growth"
    assert posts[0].match == "outside" and posts[0].job_id is None
    assert posts[0].share_url == "https://www.tiktok.com/@a/video/7002"
    readings = analytics.post_readings([row.key for row in posts])
    assert [r.views for r in readings[posts[1].key]] == [100, 200, 300]
    assert [r.at for r in readings[posts[1].key]] == [
        T0,
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=2),
    ]
    assert readings[posts[1].key][0].at.tzinfo is not None
    accounts = analytics.account_readings()
    assert [(a.followers, a.views) for a in accounts[account.id]] == [
        (50, 110),
        (51, 220),
        (52, 330),
    ]
    assert analytics.posts(account.id, limit=1)[0].post_id == "7002"


def test_a_second_record_at_the_same_moment_replaces_that_reading(services: Services) -> None:
    account = services.accounts.add({"username": "again"})
    analytics = services.analytics
    analytics.record(account.id, T0, [seen("1", T0, views=5)], AccountCounts(1, 1, 1))
    analytics.record(account.id, T0, [seen("1", T0, views=9)], AccountCounts(2, 2, 1))
    key = analytics.posts()[0].key
    assert [r.views for r in analytics.post_readings([key])[key]] == [9]
    assert [a.followers for a in analytics.account_readings(account.id)[account.id]] == [2]


def test_matching_by_id_by_guess_and_outside(services: Services, tmp_path: Path) -> None:
    account = services.accounts.add({"username": "matcher"})
    media, _ = services.media.add(make_video(tmp_path, "campaign.mp4"))
    campaign = services.campaigns.create(
        {
            "name": "spring",
            "route": "tiktok_api",
            "caption_template": "{title} {hashtags}",
            "media_ids": [media.id],
            "account_selection": {"accounts": ["tiktok:matcher"]},
        }
    )
    by_id = published_job(
        services, tmp_path, account.id, "first post", T0, post_id="9001", campaign_id=campaign.id
    )
    by_url = published_job(
        services,
        tmp_path,
        account.id,
        "second post",
        T0,
        post_url="https://www.tiktok.com/@matcher/video/9002",
    )
    private = published_job(services, tmp_path, account.id, "A private  one #fyp", T0)
    far = published_job(services, tmp_path, account.id, "too far", T0 - timedelta(days=3))
    done = services.analytics.record(
        account.id,
        T0 + timedelta(hours=1),
        [
            seen("9001", T0 + timedelta(minutes=3), "first post (edited)"),
            seen("9002", T0 + timedelta(minutes=3), "second post"),
            seen("9003", T0 + timedelta(minutes=5), "a private one #FYP"),
            seen("9004", T0, "too far"),
            seen("9005", T0, "made in the app"),
        ],
    )
    assert (done.by_id, done.guessed, done.outside) == (2, 1, 2)
    rows = {row.post_id: row for row in services.analytics.posts(account.id)}
    assert (rows["9001"].job_id, rows["9001"].match) == (by_id, "id")
    assert rows["9001"].campaign_id == campaign.id
    assert rows["9001"].caption_template == "{title} {hashtags}"
    assert (rows["9002"].job_id, rows["9002"].match) == (by_url, "id")
    assert (rows["9003"].job_id, rows["9003"].match) == (private, "guess")
    assert rows["9003"].campaign_id is None and rows["9003"].caption_template is None
    assert (rows["9004"].job_id, rows["9004"].match) == (None, "outside")
    assert far not in {row.job_id for row in rows.values()}
    assert rows["9005"].match == "outside"


def test_a_guess_becomes_an_id_once_the_receipt_names_the_post(
    services: Services, tmp_path: Path
) -> None:
    account = services.accounts.add({"username": "later"})
    job = published_job(services, tmp_path, account.id, "the caption", T0)
    analytics = services.analytics
    analytics.record(account.id, T0, [seen("5", T0, "the caption")])
    assert analytics.posts()[0].match == "guess"
    # a second post with the same caption does not take the guessed job
    analytics.record(account.id, T0 + timedelta(hours=1), [seen("6", T0, "the caption")])
    assert {r.post_id: r.match for r in analytics.posts()} == {"5": "guess", "6": "outside"}
    with services.db.write() as session:
        row = session.get(Job, job)
        assert row is not None
        row.post_id = "5"
    analytics.record(account.id, T0 + timedelta(hours=2), [seen("5", T0, "the caption")])
    assert {r.post_id: (r.match, r.job_id) for r in analytics.posts()}["5"] == ("id", job)


def test_a_deleted_job_leaves_its_post_listed(services: Services, tmp_path: Path) -> None:
    account = services.accounts.add({"username": "gone"})
    job = published_job(services, tmp_path, account.id, "bye", T0, post_id="77")
    services.analytics.record(account.id, T0, [seen("77", T0, "bye")])
    with services.db.write() as session:
        row = session.get(Job, job)
        session.delete(row)
    row = services.analytics.posts()[0]
    assert (row.post_id, row.job_id) == ("77", None)


def test_readings_of_many_posts_in_one_call(services: Services) -> None:
    account = services.accounts.add({"username": "bulk"})
    posts = [seen(str(n), T0 - timedelta(minutes=n), views=n) for n in range(3000)]
    services.analytics.record(account.id, T0, posts)
    services.analytics.record(account.id, T0 + timedelta(hours=1), posts)
    rows = services.analytics.posts(account.id)
    assert len(rows) == 3000
    readings = services.analytics.post_readings([row.key for row in rows])
    assert len(readings) == 3000 and all(len(v) == 2 for v in readings.values())
    assert services.analytics.post_readings([]) == {}
