"""`piper accounts connect` and `piper media captions` against the sandbox stand-ins."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from piper_desktop.domain.services import Services
from piper_desktop.sandbox.openrouter import OpenRouterSandbox
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.store.vault import unlock_vault
from tests.conftest import MASTER_PASSWORD, make_video, piper_cmd, piper_env


@pytest.fixture
def tiktok() -> Iterator[TikTokApiSandbox]:
    with TikTokApiSandbox() as server:
        yield server  # type: ignore[misc]


def _env(data_dir: Path, tiktok: TikTokApiSandbox) -> dict[str, str]:
    return piper_env(
        data_dir,
        PIPER_TIKTOK_API_BASE=tiktok.base_url,
        PIPER_TIKTOK_AUTH_URL=tiktok.base_url + "/v2/auth/authorize/",
    )


def _prepare(services: Services) -> None:
    services.accounts.add({"username": "creator1"})
    services.settings.set("tiktok.client_key", "sandbox-client-key")
    services.settings.set("tiktok.client_secret", "sandbox-client-secret")


def test_connect_through_loopback_oauth(
    services: Services, data_dir: Path, tiktok: TikTokApiSandbox
) -> None:
    _prepare(services)
    tiktok.authorize_as("creator1")
    proc = subprocess.Popen(
        [
            *piper_cmd(),
            "accounts",
            "connect",
            "creator1",
            "--route",
            "tiktok_api",
            "--no-browser",
            "--json",
            "--timeout",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(data_dir, tiktok),
    )
    assert proc.stdout is not None
    # the operator's browser: open the printed address; the sandbox consents and
    # redirects to Piper's loopback listener
    url = ""
    for line in proc.stdout:
        if line.startswith("http"):
            url = line.strip()
            break
    assert url.startswith(tiktok.base_url + "/v2/auth/authorize/?")
    assert "code_challenge_method=S256" in url
    answer = httpx.get(url, follow_redirects=True, timeout=30)
    assert answer.status_code == 200
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    result = json.loads(out)
    assert result["creator_username"] == "creator1"
    creds = services.accounts.load(services.accounts.find("creator1").id, "tiktok_api")
    assert creds["access_token"] and creds["refresh_token"]
    assert creds["access_token"] not in out + err


def test_connect_with_refresh_token_and_upload_post_profile(
    services: Services, data_dir: Path, tiktok: TikTokApiSandbox
) -> None:
    _prepare(services)
    tokens = tiktok.issue_tokens("creator1")
    env = _env(data_dir, tiktok)
    result = subprocess.run(
        [
            *piper_cmd(),
            "accounts",
            "connect",
            "creator1",
            "--route",
            "tiktok_api",
            "--refresh-token-stdin",
            "--json",
        ],
        input=tokens["refresh_token"] + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["creator_username"] == "creator1"
    bad = subprocess.run(
        [
            *piper_cmd(),
            "accounts",
            "connect",
            "creator1",
            "--route",
            "tiktok_api",
            "--refresh-token-stdin",
        ],
        input="rft.not-a-real-token\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 1 and "rft.not-a-real-token" not in bad.stderr
    assert bad.stderr.count("\n") == 1
    up = subprocess.run(
        [
            *piper_cmd(),
            "accounts",
            "connect",
            "creator1",
            "--route",
            "upload_post",
            "--profile",
            "brand_main",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert up.returncode == 0, up.stderr
    db = unlock_vault(data_dir, MASTER_PASSWORD)
    account = Services(db).accounts.find("creator1")
    assert Services(db).accounts.load(account.id, "upload_post") == {"profile": "brand_main"}
    db.close()


def test_caption_suggestions_are_only_printed(
    services: Services, data_dir: Path, tmp_path: Path
) -> None:
    item, _ = services.media.add(make_video(tmp_path, "morning-run.mp4"), {"hashtags": "running"})
    with OpenRouterSandbox() as router:
        services.settings.set("openrouter.api_key", "wrong-key-0000")
        refused = subprocess.run(
            [*piper_cmd(), "media", "captions", str(item.id)],
            capture_output=True,
            text=True,
            env=piper_env(data_dir, PIPER_OPENROUTER_BASE=router.base_url + "/api/v1"),
            timeout=60,
        )
        assert refused.returncode == 1 and "401" in refused.stderr
        assert "wrong-key-0000" not in refused.stderr
        services.settings.set("openrouter.api_key", router.api_key)  # type: ignore[attr-defined]
        result = subprocess.run(
            [*piper_cmd(), "media", "captions", str(item.id), "-n", "2", "--json"],
            capture_output=True,
            text=True,
            env=piper_env(data_dir, PIPER_OPENROUTER_BASE=router.base_url + "/api/v1"),
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    suggestions = json.loads(result.stdout)
    assert len(suggestions) == 2 and all(isinstance(s, str) and s for s in suggestions)
    assert services.media.get(item.id).default_caption is None  # nothing chosen for the operator


def test_connect_as_another_creator_warns_and_records_it(
    services: Services, data_dir: Path, tiktok: TikTokApiSandbox
) -> None:
    _prepare(services)
    tokens = tiktok.issue_tokens("other_creator")
    result = subprocess.run(
        [*piper_cmd(), "accounts", "connect", "creator1", "--route", "tiktok_api",
         "--refresh-token-stdin", "--json"],
        input=tokens["refresh_token"] + "\n",
        capture_output=True,
        text=True,
        env=_env(data_dir, tiktok),
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1
    assert "@creator1" in warning[0] and "@other_creator" in warning[0]
    assert json.loads(result.stdout)["creator_username"] == "other_creator"
    db = unlock_vault(data_dir, MASTER_PASSWORD)
    try:
        creds = Services(db).accounts.load(Services(db).accounts.find("creator1").id, "tiktok_api")
    finally:
        db.close()
    assert creds["identity_mismatch"] is True and creds["creator_username"] == "other_creator"
