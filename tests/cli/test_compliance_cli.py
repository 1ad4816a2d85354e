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
