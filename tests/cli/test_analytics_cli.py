"""`piper analytics collect | posts | accounts` as the real program, against the TikTok
stand-in's Display API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.store.enums import JobStatus
from piper_desktop.store.models import Job
from piper_desktop.store.vault import unlock_vault
from tests.cli.test_cli import piper
from tests.conftest import MASTER_PASSWORD, make_video

ALL_SCOPES = ("user.info.basic", "user.info.stats", "video.list", "video.publish", "video.upload")

pytestmark = pytest.mark.local_store


@pytest.fixture
def tiktok() -> Iterator[TikTokApiSandbox]:
    with TikTokApiSandbox() as sandbox:
        yield sandbox  # type: ignore[misc]


@pytest.fixture
def ready(data_dir: Path, tiktok: TikTokApiSandbox, tmp_path: Path) -> Path:
    made = piper(data_dir, "init", "--password-stdin", stdin=MASTER_PASSWORD + "\n", password=None)
    assert made.returncode == 0, made.stderr
    for name in ("creator", "nostats"):
        assert piper(data_dir, "accounts", "add", name).returncode == 0
    services = Services(unlock_vault(data_dir, MASTER_PASSWORD))
    try:
        for key, value in (
            ("tiktok.client_key", tiktok.client_key),
            ("tiktok.client_secret", tiktok.client_secret),
            ("tiktok.api_base", tiktok.base_url),
            ("tiktok.auth_url", tiktok.auth_url),
        ):
            services.settings.set(key, value)
        for name, scopes in (("creator", ALL_SCOPES), ("nostats", ("user.info.basic",))):
            account = services.accounts.find(name)
            answer = tiktok.issue_tokens(name, scopes)
            services.accounts.save(
                account.id,
                "tiktok_api",
                {
                    "access_token": answer["access_token"],
                    "refresh_token": answer["refresh_token"],
                    "access_expires_at": datetime.now(UTC).timestamp() + 7200,
                    "refresh_expires_at": datetime.now(UTC).timestamp() + 86400 * 100,
                    "scope": answer["scope"],
                },
            )
        # a post Piper made (its receipt named the post) and two made in the app
        creator = services.accounts.find("creator")
        mine = tiktok.add_video("creator", title="Piper's post")
        tiktok.add_video("creator", title="from the app", views=7)
        tiktok.add_video("creator", title="private, not Piper's", private=True)
        media, _ = services.media.add(make_video(tmp_path, "p.mp4"))
        job = services.jobs.add(
            account_id=creator.id, media_id=media.id, route="upload_post", caption="Piper's post"
        )
        with services.db.write() as session:
            row = session.get(Job, job.id)
            assert row is not None
            row.status, row.post_id = JobStatus.PUBLISHED.value, mine.id
    finally:
        services.close()
    return data_dir


def test_collect_posts_and_accounts(ready: Path, tiktok: TikTokApiSandbox) -> None:
    first = piper(ready, "analytics", "collect")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        "analytics: 2 account(s), 2 posts read (2 new, 1 matched to Piper's jobs, "
        "1 made outside Piper); 1 account(s) with problems"
    )
    [warning] = first.stderr.strip().splitlines()
    assert warning == (
        "warning: @nostats has not granted Piper video.list, user.info.stats: connect it "
        "again and allow them for analytics (piper accounts connect nostats --route tiktok_api)"
    )
    again = piper(ready, "analytics", "collect")
    assert again.returncode == 0, again.stderr
    assert "0 new" in again.stdout
    assert again.stderr == ""  # said once a day

    posts = piper(ready, "analytics", "posts", "--account", "creator", "--json")
    assert posts.returncode == 0, posts.stderr
    by_caption = {p["caption"]: p for p in json.loads(posts.stdout)}
    assert set(by_caption) == {"Piper's post", "from the app"}  # the private one unlisted
    mine, theirs = by_caption["Piper's post"], by_caption["from the app"]
    assert mine["match"] == "id" and mine["job_id"] is not None
    assert theirs["match"] == "outside" and theirs["job_id"] is None
    assert [r["views"] for r in theirs["readings"]] == [107, 207]
    assert theirs["views"] == 207 and theirs["post_id"].isdigit()
    assert datetime.fromisoformat(theirs["readings"][0]["at"]).tzinfo is not None

    text = piper(ready, "analytics", "posts")
    assert text.returncode == 0 and "outside" in text.stdout and "creator" in text.stdout

    accounts = piper(ready, "analytics", "accounts", "--json")
    assert accounts.returncode == 0, accounts.stderr
    found = {a["account"]: a for a in json.loads(accounts.stdout)}
    assert [r["followers"] for r in found["creator"]["readings"]] == [105, 110]
    assert found["creator"]["views"] == found["creator"]["readings"][-1]["views"] > 0
    assert found["creator"]["missing_scopes"] == []
    assert found["nostats"]["missing_scopes"] == ["video.list", "user.info.stats"]
    assert found["nostats"]["readings"] == []


def test_posts_of_an_unknown_account_is_one_line(ready: Path) -> None:
    done = piper(ready, "analytics", "posts", "--account", "nobody")
    assert done.returncode != 0
    [line] = done.stderr.strip().splitlines()
    assert "nobody" in line and "Traceback" not in done.stderr


def test_collect_without_the_app_keys_is_one_line(ready: Path) -> None:
    services = Services(unlock_vault(ready, MASTER_PASSWORD))
    try:
        services.settings.set("tiktok.client_secret", None)
    finally:
        services.close()
    done = piper(ready, "analytics", "collect")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "analytics: the TikTok API route needs tiktok.client_key and tiktok.client_secret "
        "(piper settings set ... --stdin)"
    ]
    bad = piper(ready, "analytics", "posts", "--limit", "-3")
    assert bad.returncode == 2 and "--limit: must be a whole number of at least 1" in bad.stderr
