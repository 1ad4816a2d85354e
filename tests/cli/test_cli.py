"""The real `piper` program as a subprocess, the way an operator or a script uses it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import MASTER_PASSWORD, make_video, piper_cmd, piper_env


def piper(
    data_dir: Path, *args: str, stdin: str | None = None, password: str | None = MASTER_PASSWORD
) -> subprocess.CompletedProcess[str]:
    env = piper_env(data_dir)
    if password is None:
        env.pop("PIPER_PASSWORD")
    else:
        env["PIPER_PASSWORD"] = password
    return subprocess.run(
        [*piper_cmd(), *args],
        input=stdin or "",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def ready(data_dir: Path) -> Path:
    result = piper(
        data_dir, "init", "--password-stdin", stdin=MASTER_PASSWORD + "\n", password=None
    )
    assert result.returncode == 0, result.stderr
    return data_dir


def test_init_then_wrong_password_is_one_line_and_exit_2(ready: Path) -> None:
    result = piper(ready, "accounts", "list", password="nope-nope-nope")
    assert result.returncode == 2
    assert result.stderr.strip() == "piper: wrong master password"
    assert "Traceback" not in result.stderr


def test_no_password_without_terminal_is_a_usage_error(ready: Path) -> None:
    result = piper(ready, "accounts", "list", password=None)
    assert result.returncode == 2 and "--password-stdin" in result.stderr


def test_account_round_trip_json_uses_field_names(ready: Path) -> None:
    add = piper(
        ready,
        "accounts",
        "add",
        "alice",
        "--email",
        "alice@example.com",
        "--group",
        "g1",
        "--tags",
        "a,b",
        "--account-password-stdin",
        "--json",
        stdin="the-account-password\n",
    )
    assert add.returncode == 0, add.stderr
    listed = json.loads(piper(ready, "accounts", "list", "--json").stdout)
    assert listed[0]["username"] == "alice" and listed[0]["tags"] == ["a", "b"]
    assert "password" not in listed[0] and "storage_state" not in listed[0]
    assert "the-account-password" not in add.stdout + add.stderr
    shown = json.loads(piper(ready, "accounts", "show", "tiktok:alice", "--json").stdout)
    assert shown["group"] == "g1" and shown["has_session"] is False
    bad = piper(ready, "accounts", "edit", "alice", "--email", "broken")
    assert bad.returncode == 1 and bad.stderr.strip().startswith("piper: email:")
    assert piper(ready, "accounts", "rm", "alice").returncode == 0
    missing = piper(ready, "accounts", "show", "alice")
    assert missing.returncode == 1 and "not found" in missing.stderr


def test_import_export_round_trip(ready: Path, tmp_path: Path) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text(
        "username,email,password,group\nann,ann@example.com,pw1,g\nben,broken,pw2,g\ncal,,pw3,h\n"
    )
    result = piper(ready, "accounts", "import", str(source), "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 1  # some lines were bad
    assert (report["created"], [e["line"] for e in report["errors"]]) == (2, [3])
    out = tmp_path / "out.csv"
    assert piper(ready, "accounts", "export", str(out)).returncode == 0
    assert "pw1" not in out.read_text() and "ann" in out.read_text()
    secret_out = piper(ready, "accounts", "export", "--format", "json", "--include-secrets")
    assert "pw1" in secret_out.stdout
    again = json.loads(piper(ready, "accounts", "import", str(source), "--json").stdout)
    assert (again["created"], again["updated"]) == (0, 2)


def test_proxies_media_jobs_and_settings(ready: Path, tmp_path: Path) -> None:
    proxies = tmp_path / "proxies.txt"
    proxies.write_text("127.0.0.1:3128:user:pass\nsocks5://127.0.0.2:1080\noops\n")
    result = piper(ready, "proxies", "import", str(proxies))
    assert result.returncode == 1 and "line 3" in result.stderr
    listed = json.loads(piper(ready, "proxies", "list", "--json").stdout)
    assert [p["host"] for p in listed] == ["127.0.0.1", "127.0.0.2"]
    assert all("password" not in p for p in listed)

    video = make_video(tmp_path, "dance.mp4")
    media = json.loads(piper(ready, "media", "add", str(video), "--json").stdout)
    assert len(media[0]["sha256"]) == 64 and media[0]["created"] is True

    assert piper(ready, "accounts", "add", "alice", "--max-posts-per-day", "2").returncode == 0
    add_job = (
        "jobs", "add", "--account", "alice", "--media", media[0]["sha256"],
        "--route", "upload_post", "--at", "auto", "--caption", "hi #fyp", "--json",
    )  # fmt: skip
    # never connected to Upload-Post: refused in one line saying how, nothing stored
    refused = piper(ready, *add_job)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.count("\n") == 1
    assert "not connected to Upload-Post" in refused.stderr and "@alice" in refused.stderr
    assert "piper accounts connect alice --route upload_post --profile NAME" in refused.stderr
    assert json.loads(piper(ready, "jobs", "list", "--json").stdout) == []
    connect = ("accounts", "connect", "alice", "--route", "upload_post", "--profile", "alice")
    assert piper(ready, *connect).returncode == 0
    job = piper(ready, *add_job)
    assert job.returncode == 0, job.stderr
    job_data = json.loads(job.stdout)
    assert job_data["status"] == "queued" and job_data["caption"] == "hi #fyp"
    shown = json.loads(piper(ready, "jobs", "show", str(job_data["id"]), "--json").stdout)
    assert shown["events"][0]["kind"] == "created"
    assert piper(ready, "jobs", "cancel", str(job_data["id"])).returncode == 0

    secret = piper(
        ready, "settings", "set", "upload_post.api_key", "--stdin", stdin="UP-KEY-0123456789\n"
    )
    assert secret.returncode == 0 and "UP-KEY-0123456789" not in secret.stdout
    rows = {r["key"]: r for r in json.loads(piper(ready, "settings", "list", "--json").stdout)}
    assert rows["upload_post.api_key"]["value"] == "****89"
    assert (
        piper(ready, "settings", "get", "upload_post.api_key", "--reveal").stdout.strip()
        == "UP-KEY-0123456789"
    )
    bad = piper(ready, "settings", "set", "engine.max_workers", "many")
    assert bad.returncode == 1 and "engine.max_workers" in bad.stderr


def test_campaign_lifecycle(ready: Path, tmp_path: Path) -> None:
    for name in ("a1", "a2"):
        assert piper(ready, "accounts", "add", name, "--group", "crew").returncode == 0
    videos = [str(make_video(tmp_path, f"c{i}.mp4")) for i in range(4)]
    created = piper(
        ready,
        "campaigns",
        "create",
        "spring",
        "--route",
        "browser",
        "--media",
        *videos,
        "--group",
        "crew",
        "--caption-template",
        "{title} {hashtags}",
        "--hashtags",
        "spring",
        "--json",
    )
    # no browser sessions: refused, naming both accounts
    assert created.returncode == 1 and "Traceback" not in created.stderr
    assert "2 accounts are not connected to Browser" in created.stderr
    assert "@a1, @a2" in created.stderr
    assert json.loads(piper(ready, "campaigns", "list", "--json").stdout) == []
    # the setting turns the refusal into a warning
    assert piper(ready, "settings", "set", "jobs.require_connected", "false").returncode == 0
    created = piper(ready, *created.args[len(piper_cmd()) :])
    assert created.returncode == 0, created.stderr
    assert created.stderr.startswith("warning: 2 accounts are not connected")
    data = json.loads(created.stdout)
    assert len(data["preview"]) == 4 and data["status"] == "draft"
    # `start` asks again: with the setting back on, the draft does not start
    assert piper(ready, "settings", "set", "jobs.require_connected", "true").returncode == 0
    refused = piper(ready, "campaigns", "start", "spring")
    assert refused.returncode == 1 and "not connected to Browser" in refused.stderr
    assert piper(ready, "settings", "set", "jobs.require_connected", "false").returncode == 0
    started = json.loads(piper(ready, "campaigns", "start", "spring", "--json").stdout)
    assert len(started["job_ids"]) == 4
    assert (
        json.loads(piper(ready, "campaigns", "pause", "spring", "--json").stdout)["status"]
        == "paused"
    )
    assert (
        json.loads(piper(ready, "campaigns", "resume", "spring", "--json").stdout)["status"]
        == "running"
    )
    shown = json.loads(piper(ready, "campaigns", "show", "spring", "--json").stdout)
    assert shown["progress"]["by_status"] == {"queued": 4}
    assert set(shown["progress"]["per_account"]) == {"tiktok:a1", "tiktok:a2"}
    cancelled = json.loads(piper(ready, "campaigns", "cancel", "spring", "--json").stdout)
    assert cancelled["cancelled_jobs"] == 4


def test_passwd_rekeys_with_nothing_lost(ready: Path) -> None:
    assert piper(ready, "accounts", "add", "keeper").returncode == 0
    result = piper(
        ready,
        "passwd",
        "--password-stdin",
        "--new-password-stdin",
        stdin=f"{MASTER_PASSWORD}\nnew-master-password\n",
        password=None,
    )
    assert result.returncode == 0, result.stderr
    assert piper(ready, "accounts", "list").returncode == 2  # old password refused
    listed = piper(ready, "accounts", "list", "--json", password="new-master-password")
    assert [a["username"] for a in json.loads(listed.stdout)] == ["keeper"]


def test_usage_errors_exit_2(ready: Path) -> None:
    assert piper(ready, "accounts", "frobnicate").returncode == 2
    assert piper(ready, "jobs", "add", "--account", "x").returncode == 2


def test_jobs_mark_published_takes_the_operator_s_word(ready: Path, tmp_path: Path) -> None:
    from piper_desktop.domain.services import Services
    from piper_desktop.store.models import Job
    from piper_desktop.store.vault import unlock_vault

    assert piper(ready, "accounts", "add", "marker").returncode == 0
    connect = ("accounts", "connect", "marker", "--route", "upload_post", "--profile", "m")
    assert piper(ready, *connect).returncode == 0
    clip = make_video(tmp_path, "mark.mp4")
    job = piper(
        ready, "jobs", "add", "--account", "marker", "--media", str(clip),
        "--route", "upload_post", "--caption", "checked", "--json",
    )  # fmt: skip
    assert job.returncode == 0, job.stderr
    job_id = str(json.loads(job.stdout)["id"])
    url = "https://www.tiktok.com/@marker/video/1"

    queued = piper(ready, "jobs", "mark-published", job_id, "--url", url)
    assert queued.returncode == 1 and "Traceback" not in queued.stderr
    assert queued.stderr.strip().startswith(f"piper: job {job_id} is queued; only failed")

    services = Services(unlock_vault(ready, MASTER_PASSWORD))
    try:
        with services.db.write() as session:
            row = session.get(Job, int(job_id))
            assert row is not None
            row.status = "needs_attention"
    finally:
        services.close()
    marked = piper(ready, "jobs", "mark-published", job_id, "--url", url, "--json")
    assert marked.returncode == 0, marked.stderr
    data = json.loads(marked.stdout)
    assert data["status"] == "published" and data["post_url"] == url
    shown = json.loads(piper(ready, "jobs", "show", job_id, "--json").stdout)
    assert shown["events"][-1]["kind"] == "published"


def test_jobs_edit_route_before_the_claim(ready: Path, tmp_path: Path) -> None:
    assert piper(ready, "accounts", "add", "switcher").returncode == 0
    connect = ("accounts", "connect", "switcher", "--route", "upload_post", "--profile", "sw")
    assert piper(ready, *connect).returncode == 0
    clip = make_video(tmp_path, "edit.mp4")
    job = piper(
        ready, "jobs", "add", "--account", "switcher", "--media", str(clip),
        "--route", "upload_post", "--at", "auto", "--caption", "switch", "--json",
    )  # fmt: skip
    assert job.returncode == 0, job.stderr
    job_id = str(json.loads(job.stdout)["id"])
    # the browser route has no session for the account: refused, the route stays
    refused = piper(ready, "jobs", "edit", job_id, "--route", "browser")
    assert refused.returncode == 1 and "not connected to Browser" in refused.stderr
    assert "piper browser open switcher" in refused.stderr
    assert piper(ready, "settings", "set", "jobs.require_connected", "false").returncode == 0
    edited = piper(ready, "jobs", "edit", job_id, "--route", "browser", "--json")
    assert edited.returncode == 0, edited.stderr
    assert json.loads(edited.stdout)["route"] == "browser"
    assert "warning: 1 account is not connected" in edited.stderr
    bad = piper(ready, "jobs", "edit", job_id, "--route", "fax")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert piper(ready, "jobs", "cancel", job_id).returncode == 0
    late = piper(ready, "jobs", "edit", job_id, "--route", "upload_post")
    assert late.returncode == 1 and "only before it is claimed" in late.stderr
