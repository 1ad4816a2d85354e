"""Issue 16, item 8, as a user meets it: `piper media add` refuses what is not a video,
one line per file, adds the rest, and `media check` flags without removing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import piper, ready  # noqa: F401  (the fixture)
from tests.conftest import make_video


def test_media_add_refuses_non_video_one_line_each(ready: Path, tmp_path: Path) -> None:  # noqa: F811
    text = tmp_path / "notes.mp4"
    text.write_text("hello\n" * 100)
    shadow = tmp_path / "shadow.mp4"
    shadow.symlink_to("/etc/shadow")
    video = make_video(tmp_path, "dance.mp4", seconds=2)
    result = piper(
        ready, "media", "add", "/etc/passwd", str(text), str(shadow), str(video), "--json"
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert all(line.startswith("skipped: path: ") for line in lines)
    assert "/etc/passwd is not a video file" in lines[0]
    assert "notes.mp4 is not a video file" in lines[1]
    assert "outside" in lines[2]
    assert "Traceback" not in result.stderr
    [added] = json.loads(result.stdout)
    assert added["created"] is True
    listed = json.loads(piper(ready, "media", "list", "--json").stdout)
    assert [m["path"] for m in listed] == [str(video)]
    assert 1.9 < listed[0]["duration_sec"] < 2.1 and listed[0]["problem"] is None

    assert piper(ready, "media", "check").returncode == 0
    video.write_text("replaced by something else")
    check = piper(ready, "media", "check", "--json")
    assert check.returncode == 1
    [flagged] = json.loads(check.stdout)
    assert flagged["id"] == added["id"] and "is not a video file" in flagged["problem"]
    assert len(json.loads(piper(ready, "media", "list", "--json").stdout)) == 1  # kept


def test_media_add_photos(ready: Path, tmp_path: Path) -> None:  # noqa: F811
    from piper_desktop.sandbox.images import write_image

    images = [str(write_image(tmp_path / f"p{i}.jpg", "jpeg", shade=i * 40)) for i in range(3)]
    result = piper(
        ready, "media", "add-photos", *images, "--title", "Trip", "--cover", "2", "--json"
    )
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert row["kind"] == "photo_set" and row["images"] == 3 and row["cover_index"] == 1
    assert row["title"] == "Trip" and row["problem"] is None
    bad = tmp_path / "note.jpg"
    bad.write_text("not a picture")
    refused = piper(ready, "media", "add-photos", images[0], str(bad))
    assert refused.returncode != 0
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "note.jpg" in lines[0] and "Traceback" not in refused.stderr
