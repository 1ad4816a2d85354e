"""The operator's first hour with `piper` (issue 17, items 8 and 11): the real program as
a subprocess, the way the README tells an operator to use it."""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from piper_desktop.cli.main import build_parser
from piper_desktop.domain.services import Services
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from piper_desktop.store.models import Campaign, Job
from piper_desktop.store.vault import unlock_vault
from tests.cli.test_cli import piper
from tests.conftest import MASTER_PASSWORD, make_video, piper_cmd, piper_env


@pytest.fixture
def ready(data_dir: Path) -> Path:
    result = piper(
        data_dir, "init", "--password-stdin", stdin=MASTER_PASSWORD + "\n", password=None
    )
    assert result.returncode == 0, result.stderr
    # these tests are about the CLI's words, not connections (tests/cli/test_cli.py and
    # tests/engine/test_not_connected.py are): accounts need not be connected here
    off = piper(data_dir, "settings", "set", "jobs.require_connected", "false")
    assert off.returncode == 0, off.stderr
    return data_dir


def _videos(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make_video(folder, f"clip{i}.mp4") for i in range(count)]


# --- item 11 ------------------------------------------------------------------------------
def test_campaign_media_folder_and_group_in_any_case_as_the_readme_says(
    ready: Path, tmp_path: Path
) -> None:
    for name in ("ann", "bob"):
        assert piper(ready, "accounts", "add", name, "--group", "ClientB").returncode == 0
    batch = tmp_path / "Videos" / "batch1"
    _videos(batch, 3)
    (batch / "notes.txt").write_text("not a video")
    created = piper(
        ready, "campaigns", "create", "spring", "--route", "browser",
        "--media", str(batch), "--group", "clientb", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    data = json.loads(created.stdout)
    assert len(data["media_ids"]) == 3 and len(data["preview"]) == 3
    assert {p["account"] for p in data["preview"]} == {"tiktok:ann", "tiktok:bob"}
    listed = json.loads(piper(ready, "media", "list", "--json").stdout)
    assert sorted(m["title"] for m in listed) == ["clip0", "clip1", "clip2"]
    # the campaign by its name in another case, too
    assert piper(ready, "campaigns", "show", "SPRING", "--json").returncode == 0
    # a job posts one video: a folder is one clear line
    folder_job = piper(
        ready, "jobs", "add", "--account", "ANN", "--media", str(batch), "--route", "browser"
    )
    assert folder_job.returncode == 1
    assert folder_job.stderr.strip().startswith("piper: media:") and "folder" in folder_job.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    none = piper(
        ready, "campaigns", "create", "dry", "--route", "browser", "--media", str(empty),
        "--group", "ClientB",
    )  # fmt: skip
    assert none.returncode == 1 and "no videos in the folder" in none.stderr


def test_privacy_aliases_and_status_choices_are_accepted_and_listed(
    ready: Path, tmp_path: Path
) -> None:
    assert piper(ready, "accounts", "add", "alice").returncode == 0
    clip = make_video(tmp_path, "p.mp4")
    job = piper(
        ready, "jobs", "add", "--account", "alice", "--media", str(clip),
        "--route", "browser", "--privacy", "public", "--json",
    )  # fmt: skip
    assert job.returncode == 0, job.stderr
    assert json.loads(job.stdout)["options"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    wrong = piper(
        ready, "jobs", "add", "--account", "alice", "--media", str(clip),
        "--route", "browser", "--privacy", "everyone",
    )  # fmt: skip
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert "public (PUBLIC_TO_EVERYONE)" in wrong.stderr and "private (SELF_ONLY)" in wrong.stderr
    add_help = piper(ready, "jobs", "add", "--help").stdout
    assert "followers" in add_help and "MUTUAL_FOLLOW_FRIENDS" in add_help
    campaign_help = piper(ready, "campaigns", "create", "--help").stdout
    assert "friends" in campaign_help and "SELF_ONLY" in campaign_help

    status_help = piper(ready, "jobs", "list", "--help").stdout
    assert "needs_attention" in status_help and "published" in status_help
    bad_status = piper(ready, "jobs", "list", "--status", "queued,stuck")
    assert bad_status.returncode == 2 and "'stuck' is no job status" in bad_status.stderr
    queued = piper(ready, "jobs", "list", "--status", "QUEUED,failed", "--json")
    assert [j["status"] for j in json.loads(queued.stdout)] == ["queued"]


def _flags_without_help(parser: argparse.ArgumentParser, path: str) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                missing += _flags_without_help(sub, f"{path} {name}")
        elif not isinstance(action, argparse._HelpAction | argparse._VersionAction) and (
            not action.help
        ):
            missing.append(f"{path} {(action.option_strings or [action.dest])[0]}")
    return missing


def test_every_flag_has_help(ready: Path) -> None:
    assert _flags_without_help(build_parser(), "piper") == []
    # and the program shows it
    shown = piper(ready, "accounts", "list", "--help").stdout
    assert "--json" in shown and "print JSON" in shown and "only this group" in shown


def test_jobs_list_shows_usernames_and_records_read_as_text(ready: Path, tmp_path: Path) -> None:
    assert piper(ready, "accounts", "add", "carol_tok").returncode == 0
    clip = make_video(tmp_path, "t.mp4")
    job = piper(
        ready, "jobs", "add", "--account", "carol_tok", "--media", str(clip),
        "--route", "browser", "--caption", "hello", "--json",
    )  # fmt: skip
    job_id = str(json.loads(job.stdout)["id"])
    listed = piper(ready, "jobs", "list").stdout.splitlines()
    assert listed[0].split()[:2] == ["ID", "ACCOUNT"]
    assert listed[1].split()[:2] == [job_id, "carol_tok"]
    scripted = json.loads(piper(ready, "jobs", "list", "--json").stdout)[0]
    assert scripted["account"] == "carol_tok" and isinstance(scripted["account_id"], int)

    shown = piper(ready, "jobs", "show", job_id)
    assert shown.returncode == 0 and '": ' not in shown.stdout
    lines = shown.stdout.splitlines()
    assert any(line.split()[:2] == ["caption", "hello"] for line in lines)
    events_at = lines.index("events")
    assert "created" in lines[events_at + 1] and lines[events_at + 1].startswith("  ")
    assert json.loads(piper(ready, "jobs", "show", job_id, "--json").stdout)["events"]

    stats = piper(ready, "jobs", "stats")
    assert stats.returncode == 0 and '": ' not in stats.stdout
    assert any(line.split() == ["queued", "1"] for line in stats.stdout.splitlines())
    assert json.loads(piper(ready, "jobs", "stats", "--json").stdout)["by_status"] == {"queued": 1}


def test_campaign_show_is_text_and_its_failures_are_said(ready: Path, tmp_path: Path) -> None:
    assert piper(ready, "accounts", "add", "dave").returncode == 0
    videos = [str(v) for v in _videos(tmp_path / "v", 2)]
    created = piper(
        ready, "campaigns", "create", "fall", "--route", "browser", "--media", *videos,
        "--accounts", "dave", "--start", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    # both jobs failed and the engine completed the campaign (as `piper run` would)
    services = Services(unlock_vault(ready, MASTER_PASSWORD))
    try:
        with services.db.write() as session:
            for job in session.scalars(select(Job)):
                job.status = "failed"
            session.scalars(select(Campaign)).one().status = "completed"
    finally:
        services.close()
    shown = piper(ready, "campaigns", "show", "fall")
    lines = shown.stdout.splitlines()
    assert shown.returncode == 0 and '": ' not in shown.stdout  # no JSON in text mode
    assert any(
        line.split()[:1] == ["status"] and "completed with 2 failed" in line for line in lines
    )
    assert "progress" in lines and any(line.split() == ["failed", "2"] for line in lines)
    listed = piper(ready, "campaigns", "list").stdout
    assert "completed with 2 failed" in listed
    assert json.loads(piper(ready, "campaigns", "list", "--json").stdout)[0]["status"] == (
        "completed"
    )


def test_a_closed_pipe_is_no_error(ready: Path, tmp_path: Path) -> None:
    # more rows than a pipe holds, so `piper` is still writing when `head` leaves
    sheet = tmp_path / "accounts.csv"
    with sheet.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["username", "display_name", "notes"])
        writer.writerows([f"user{i:05}", f"User number {i}", "x" * 40] for i in range(3000))
    assert piper(ready, "accounts", "import", str(sheet)).returncode == 0
    result = subprocess.run(
        f"{' '.join(piper_cmd())} accounts list | head -n 2",
        shell=True,
        capture_output=True,
        text=True,
        env=piper_env(ready),
        timeout=120,
        executable="/bin/bash",
    )
    assert len(result.stdout.splitlines()) == 2
    assert result.stderr == "", result.stderr


def test_before_init_says_run_piper_init(data_dir: Path) -> None:
    for password in (None, MASTER_PASSWORD):
        result = piper(data_dir, "accounts", "list", password=password)
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"piper: no vault here yet ({data_dir}): run `piper init` first"
        )
    assert not (data_dir / "piper.db").exists()


# --- item 8 -------------------------------------------------------------------------------
def test_upload_post_without_captions_is_refused_at_creation(ready: Path, tmp_path: Path) -> None:
    assert piper(ready, "accounts", "add", "erin").returncode == 0
    batch = tmp_path / "silent"
    _videos(batch, 2)
    refused = piper(
        ready, "campaigns", "create", "mute", "--route", "upload_post", "--media", str(batch),
        "--accounts", "erin",
    )  # fmt: skip
    assert refused.returncode == 1
    errors = [line for line in refused.stderr.splitlines() if not line.startswith("warning:")]
    assert len(errors) == 1, refused.stderr
    assert "'clip0' has no caption" in refused.stderr and "upload_post" in refused.stderr
    assert json.loads(piper(ready, "campaigns", "list", "--json").stdout) == []
    # a template that gives every post a caption makes it fine
    fine = piper(
        ready, "campaigns", "create", "mute", "--route", "upload_post", "--media", str(batch),
        "--accounts", "erin", "--caption-template", "{title} #fyp",
    )  # fmt: skip
    assert fine.returncode == 0, fine.stderr
    # jobs add: the same rule, the same line
    clip = batch / "clip1.mp4"
    job = piper(
        ready, "jobs", "add", "--account", "erin", "--media", str(clip), "--route", "upload_post"
    )
    assert job.returncode == 1 and "'clip1' has no caption" in job.stderr
    assert json.loads(piper(ready, "jobs", "list", "--json").stdout) == []
    # the TikTok API takes an empty title: no refusal there
    tiktok = piper(
        ready, "jobs", "add", "--account", "erin", "--media", str(clip), "--route", "browser"
    )
    assert tiktok.returncode == 0, tiktok.stderr


@pytest.fixture
def refusing_upload_post() -> Iterator[UploadPostSandbox]:
    with UploadPostSandbox(polls_to_complete=1, rate_limit=(100_000, 60.0)) as sandbox:
        yield sandbox  # type: ignore[misc]


def test_run_once_exits_1_when_every_job_it_ran_failed(
    ready: Path, tmp_path: Path, refusing_upload_post: UploadPostSandbox
) -> None:
    sandbox = refusing_upload_post
    key = piper(ready, "settings", "set", "upload_post.api_key", "--stdin", stdin=sandbox.api_key)
    assert key.returncode == 0, key.stderr
    assert piper(ready, "accounts", "add", "fay").returncode == 0
    for i, clip in enumerate(_videos(tmp_path / "f", 2)):
        added = piper(
            ready, "jobs", "add", "--account", "fay", "--media", str(clip),
            "--route", "upload_post", "--caption", f"post {i}", "--allow-duplicate",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    sandbox.faults.add(Fault(r"^/api/upload$", status=400, body={"message": "bad"}, times=10))
    result = subprocess.run(
        [*piper_cmd(), "run", "--once"],
        env=piper_env(ready, PIPER_UPLOAD_POST_BASE=sandbox.api_base),
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "every job run failed (2)" in result.stderr
    statuses = [j["status"] for j in json.loads(piper(ready, "jobs", "list", "--json").stdout)]
    assert statuses == ["failed", "failed"]
    assert "exit status of --once" in piper(ready, "run", "--help").stdout
