from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from piper_desktop.domain.errors import DomainError, NotFound, ValidationError
from piper_desktop.domain.services import Services


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({}, "username"),
        ({"username": "has space"}, "username"),
        ({"username": "a", "email": "nope"}, "email"),
        ({"username": "a", "status": "sleepy"}, "status"),
        ({"username": "a", "timezone": "Moon/Base"}, "timezone"),
        ({"username": "a", "window_start": "25:00"}, "window_start"),
        ({"username": "a", "max_posts_per_day": "0"}, "max_posts_per_day"),
        ({"username": "a", "proxy_id": 42}, "proxy_id"),
        ({"username": "a", "window_enabled": True}, "window_start"),
        ({"username": "a", "platform": "myspace"}, "platform"),
        ({"username": "a", "shoe_size": 9}, "shoe_size"),
    ],
)
def test_account_validation_names_the_field(services: Services, record: dict, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        services.accounts.add(record)
    assert info.value.field == field
    assert services.accounts.count() == 0


def test_account_crud(services: Services) -> None:
    account = services.accounts.add({"username": "@Alice", "tags": "a, b", "group": "g"})
    assert account.username == "Alice"
    with pytest.raises(ValidationError, match="already exists"):
        services.accounts.add({"username": "Alice"})
    services.accounts.edit(account.id, {"display_name": "Alice A", "tags": ""})
    found = services.accounts.find("tiktok:Alice")
    assert found.display_name == "Alice A" and found.tags == []
    with pytest.raises(ValidationError):
        services.accounts.edit(account.id, {"email": "broken"})
    assert services.accounts.find("Alice").email is None  # nothing stored was lost
    assert "password" not in services.accounts.to_dict(found)
    services.accounts.remove(account.id)
    with pytest.raises(NotFound):
        services.accounts.find("Alice")


def test_profiles_from_templates(services: Services) -> None:
    profile = services.profiles.add(
        {"template": "chrome-android", "name": "Phone", "timezone": "Asia/Tokyo"}
    )
    assert profile.is_mobile and profile.viewport_width == 412 and profile.timezone == "Asia/Tokyo"
    with pytest.raises(ValidationError) as info:
        services.profiles.add({"template": "netscape-navigator", "name": "Old"})
    assert info.value.field == "template"
    with pytest.raises(ValidationError) as info:
        services.profiles.add({"name": "Half", "user_agent": "x", "geolocation_lat": 10})
    assert info.value.field == "geolocation_lat"


def test_settings_env_override_and_masking(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.settings.set("upload_post.api_key", "abcdefghijkl")
    rows = {r["key"]: r for r in services.settings.all()}
    assert rows["upload_post.api_key"]["value"] == "****kl"
    monkeypatch.setenv("PIPER_UPLOAD_POST_BASE", "http://127.0.0.1:9/api")
    assert services.settings.get("upload_post.base") == "http://127.0.0.1:9/api"
    assert services.settings.source("upload_post.base") == "env PIPER_UPLOAD_POST_BASE"
    with pytest.raises(ValidationError) as info:
        services.settings.set("engine.max_workers", "lots")
    assert info.value.field == "engine.max_workers"
    with pytest.raises(ValidationError):
        services.settings.set("no.such.key", "1")


def test_media_is_known_by_content(services: Services, video_file: Path, tmp_path: Path) -> None:
    item, created = services.media.add(video_file, {"hashtags": "#one two"})
    assert created and item.hashtags == ["one", "two"] and len(item.sha256) == 64
    moved = tmp_path / "moved.mp4"
    video_file.rename(moved)
    again, created = services.media.add(moved)
    assert not created and again.id == item.id and again.path == str(moved.resolve())
    assert services.media.find(item.sha256[:10]).id == item.id


def test_job_add_now_auto_and_pinned(services: Services, video_file: Path) -> None:
    account = services.accounts.add(
        {
            "username": "alice",
            "window_enabled": True,
            "window_start": "09:00",
            "window_end": "17:00",
            "min_spacing_minutes": 30,
        }
    )
    media, _ = services.media.add(video_file, {"default_caption": "hello", "hashtags": "x"})
    now = datetime(2026, 5, 4, 20, 0, tzinfo=UTC)
    pinned = services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="browser",
        at="2026-05-04T23:00:00Z",
        now=now,
    )
    assert pinned.pinned_time and pinned.scheduled_at == datetime(2026, 5, 4, 23, 0, tzinfo=UTC)
    auto = services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="browser",
        at="auto",
        now=now,
        allow_duplicate=True,
    )
    assert auto.scheduled_at == datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
    assert auto.caption == "hello #x"
    with pytest.raises(ValidationError) as info:
        services.jobs.add(account_id=account.id, media_id=media.id, route="fax", now=now)
    assert info.value.field == "route"
    with pytest.raises(ValidationError) as info:
        services.jobs.add(
            account_id=account.id, media_id=media.id, route="browser", at="tomorrow-ish"
        )
    assert info.value.field == "at"
    services.jobs.cancel(auto.id)
    with pytest.raises(DomainError):
        services.jobs.cancel(auto.id)
    assert [e.kind for e in services.jobs.events(auto.id)] == ["created", "cancelled"]
    services.jobs.retry(auto.id)
    assert services.jobs.get(auto.id).status == "queued"
