"""The local automation API against a real engine, the Upload-Post and OpenRouter
stand-ins, over real HTTP on 127.0.0.1 (httpx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from piper_desktop.domain.services import Services
from piper_desktop.intake.api.token import rotate_token
from piper_desktop.sandbox.media import write_video
from piper_desktop.sandbox.openrouter import OpenRouterSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.conftest import STORES, store_services
from tests.intake.conftest import Served, serve

PLANTED = {
    "account": "planted-account-password-7Qx",
    "cookie": "planted-session-cookie-9Lm",
    "proxy": "planted-proxy-password-4Zr",
}


def upload(client: httpx.Client, video: Path | None, **fields: str | list[str]) -> httpx.Response:
    # without a video still a multipart form: what is missing is the video, not the encoding
    files = (
        {"video": (video.name, video.read_bytes(), "video/mp4")}
        if video
        else {"note": (None, b"no video")}
    )
    return client.post("/api/v1/upload-video", data=dict(fields), files=files)


def seed(services: Services, tmp_path: Path) -> dict[str, Any]:
    """An account, a proxy and a profile carrying secrets, a video, a campaign."""
    proxy = services.proxies.add(
        {"host": "127.0.0.1", "port": 9301, "username": "u", "password": PLANTED["proxy"]}
    )
    profile = services.profiles.add({"template": "chrome-android", "name": "Phone"})
    account = services.accounts.add(
        {
            "username": "alice",
            "routes": ["upload_post"],
            "password": PLANTED["account"],
            "proxy_id": proxy.id,
            "profile_id": profile.id,
            "min_spacing_minutes": 0,
            "max_posts_per_day": 20,
        }
    )
    services.accounts.save_storage_state(
        account.id, {"cookies": [{"name": "sessionid", "value": PLANTED["cookie"]}]}
    )
    media, _ = services.media.add(write_video(tmp_path / "seed.mp4"), {"title": "Seed clip"})
    campaign = services.campaigns.create(
        {
            "name": "spring",
            "route": "upload_post",
            "media_ids": [media.id],
            "account_selection": {"accounts": ["alice"]},
            "caption_template": "spring {caption}",
        }
    )
    return {
        "account": account,
        "proxy": proxy,
        "profile": profile,
        "media": media,
        "campaign": campaign,
    }


def test_every_endpoint_answers_from_the_services_and_never_a_secret(
    served: Served, tmp_path: Path
) -> None:
    services = served.services
    seeded = seed(services, tmp_path)
    # paused: the jobs made here stay where the calls put them (no claim races the test)
    served.engine.pause()
    with OpenRouterSandbox() as openrouter:
        services.settings.set("openrouter.api_key", openrouter.api_key)
        services.settings.set("openrouter.base", openrouter.api_base)
        answers: list[httpx.Response] = []
        with served.client() as c:

            def call(method: str, path: str, **kw: Any) -> Any:
                response = c.request(method, path, **kw)
                answers.append(response)
                assert response.status_code < 300, (path, response.text)
                return response.json()

            assert [a["username"] for a in call("GET", "/api/v1/accounts")] == ["alice"]
            alice = call("GET", "/api/v1/accounts/alice")
            assert alice["proxy_id"] == seeded["proxy"].id and "password" not in alice
            assert call("GET", "/api/v1/accounts", params={"search": "nobody"}) == []
            [proxy] = call("GET", "/api/v1/proxies")
            assert proxy["port"] == 9301 and "password" not in proxy
            assert call("GET", f"/api/v1/proxies/{seeded['proxy'].id}")["id"] == proxy["id"]
            assert [p["name"] for p in call("GET", "/api/v1/profiles")] == ["Phone"]
            assert call("GET", f"/api/v1/profiles/{seeded['profile'].id}")["name"] == "Phone"
            [media] = call("GET", "/api/v1/media")
            assert media["title"] == "Seed clip" and media["exists"] is True
            assert call("GET", f"/api/v1/media/{media['id']}")["sha256"] == media["sha256"]

            campaign_id = seeded["campaign"].id
            assert [x["name"] for x in call("GET", "/api/v1/campaigns")] == ["spring"]
            assert call("GET", f"/api/v1/campaigns/{campaign_id}")["status"] == "draft"
            started = call("POST", f"/api/v1/campaigns/{campaign_id}/start")
            assert len(started["job_ids"]) == 1 and started["campaign"]["status"] == "running"
            assert call("POST", f"/api/v1/campaigns/{campaign_id}/pause")["status"] == "paused"
            assert call("POST", f"/api/v1/campaigns/{campaign_id}/resume")["status"] == "running"

            [job] = call("GET", "/api/v1/jobs", params={"campaign": "spring"})
            assert job["account"] == "alice" and job["caption"].startswith("spring")
            assert call("GET", "/api/v1/jobs", params={"status": "published"}) == []
            assert (
                len(
                    call(
                        "GET",
                        "/api/v1/jobs",
                        params={"account": "alice", "route": "upload_post", "search": "spring"},
                    )
                )
                == 1
            )
            detail = call("GET", f"/api/v1/jobs/{job['id']}")
            assert detail["events"][0]["kind"] == "created"
            stats = call("GET", "/api/v1/jobs/statistics")
            assert stats["total"] == 1
            cancelled = call("POST", f"/api/v1/campaigns/{campaign_id}/cancel")
            assert cancelled["campaign"]["status"] == "cancelled"
            assert call("GET", f"/api/v1/jobs/{job['id']}")["status"] == "cancelled"
            assert call("POST", f"/api/v1/jobs/{job['id']}/retry")["status"] == "queued"
            assert [j["id"] for j in call("GET", "/api/v1/jobs/pending")] == [job["id"]]
            assert call("POST", f"/api/v1/jobs/{job['id']}/cancel")["status"] == "cancelled"
            assert call("GET", "/api/v1/jobs/pending") == []

            captions = call(
                "POST",
                "/api/v1/captions",
                json={"media": str(media["id"]), "account": "alice", "n": 2},
            )
            assert 1 <= len(captions["suggestions"]) <= 2 and openrouter.completions

            document = call("GET", "/openapi.json")
            paths = set(document["paths"])
            for path in (
                "accounts",
                "proxies",
                "profiles",
                "media",
                "campaigns",
                "jobs",
                "jobs/pending",
                "jobs/statistics",
                "captions",
                "upload-video",
            ):
                assert f"/api/v1/{path}" in paths
            assert {
                "/api/v1/campaigns/{ref}/start",
                "/api/v1/campaigns/{ref}/pause",
                "/api/v1/campaigns/{ref}/cancel",
                "/api/v1/jobs/{job_id}/retry",
                "/api/v1/jobs/{job_id}/cancel",
                "/api/v1/jobs/{job_id}",
            } <= paths
            # every endpoint of the API's routers is in the document
            from piper_desktop.intake.api import jobs, resources
            from piper_desktop.intake.api import upload as upload_module

            served_paths = {
                "/api/v1" + route.path  # type: ignore[attr-defined]
                for module in (resources, jobs, upload_module)
                for route in module.router.routes
            }
            assert served_paths == paths
            assert "multipart/form-data" in json.dumps(document["paths"]["/api/v1/upload-video"])

            sent = upload(
                c,
                write_video(tmp_path / "fresh.mp4"),
                user="alice",
                scheduled_date=(datetime.now(UTC) + timedelta(days=2)).isoformat(),
            )
            answers.append(sent)
            assert sent.status_code == 201, sent.text

    secrets = [*PLANTED.values(), served.token, served.upload_post.api_key, openrouter.api_key]
    for response in answers:
        for secret in secrets:
            assert secret not in response.text, (response.request.url, secret[:8])


@pytest.fixture(params=STORES)
def any_store(request: pytest.FixtureRequest) -> Services:
    return store_services(request)


@pytest.fixture
def served_any(
    any_store: Services, data_dir: Path, upload_post: UploadPostSandbox
) -> Iterator[Served]:
    yield from serve(any_store, data_dir, upload_post)


def test_an_uploaded_video_becomes_a_job_published_once(served_any: Served, tmp_path: Path) -> None:
    services = served_any.services
    services.accounts.add(
        {
            "username": "bob",
            "routes": ["upload_post"],
            "min_spacing_minutes": 0,
            "max_posts_per_day": 20,
        }
    )
    with served_any.client() as c:
        response = upload(
            c,
            write_video(tmp_path / "clip.mp4"),
            user="bob",
            title="from my editor #piper",
            platforms="tiktok",
            scheduled_date="now",
        )
    assert response.status_code == 201, response.text
    body = response.json()
    [job] = body["jobs"]
    assert (job["account"], job["route"], job["caption"]) == (
        "bob",
        "upload_post",
        "from my editor #piper",
    )
    assert body["media"]["title"] == "from my editor #piper"
    stored = Path(body["media"]["path"])
    assert stored.parent.name == "api" and stored.stat().st_mode & 0o077 == 0
    # the engine publishes it at once (the API woke it; its tick is an hour away), once
    assert served_any.log.wait_for(
        lambda events: any(e.job_id == job["id"] and e.kind.value == "published" for e in events),
        timeout=60,
    ), served_any.log.kinds(job["id"])
    assert "a video came in through the API" in [e.message for e in served_any.log.of("wake")]
    assert services.jobs.get(job["id"]).status == "published"
    assert [u["request_id"] for u in served_any.upload_post.uploads] == [job["uuid"]]


def test_auto_takes_the_next_free_slot(served: Served, tmp_path: Path) -> None:
    served.services.accounts.add({"username": "carol", "routes": ["upload_post"]})
    with served.client() as c:
        response = upload(
            c,
            write_video(tmp_path / "a.mp4"),
            user="carol",
            scheduled_date="auto",
            route="upload_post",
        )
    assert response.status_code == 201, response.text
    job = served.services.jobs.get(response.json()["jobs"][0]["id"])
    assert job.pinned_time is False and job.scheduled_at is not None


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic abc"}],
    ids=["none", "wrong", "other-scheme"],
)
def test_a_request_without_the_token_gets_401(served: Served, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=served.base, headers=headers) as c:
        for method, path in [
            ("GET", "/api/v1/jobs"),
            ("GET", "/openapi.json"),
            ("POST", "/api/v1/upload-video"),
            ("GET", "/api/v1/accounts/x"),
        ]:
            response = c.request(method, path)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["error"] == "unauthorized"
            assert served.token not in response.text


def test_a_rotated_token_shuts_the_old_one_out_at_once(served: Served) -> None:
    with served.client() as old:
        assert old.get("/api/v1/jobs").status_code == 200
        new = rotate_token(served.services.settings)
        assert old.get("/api/v1/jobs").status_code == 401
    with served.client(new) as c:
        assert c.get("/api/v1/jobs").status_code == 200


def _refusal(response: httpx.Response, status: int, field: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["field"] == field, body
    assert field in body["message"] and "Traceback" not in response.text
    return str(body["message"])


def test_bad_input_gets_422_naming_the_field(served: Served, tmp_path: Path) -> None:
    served.services.accounts.add({"username": "dave", "routes": ["upload_post"]})
    video = write_video(tmp_path / "v.mp4")
    with served.client() as c:
        _refusal(upload(c, None, user="dave"), 422, "video")
        _refusal(
            upload(c, video, user="dave", scheduled_date="next tuesday"), 422, "scheduled_date"
        )
        assert "nobody" in _refusal(upload(c, video, user="nobody"), 422, "user")
        _refusal(upload(c, video), 422, "user")
        _refusal(upload(c, video, user="dave", route="fax"), 422, "route")
        _refusal(upload(c, video, user="dave", platforms="instagram"), 422, "platforms")
        _refusal(upload(c, video, user="dave", title="x" * 2300), 422, "title")
        _refusal(c.post("/api/v1/upload-video", json={"user": "dave"}), 422, "video")
        _refusal(c.get("/api/v1/jobs", params={"limit": 0}), 422, "limit")
        _refusal(c.get("/api/v1/jobs", params={"status": "sideways"}), 422, "status")
        _refusal(c.get("/api/v1/jobs", params={"account": "nobody"}), 422, "account")
        _refusal(c.get("/api/v1/jobs/abc"), 422, "job_id")
        _refusal(c.post("/api/v1/captions", json={"n": 3}), 422, "media")
        _refusal(c.post("/api/v1/captions", json={"media": "1", "n": 50}), 422, "n")
        big = tmp_path / "big.mp4"
        big.write_bytes(b"\0" * (3 * 1024 * 1024))
        _refusal(upload(c, big, user="dave"), 413, "video")
        # nothing refused was kept: no job, no media, no file left in the intake folder
        assert served.services.jobs.list() == [] and served.services.media.list() == []
        intake = served.engine.hosted.running[0].folder  # type: ignore[attr-defined]
        assert list(intake.iterdir()) == []


def test_what_does_not_exist_is_404(served: Served) -> None:
    with served.client() as c:
        for path in [
            "/api/v1/jobs/999",
            "/api/v1/accounts/nobody",
            "/api/v1/media/999",
            "/api/v1/proxies/999",
            "/api/v1/profiles/999",
            "/api/v1/campaigns/999",
        ]:
            response = c.get(path)
            assert response.status_code == 404, path
            assert "not found" in response.json()["message"]
        assert c.post("/api/v1/jobs/999/retry").status_code == 404
        assert c.get("/api/v1/nothing-here").json()["error"] == "not_found"


def test_a_refused_move_is_409_with_its_reason(served: Served, tmp_path: Path) -> None:
    seeded = seed(served.services, tmp_path)
    with served.client() as c:
        response = c.post(f"/api/v1/campaigns/{seeded['campaign'].id}/pause")
        assert response.status_code == 409 and "spring" in response.json()["message"]


def test_cors_stays_closed(served: Served) -> None:
    origin = {"Origin": "http://127.0.0.1:9999"}
    preflight = httpx.options(
        f"{served.base}/api/v1/jobs",
        headers=origin
        | {
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code >= 400
    with served.client(**origin) as c:
        response = c.get("/api/v1/jobs")
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers


def test_a_foreign_host_header_is_refused(served: Served) -> None:
    port = served.base.rsplit(":", 1)[1]
    with served.client(Host="rebound.example") as c:
        assert c.get("/api/v1/jobs").status_code == 400
    with served.client(Host=f"localhost:{port}") as c:
        assert c.get("/api/v1/jobs").status_code == 200
    assert served.base.startswith("http://127.0.0.1:")


def test_the_api_comes_back_on_the_same_port_right_after_a_stop(
    services: Services, tmp_path: Path
) -> None:
    from piper_desktop.intake.api.server import ApiServer

    first = ApiServer(services, tmp_path, 0)
    first.start()
    port = int(first.address.rsplit(":", 1)[1])
    headers = {"Authorization": f"Bearer {rotate_token(services.settings)}"}
    with httpx.Client(base_url=first.address, headers=headers) as c:
        assert c.get("/api/v1/jobs").status_code == 200
        first.stop()  # closes the kept-alive connection from the server's side
    again = ApiServer(services, tmp_path, port)
    again.start()
    try:
        assert httpx.get(f"{again.address}/api/v1/jobs", headers=headers).status_code == 200
    finally:
        again.stop()
