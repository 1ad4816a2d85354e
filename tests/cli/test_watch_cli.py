"""`piper watch add | list | rm` as the real program: one line for each bad input."""

from __future__ import annotations

import subprocess
from pathlib import Path

from piper_desktop.domain.services import Services
from tests.conftest import piper_cmd, piper_env
from tests.engine.helpers import add_account


def piper(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*piper_cmd(), *args],
        env=piper_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_watch_add_list_rm(services: Services, data_dir: Path, tmp_path: Path) -> None:
    add_account(services, "carol")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "file.txt").write_text("x")
    added = piper(
        data_dir,
        "watch",
        "add",
        str(inbox),
        "--account",
        "carol",
        "--route",
        "upload_post",
        "--caption-template",
        "{stem} #new",
    )
    assert added.returncode == 0, added.stderr
    assert f"watching {inbox.resolve()}" in added.stdout
    bad = {
        "no such folder": [str(tmp_path / "nope")],
        "not a folder": [str(tmp_path / "file.txt")],
        "is inside the watched folder": [str(inbox / "sub")],
    }
    (inbox / "sub").mkdir()
    for words, folder in bad.items():
        result = piper(
            data_dir, "watch", "add", *folder, "--account", "carol", "--route", "upload_post"
        )
        assert result.returncode == 1 and words in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    template = piper(
        data_dir,
        "watch",
        "add",
        str(tmp_path),
        "--account",
        "carol",
        "--route",
        "upload_post",
        "--caption-template",
        "{title}",
    )
    assert template.returncode == 1
    assert "unknown placeholder {title}" in template.stderr
    assert len(template.stderr.strip().splitlines()) == 1
    listed = piper(data_dir, "watch", "list")
    assert str(inbox.resolve()) in listed.stdout and "account carol" in listed.stdout
    assert "{stem} #new" in listed.stdout and "0 waiting" in listed.stdout
    removed = piper(data_dir, "watch", "rm", str(inbox))
    assert removed.returncode == 0 and "no longer watching" in removed.stdout
    assert "no watched folders" in piper(data_dir, "watch", "list").stdout
    again = piper(data_dir, "watch", "rm", str(inbox))
    assert again.returncode == 1 and "no watched folder" in again.stderr
