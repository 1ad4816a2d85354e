"""The TikTok Studio replica's server side, over plain HTTP (no browser)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import httpx
import pytest

from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox


@pytest.fixture
def studio() -> Iterator[TikTokStudioSandbox]:
    with TikTokStudioSandbox() as server:
        server.configure(processing_seconds=0.2)
        yield server


def test_login_redirects_and_session_cookie(studio: TikTokStudioSandbox) -> None:
    with httpx.Client(base_url=studio.base_url) as client:
        page = client.get("/tiktokstudio/upload?lang=en")
        assert page.status_code == 302
        assert (
            page.headers["location"] == "/login?redirect_url=%2Ftiktokstudio%2Fupload%3Flang%3Den"
        )
        login = client.post(
            "/login", data={"username": "alice", "redirect_url": "/tiktokstudio/upload"}
        )
        assert login.status_code == 302 and login.headers["location"] == "/tiktokstudio/upload"
        assert client.cookies.get("sessionid")
        page = client.get("/tiktokstudio/upload")
        assert page.status_code == 200 and "window.__STUDIO__" in page.text
        assert "tt_csrf_token" in page.headers["set-cookie"]
        assert client.get("/creator-center/upload").headers["location"] == "/tiktokstudio/upload"
        studio.configure(legacy_mode="iframe")
        assert "<iframe" in client.get("/creator-center/upload").text
        studio.expire_sessions("alice")
        assert client.get("/tiktokstudio/content").status_code == 302


def test_upload_post_and_state(studio: TikTokStudioSandbox) -> None:
    data = os.urandom(100_000)
    cookies = {"sessionid": studio.create_session("bob")}
    with httpx.Client(base_url=studio.base_url, cookies=cookies) as client:
        upload = client.post("/api/upload?filename=clip.mp4", content=data).json()
        assert client.post("/api/post", json={"upload_id": upload["upload_id"]}).status_code == 400
        # a captcha blocks posting until a person solves it
        studio.require_captcha("post", "bob")
        refused = client.post("/api/post", json={"upload_id": upload["upload_id"], "caption": "x"})
        assert refused.status_code == 403 and refused.json()["status_msg"] == "captcha_required"
        client.post("/api/captcha/solve")
        status = client.get(f"/api/upload/{upload['upload_id']}").json()
        while status["state"] != "done":  # server-driven progress, a fraction of a second
            status = client.get(f"/api/upload/{upload['upload_id']}").json()
        posted = client.post(
            "/api/post",
            json={
                "upload_id": upload["upload_id"],
                "caption": "hi #x",
                "visibility": 2,
                "allow_duet": True,
            },
        )
        assert posted.status_code == 200
        far = client.post(
            "/api/post", json={"upload_id": upload["upload_id"], "schedule_time": 4_000_000_000}
        )
        assert far.json()["status_msg"] == "schedule out of range"
        state = client.get("/__sandbox__/state").json()
        content = client.get("/tiktokstudio/content").text
    [post] = state["posts"]
    assert post["sha256"] == hashlib.sha256(data).hexdigest() and post["size"] == len(data)
    assert post["visibility"] == "SELF_ONLY" and post["allow_duet"] is False
    assert post["url"] in content and "captcha_solved" in state
    assert state["captcha_solved"] == 1


def test_suggestions_and_ip(studio: TikTokStudioSandbox) -> None:
    cookies = {"sessionid": studio.create_session("cara")}
    with httpx.Client(base_url=studio.base_url, cookies=cookies) as client:
        tags = client.get("/api/suggest", params={"type": "hashtag", "q": "Cat"}).json()["items"]
        users = client.get("/api/suggest", params={"type": "mention", "q": "piperf"}).json()[
            "items"
        ]
        assert client.get("/api/ip").json() == {"ip": "127.0.0.1", "country": "US"}
    assert tags[0]["label"] == "#cat"
    assert [u["label"] for u in users] == ["@piperfriend"]
