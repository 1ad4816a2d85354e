"""Posts scheduled on Upload-Post's side: listed, moved and cancelled from `piper`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from piper_desktop.clients.upload_post import UploadPostClient
from piper_desktop.domain.services import Services
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.conftest import make_video, piper_cmd, piper_env


def test_scheduled_posts_list_edit_cancel(
    services: Services, data_dir: Path, tmp_path: Path
) -> None:
    with UploadPostSandbox() as server:
        services.settings.set("upload_post.api_key", server.api_key)  # type: ignore[attr-defined]
        base = server.api_base  # type: ignore[attr-defined]
        with UploadPostClient(server.api_key, base_url=base) as client:  # type: ignore[attr-defined]
            client.upload(
                video=make_video(tmp_path, "later.mp4"),
                user="brand_main",
                title="later",
                platforms=["tiktok"],
                scheduled_date="2030-01-02T10:00:00Z",
                request_id="req-sched-1",
            )
        env = piper_env(data_dir, PIPER_UPLOAD_POST_BASE=base)

        def piper(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*piper_cmd(), "upload-post", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )

        listed = piper("scheduled", "--json")
        assert listed.returncode == 0, listed.stderr
        jobs = json.loads(listed.stdout)
        assert len(jobs) == 1
        job_id = jobs[0]["job_id"]
        moved = piper("edit", job_id, "--at", "2030-01-03T11:00:00Z", "--json")
        assert moved.returncode == 0, moved.stderr
        assert json.loads(piper("scheduled", "--json").stdout)[0]["scheduled_date"].startswith(
            "2030-01-03"
        )
        assert piper("cancel", job_id).returncode == 0
        assert json.loads(piper("scheduled", "--json").stdout) == []
        missing = piper("cancel", "job_0000000000000000")
        assert missing.returncode == 1 and missing.stderr.count("\n") == 1
