"""Photo posts: images probed by PyAV, and TikTok's limits (count, format, size, title,
description, cover index) refused in one line before anything is sent."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piper_desktop.domain.photos import (
    TIKTOK_PHOTOS,
    ImageError,
    ImageFacts,
    probe_image,
)
from piper_desktop.sandbox.images import write_image


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_probe_reads_format_and_size(tmp_path: Path, fmt: str) -> None:
    path = write_image(tmp_path / f"p.{fmt}", fmt, 120, 200)
    facts = probe_image(path)
    assert (facts.format, facts.width, facts.height) == (fmt, 120, 200)
    assert facts.size == path.stat().st_size


def test_probe_refuses_text_and_video(tmp_path: Path) -> None:
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image at all")
    with pytest.raises(ImageError, match=r"notes\.jpg"):
        probe_image(bad)
    with pytest.raises(ImageError, match=r"missing\.jpg"):
        probe_image(tmp_path / "missing.jpg")


def _facts(fmt: str = "jpeg", w: int = 1080, h: int = 1920, size: int = 1000) -> ImageFacts:
    return ImageFacts(f"/x/img.{fmt}", fmt, w, h, size)


def test_tiktok_limits() -> None:
    ok = [_facts()]
    check = TIKTOK_PHOTOS.post_problem
    assert check(ok, title="t", description="d") is None
    assert check([], title="", description="") == "a photo post needs at least one image"
    assert "at most 35" in (check(ok * 36, title="", description="") or "")
    assert check(ok * 35, title="", description="") is None
    assert "at most 90" in (check(ok, title="x" * 91, description="") or "")
    assert check(ok, title="x" * 90, description="y" * 4000) is None
    assert "at most 4000" in (check(ok, title="", description="y" * 4001) or "")
    assert "cover index 1" in (check(ok, title="", description="", cover_index=1) or "")
    assert "PNG" in (check([_facts("png")], title="", description="") or "")
    assert "1080x1920" in (check([_facts(w=1081, h=1081)], title="", description="") or "")
    assert "20 MB" in (check([_facts(size=21 * 1024 * 1024)], title="", description="") or "")


images = st.lists(
    st.builds(
        ImageFacts,
        path=st.text(string.printable, max_size=40),
        format=st.sampled_from(["jpeg", "webp", "png", "gif", ""]),
        width=st.integers(-5, 5000),
        height=st.integers(-5, 5000),
        size=st.integers(-1, 50 * 1024 * 1024),
    ),
    max_size=40,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(images, st.text(max_size=120), st.text(max_size=50), st.integers(-3, 45))
def test_hostile_image_lists_get_one_line_or_pass(
    facts: list[ImageFacts], title: str, description: str, cover: int
) -> None:
    problem = TIKTOK_PHOTOS.post_problem(
        facts, title=title, description=description, cover_index=cover
    )
    fits = (
        1 <= len(facts) <= 35
        and 0 <= cover < len(facts)
        and len(title) <= 90
        and all(
            f.format in ("jpeg", "webp")
            and max(f.width, f.height) <= 1920
            and min(f.width, f.height) <= 1080
            and f.size <= 20 * 1024 * 1024
            for f in facts
        )
    )
    assert (problem is None) == fits
    if problem is not None:
        assert problem and "Traceback" not in problem
