"""`piper jobs edit ID --caption T --at ISO`: the real program changes a waiting job, and
refuses in one line once it is claimed or the input is bad."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import piper, ready  # noqa: F401  (the fixture)
from tests.conftest import make_video


def test_jobs_edit_caption_and_time(ready: Path, tmp_path: Path) -> None:  # noqa: F811
    assert piper(ready, "accounts", "add", "wordsmith").returncode == 0
    connect = ("accounts", "connect", "wordsmith", "--route", "upload_post", "--profile", "ws")
    assert piper(ready, *connect).returncode == 0
    clip = make_video(tmp_path, "words.mp4")
    job = piper(
        ready, "jobs", "add", "--account", "wordsmith", "--media", str(clip),
        "--route", "upload_post", "--at", "auto", "--caption", "first", "--json",
    )  # fmt: skip
    assert job.returncode == 0, job.stderr
    job_id = str(json.loads(job.stdout)["id"])
    edited = piper(
        ready, "jobs", "edit", job_id, "--caption", "second #take",
        "--at", "2031-03-04T18:30:00+00:00", "--json",
    )  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    data = json.loads(edited.stdout)
    assert data["caption"] == "second #take" and data["scheduled_at"].startswith("2031-03-04T18:30")
    shown = json.loads(piper(ready, "jobs", "show", job_id, "--json").stdout)
    assert shown["events"][-1]["kind"] == "edited"

    bad = piper(ready, "jobs", "edit", job_id, "--at", "next tuesday")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "at" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    nothing = piper(ready, "jobs", "edit", job_id)
    assert nothing.returncode == 2 and "--caption" in nothing.stderr

    assert piper(ready, "jobs", "cancel", job_id).returncode == 0
    late = piper(ready, "jobs", "edit", job_id, "--caption", "too late")
    assert late.returncode == 1 and "only before it is claimed" in late.stderr
    assert len(late.stderr.strip().splitlines()) == 1
    again = json.loads(piper(ready, "jobs", "show", job_id, "--json").stdout)
    assert again["caption"] == "second #take"
