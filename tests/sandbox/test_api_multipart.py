"""The sandbox's streaming multipart reader."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from piper_desktop.sandbox.multipart import MultipartError, boundary_from, read_multipart


def _encoded(fields: dict, files: dict) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://127.0.0.1/", data=fields, files=files)
    return request.read(), request.headers["Content-Type"]


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
def test_fields_and_file_in_any_block_size(block: int) -> None:
    payload = b"\r\n--not-the-boundary\r\n" * 50 + bytes(range(256)) * 40
    body, ctype = _encoded(
        {"user": "alice", "platform[]": ["tiktok", "instagram"], "title": "Ünïcode ✓"},
        {"video": ("clip.mp4", payload, "video/mp4")},
    )
    blocks = [body[i : i + block] for i in range(0, len(body), block)]
    form = read_multipart(blocks, boundary_from(ctype))
    assert form.get("user") == "alice"
    assert form.get_all("platform[]") == ["tiktok", "instagram"]
    assert form.get("title") == "Ünïcode ✓"
    video = form.file("video")
    assert video is not None
    assert (video.filename, video.content_type, video.size) == (
        "clip.mp4",
        "video/mp4",
        len(payload),
    )
    assert video.sha256 == hashlib.sha256(payload).hexdigest()


def test_errors() -> None:
    with pytest.raises(MultipartError):
        boundary_from("application/json")
    body, ctype = _encoded({"a": "b"}, {"f": ("x", b"123")})
    with pytest.raises(MultipartError):
        read_multipart([body[:-20]], boundary_from(ctype))  # cut short
    with pytest.raises(MultipartError):
        read_multipart([body], b"other-boundary")
    with pytest.raises(MultipartError):
        read_multipart([body], boundary_from(ctype), max_field=0)
