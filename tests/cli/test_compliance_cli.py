"""Compliance mode in the real `piper`: tiktok_api jobs and campaigns need `--privacy`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.store.vault import unlock_vault
from tests.cli.test_cli import piper
from tests.conftest import MASTER_PASSWORD, make_video


@pytest.fixture
def ready(data_dir: Path) -> Path:
    made = piper(data_dir, "init", "--password-stdin", stdin=MASTER_PASSWORD + "\n", password=None)
    assert made.returncode == 0, made.stderr
    return data_dir


def _connected(data_dir: Path, username: str) -> None:
    """A stored token pair with the creator's levels, as `accounts connect` keeps them."""
    services = Services(unlock_vault(data_dir, MASTER_PASSWORD))
    try:
        account = services.accounts.find(username)
        services.accounts.save(
            account.id,
            "tiktok_api",
            {
                "access_token": "act.x",
                "refresh_token": "rft.x",
                "privacy_level_options": ["SELF_ONLY", "FOLLOWER_OF_CREATOR"],
            },
        )
    finally:
        services.close()


def test_jobs_add_on_tiktok_api_needs_privacy_while_compliance_is_on(
    ready: Path, tmp_path: Path
) -> None:
    assert piper(ready, "accounts", "add", "creator").returncode == 0
    _connected(ready, "creator")
    clip = make_video(tmp_path, "c.mp4")
    add = ("jobs", "add", "--account", "creator", "--media", str(clip), "--route", "tiktok_api")
    refused = piper(ready, *add)
    assert refused.returncode == 1, refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert "--privacy is required on tiktok_api while tiktok.compliance_mode is on" in line
    assert line.endswith("choose one of: private, followers")  # the creator's own levels
    assert json.loads(piper(ready, "jobs", "list", "--json").stdout) == []

    chosen = piper(ready, *add, "--privacy", "private", "--json")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["options"]["privacy_level"] == "SELF_ONLY"

    # off: the operator's own audited flow
    assert piper(ready, "settings", "set", "tiktok.compliance_mode", "false").returncode == 0
    assert piper(ready, *add, "--allow-duplicate").returncode == 0


def test_campaigns_create_on_tiktok_api_needs_privacy(ready: Path, tmp_path: Path) -> None:
    assert piper(ready, "accounts", "add", "creator").returncode == 0
    _connected(ready, "creator")
    clip = make_video(tmp_path, "c.mp4")
    create = (
        "campaigns", "create", "launch", "--route", "tiktok_api", "--media", str(clip),
        "--accounts", "creator", "--caption-template", "hello",
    )  # fmt: skip
    refused = piper(ready, *create)
    assert refused.returncode == 1, refused.stderr
    assert "--privacy is required on tiktok_api" in refused.stderr
    made = piper(ready, *create, "--privacy", "followers", "--start", "--json")
    assert made.returncode == 0, made.stderr


def test_tiktok_s_refusal_reads_the_same_in_piper_jobs_show(ready: Path, tmp_path: Path) -> None:
    """The words of routes/tiktok_api/errors.py are the job's reason: `piper run` stores
    them, `piper jobs show` prints them (the GUI's job details read the same field)."""
    import subprocess

    from piper_desktop.routes.tiktok_api.errors import API_ERRORS
    from piper_desktop.sandbox.httpbase import Fault
    from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
    from tests.conftest import piper_cmd, piper_env

    with TikTokApiSandbox() as tiktok:
        env = piper_env(ready, PIPER_TIKTOK_API_BASE=tiktok.base_url)
        assert piper(ready, "accounts", "add", "creator").returncode == 0
        services = Services(unlock_vault(ready, MASTER_PASSWORD))
        try:
            services.settings.set("tiktok.client_key", tiktok.client_key)
            services.settings.set("tiktok.client_secret", tiktok.client_secret)
            answer = tiktok.issue_tokens("creator")  # type: ignore[attr-defined]
            account = services.accounts.find("creator")
            services.accounts.save(
                account.id,
                "tiktok_api",
                {
                    "access_token": answer["access_token"],
                    "refresh_token": answer["refresh_token"],
                    "access_expires_at": 4_000_000_000,
                },
            )
        finally:
            services.close()
        clip = make_video(tmp_path, "c.mp4")
        made = piper(
            ready, "jobs", "add", "--account", "creator", "--media", str(clip),
            "--route", "tiktok_api", "--privacy", "private", "--json",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        job_id = str(json.loads(made.stdout)["id"])
        body = {"error": {"code": "reached_active_user_cap", "message": "cap", "log_id": "L"}}
        tiktok.faults.add(Fault(r"video/init", status=403, body=body))  # type: ignore[attr-defined]
        run = subprocess.run(
            [*piper_cmd(), "run", "--once"], capture_output=True, text=True, env=env, timeout=120
        )
        assert "Traceback" not in run.stderr
        shown = piper(ready, "jobs", "show", job_id)
        assert shown.returncode == 0, shown.stderr
    words = API_ERRORS["reached_active_user_cap"].words
    assert words in " ".join(shown.stdout.split())
    assert "retrying" in shown.stdout
