"""Issue 16, item 8 and "media checked for what it is": the library takes only regular
files FFmpeg reads as video (PyAV), says why it refuses the rest, and flags items whose
file later stops being a video without removing them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.media_limits import TIKTOK_API, TIKTOK_WEB
from piper_desktop.domain.mediafile import NotMedia, probe
from piper_desktop.domain.services import Services
from piper_desktop.sandbox.demo import gradient_png
from tests.conftest import make_video


def test_a_real_video_is_probed(services: Services, tmp_path: Path) -> None:
    video = make_video(tmp_path, "walk.mp4", seconds=2, width=480, height=854, fps=30)
    facts = probe(video)
    assert (facts.container, facts.video_codec) == ("mp4", "h264")
    assert (facts.width, facts.height, facts.fps) == (480, 854, 30)
    assert facts.duration_sec == pytest.approx(2.0, abs=0.1)
    item, created = services.media.add(video)
    assert created and item.duration_sec == pytest.approx(2.0, abs=0.1)
    assert services.media.to_dict(item)["problem"] is None


def _refused(services: Services, path: Path) -> str:
    with pytest.raises(ValidationError) as caught:
        services.media.add(path)
    assert caught.value.field == "path"
    assert services.media.count() == 0
    return caught.value.reason


def test_what_is_not_a_video_is_refused_with_the_reason(services: Services, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("this is a text file\n" * 50)
    assert "is not a video file" in _refused(services, text)
    assert "is not a video file" in _refused(services, Path("/etc/passwd"))
    picture = tmp_path / "cover.mp4"
    picture.write_bytes(gradient_png(64, 64, 1))
    assert "still picture" in _refused(services, picture)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert "is empty" in _refused(services, empty)


def test_only_regular_files_and_no_links_out_of_their_folder(
    services: Services, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)
    assert "named pipe" in _refused(services, fifo)  # refused, not read (it would block)
    assert "a device" in _refused(services, Path("/dev/null"))
    assert "a folder" in _refused(services, tmp_path)
    shadow = tmp_path / "shadow.mp4"
    shadow.symlink_to("/etc/shadow")
    assert "outside" in _refused(services, shadow)
    # a folder with a link out of it: the link is refused, the real video is added
    folder = tmp_path / "videos"
    folder.mkdir()
    make_video(folder, "real.mp4")
    (folder / "escape.mp4").symlink_to("/etc/passwd")
    files = services.media.expand_paths([folder])
    assert {f.name for f in files} == {"real.mp4", "escape.mp4"}
    with pytest.raises(ValidationError, match="outside"):
        services.media.add(folder / "escape.mp4")
    assert services.media.add(folder / "real.mp4")[1]
    # a link that stays in its folder is the file it points to
    (folder / "alias.mp4").symlink_to(folder / "real.mp4")
    item, created = services.media.add(folder / "alias.mp4")
    assert not created and item.path == str(folder / "real.mp4")


def test_a_library_file_that_stops_being_a_video_is_flagged_not_removed(
    services: Services, tmp_path: Path
) -> None:
    video = make_video(tmp_path, "clip.mp4")
    item, _ = services.media.add(video)
    fine = services.media.add(make_video(tmp_path, "fine.mp4"))[0]
    video.write_text("overwritten by a text editor")
    flagged = services.media.check()
    assert [(i.id, "is not a video file" in reason) for i, reason in flagged] == [(item.id, True)]
    assert services.media.count() == 2 and services.media.get(item.id).path == str(video)
    assert services.media.to_dict(services.media.get(fine.id))["problem"] is None
    video.unlink()
    [(_, reason)] = services.media.check([item.id])
    assert "missing" in reason


def test_platform_limits_name_what_does_not_fit(tmp_path: Path) -> None:
    ok = probe(make_video(tmp_path, "ok.mp4"))
    assert TIKTOK_API.problem(ok) is None and TIKTOK_WEB.problem(ok) is None
    slow = probe(make_video(tmp_path, "slow.mp4", fps=15))
    assert "15 fps; TikTok needs at least 23" in (TIKTOK_API.problem(slow) or "")
    tiny = probe(make_video(tmp_path, "tiny.mp4", width=160, height=284))
    assert "160x284; TikTok needs at least 360" in (TIKTOK_API.problem(tiny) or "")
    mpeg4 = probe(make_video(tmp_path, "old.mp4", codec="mpeg4"))
    assert "encoded as mpeg4" in (TIKTOK_API.problem(mpeg4) or "")
    assert TIKTOK_WEB.problem(mpeg4) is None  # the web page takes it
    long = probe(make_video(tmp_path, "long.mp4", seconds=12))
    assert "lasts 12 s; TikTok takes at most 10 s" in (TIKTOK_API.problem(long, 10) or "")
    assert TIKTOK_API.problem(long, 60) is None
    big = probe(make_video(tmp_path, "big.mp4", size=5 * 1024**3))  # sparse
    assert "5.0 GB; TikTok takes at most 4 GB" in (TIKTOK_API.problem(big) or "")


def test_probe_errors_are_not_media_errors(tmp_path: Path) -> None:
    with pytest.raises(NotMedia, match="cannot read"):
        probe(tmp_path / "missing.mp4")
