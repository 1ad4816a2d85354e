"""The API stand-ins' own behaviour: registry, state over HTTP, controls, progression."""

from __future__ import annotations

import httpx
import pytest

from piper_desktop.sandbox import SANDBOXES, start_api_sandboxes, stop_sandboxes
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox


def test_registry_starts_the_api_sandboxes() -> None:
    servers = start_api_sandboxes()
    try:
        assert set(servers) == {"tiktok_api", "upload_post", "openrouter", "telegram"}
        with httpx.Client(timeout=5, trust_env=False) as http:
            for server in servers.values():
                assert server.base_url.startswith("http://127.0.0.1:")
                assert http.get(server.base_url + "/__sandbox__/state").status_code == 200
    finally:
        stop_sandboxes(servers)
    assert callable(SANDBOXES["tiktok_api"])


def test_sandboxes_refuse_non_loopback() -> None:
    with pytest.raises(ValueError):
        TikTokApiSandbox(host="0.0.0.0")


def test_tiktok_controls_and_state_over_http() -> None:
    with (
        TikTokApiSandbox() as sandbox,
        httpx.Client(base_url=sandbox.base_url, timeout=5, trust_env=False) as http,
    ):
        tokens = http.post("/__sandbox__/tokens", json={"username": "carol"}).json()
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert http.post("/__sandbox__/configure", json={"polls_to_complete": 1}).status_code == 200
        assert http.post(
            "/__sandbox__/creator", json={"username": "carol", "duet_disabled": True}
        ).json()["ok"]
        info = http.post("/v2/post/publish/creator_info/query/", headers=auth, json={}).json()
        assert info["error"]["code"] == "ok" and info["data"]["duet_disabled"] is True
        http.post("/__sandbox__/fail_next", json={"reason": "spam_risk_text"})
        init = http.post(
            "/v2/post/publish/video/init/",
            headers=auth,
            json={
                "post_info": {
                    "title": "x",
                    "privacy_level": "SELF_ONLY",
                    "brand_content_toggle": False,
                },
                "source_info": {"source": "PULL_FROM_URL", "video_url": "http://localhost/v.mp4"},
            },
        ).json()
        publish_id = init["data"]["publish_id"]
        status = http.post(
            "/v2/post/publish/status/fetch/", headers=auth, json={"publish_id": publish_id}
        ).json()
        assert status["data"]["status"] == "FAILED"
        assert status["data"]["fail_reason"] == "spam_risk_text"
        state = http.get("/__sandbox__/state").json()
        assert state["posts"] == []
        assert state["publishes"][0]["publish_id"] == publish_id
        assert "access_token" not in str(state)
        http.post("/__sandbox__/expire_tokens")
        expired = http.post("/v2/post/publish/creator_info/query/", headers=auth, json={})
        assert expired.status_code == 401
        assert expired.json()["error"]["code"] == "access_token_invalid"


def test_tiktok_avatar_and_a_creator_who_cannot_post() -> None:
    with (
        TikTokApiSandbox() as sandbox,
        httpx.Client(timeout=5, trust_env=False) as http,
    ):
        tokens = sandbox.issue_tokens("dora")
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        url = sandbox.base_url + "/v2/post/publish/creator_info/query/"
        avatar_url = http.post(url, headers=auth, json={}).json()["data"]["creator_avatar_url"]
        assert avatar_url.startswith(sandbox.base_url + "/avatar/")
        avatar = http.get(avatar_url)
        assert avatar.status_code == 200 and avatar.content.startswith(b"\x89PNG\r\n")
        assert http.get(sandbox.base_url + "/avatar/nobody.png").status_code == 404
        sandbox.set_creator("dora", posting_refused="spam_risk_too_many_posts")
        refused = http.post(url, headers=auth, json={})
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "spam_risk_too_many_posts"


def test_tiktok_status_progression_and_rate_limit() -> None:
    with (
        TikTokApiSandbox(polls_to_complete=3) as sandbox,
        httpx.Client(base_url=sandbox.base_url, timeout=5, trust_env=False) as http,
    ):
        auth = {"Authorization": f"Bearer {sandbox.issue_tokens()['access_token']}"}
        init = http.post(
            "/v2/post/publish/video/init/",
            headers=auth,
            json={
                "post_info": {
                    "title": "x",
                    "privacy_level": "PUBLIC_TO_EVERYONE",
                    "brand_content_toggle": False,
                },
                "source_info": {
                    "source": "FILE_UPLOAD",
                    "video_size": 1000,
                    "chunk_size": 1000,
                    "total_chunk_count": 1,
                },
            },
        ).json()["data"]
        body = {"publish_id": init["publish_id"]}

        def fetch() -> dict:
            answer = http.post("/v2/post/publish/status/fetch/", headers=auth, json=body)
            return answer.json()["data"]

        assert fetch() == {
            "status": "PROCESSING_UPLOAD",
            "publicaly_available_post_id": [],
            "uploaded_bytes": 0,
        }
        put = http.put(
            init["upload_url"],
            content=b"v" * 1000,
            headers={"Content-Type": "video/mp4", "Content-Range": "bytes 0-999/1000"},
        )
        assert put.status_code == 201
        assert [fetch()["status"] for _ in range(3)] == [
            "PROCESSING_UPLOAD",
            "PROCESSING_UPLOAD",
            "PUBLISH_COMPLETE",
        ]
        final = fetch()
        assert final["publicaly_available_post_id"] == [int(sandbox.posts[0]["post_id"])]
        # 30 status calls a minute per token: the 31st within the minute is refused
        codes = [
            http.post("/v2/post/publish/status/fetch/", headers=auth, json=body).status_code
            for _ in range(27)
        ]
        assert codes[:25] == [200] * 25 and codes[-1] == 429


def test_upload_post_control_and_state() -> None:
    with (
        UploadPostSandbox() as sandbox,
        httpx.Client(base_url=sandbox.base_url, timeout=5, trust_env=False) as http,
    ):
        http.post("/__sandbox__/fail_platform", json={"platform": "youtube", "error": "quota"})
        http.post("/__sandbox__/configure", json={"polls_to_complete": 1})
        answer = http.post(
            "/api/upload",
            headers={"Authorization": f"Apikey {sandbox.api_key}", "X-Request-Id": "hdr-1"},
            data={
                "user": "u",
                "title": "t",
                "platform[]": ["youtube", "tiktok"],
                "async_upload": "true",
            },
            files={"video": ("v.mp4", b"data", "video/mp4")},
        ).json()
        assert answer["request_id"] == "hdr-1"
        status = http.get(
            "/api/uploadposts/status",
            params={"request_id": "hdr-1"},
            headers={"Authorization": f"Apikey {sandbox.api_key}"},
        ).json()
        assert status["status"] == "completed"
        assert {r["platform"]: r["success"] for r in status["results"]} == {
            "youtube": False,
            "tiktok": True,
        }
        state = http.get("/__sandbox__/state").json()
        assert state["uploads"][0]["video_size"] == 4


def test_settings_point_at_the_stand_ins() -> None:
    from piper_desktop.sandbox import api_sandbox_settings

    servers = start_api_sandboxes()
    try:
        settings = api_sandbox_settings(servers)
    finally:
        stop_sandboxes(servers)
    assert settings["tiktok.api_base"] == servers["tiktok_api"].base_url
    assert settings["upload_post.base"].endswith("/api")
    assert settings["openrouter.base"].endswith("/api/v1")
    assert settings["telegram.bot_token"] == "123456:sandbox-telegram-token"
    assert all(
        v.startswith("http://127.0.0.1:")
        for k, v in settings.items()
        if k.endswith(("base", "url"))
    )
