"""`piper watch add|list|rm` as a subprocess: folders stored with their targets, bad
input refused in one line naming the field or the folder."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from piper_desktop.domain.services import Services
from piper_desktop.domain.watch_folders import watched
from tests.conftest import piper_cmd, piper_env


def test_add_list_rm(services: Services, data_dir: Path, tmp_path: Path) -> None:
    services.accounts.add({"username": "carol", "routes": ["upload_post"]})
    services.accounts.add({"username": "dan", "group": "ClientB", "routes": ["upload_post"]})
    env = piper_env(data_dir)
    drop, other = tmp_path / "drop", tmp_path / "other"
    drop.mkdir()
    other.mkdir()
    (tmp_path / "file.mp4").write_bytes(b"x")

    def piper(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*piper_cmd(), "watch", *args], capture_output=True, text=True, env=env, timeout=60
        )

    empty = piper("list")
    assert empty.returncode == 0 and "no folder watched yet" in empty.stdout
    done = piper("add", str(drop), "--account", "Carol", "--caption-template", "{stem} {date}")
    assert done.returncode == 0, done.stderr
    assert f"watching folder 1: {drop}; videos go to account tiktok:carol" in done.stdout
    group = piper("add", str(other), "--group", "clientb", "--route", "upload_post", "--at", "now")
    assert group.returncode == 0, group.stderr
    rows = json.loads(piper("list", "--json").stdout)
    assert [(r["id"], r["folder"], r["account"], r["group"], r["at"]) for r in rows] == [
        (1, str(drop), "tiktok:carol", None, "auto"),
        (2, str(other), None, "clientb", "now"),
    ]
    assert rows[0]["caption_template"] == "{stem} {date}" and rows[0]["status"] == "watching"
    assert str(drop) in piper("list").stdout

    (drop / "sub").mkdir()
    for args, named in [
        (("add", str(tmp_path / "nope"), "--account", "carol"), "no such folder"),
        (("add", str(tmp_path / "file.mp4"), "--account", "carol"), "not a folder"),
        (("add", str(drop / "sub"), "--account", "carol"), "inside the watched folder"),
        (("add", str(tmp_path), "--account", "carol"), "holds the watched folder"),
        (("add", str(drop / "sub"), "--account", "nobody"), "account"),
        (("add", str(drop / "sub"), "--account", "carol", "--route", "fax"), "route"),
        (("add", str(drop / "sub"), "--account", "carol", "--caption-template", "{who}"), "{who}"),
        (("rm", "77"), "watched folder"),
    ]:
        bad = piper(*args)
        assert bad.returncode != 0
        assert bad.stderr.count("\n") == 1 and named in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr
    assert [f.id for f in watched(services.settings)] == [1, 2]

    gone = piper("rm", str(drop))
    assert gone.returncode == 0 and "no longer watched" in gone.stdout
    assert piper("rm", "2").returncode == 0
    assert watched(services.settings) == []
