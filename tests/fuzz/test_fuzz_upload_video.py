"""`POST /api/v1/upload-video` with any form fields, over real HTTP: 201, or a 4xx whose
JSON names a field — never a 500, never a traceback, never the token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from piper_desktop.domain.services import Services
from piper_desktop.intake.api.server import ApiServer
from piper_desktop.intake.api.token import ensure_token
from piper_desktop.sandbox.media import write_video
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import nasty_text

FIELDS = ["title", "user", "platforms", "platform[]", "route", "scheduled_date"]
values = st.one_of(
    nasty_text,
    st.sampled_from(["keeper_kept", "auto", "now", "tiktok", "upload_post", "2030-01-02T03:04"]),
    st.binary(max_size=16),  # not UTF-8 at all
)


@pytest.fixture(scope="module")
def api(fuzz_services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("fuzz-intake")
    fuzz_services.settings.set("api.token", "fuzz-token-" + "k" * 32)
    server = ApiServer(fuzz_services, folder, 0, max_upload_bytes=512 * 1024)
    server.start()
    token = ensure_token(fuzz_services.settings)
    video = write_video(tmp_path_factory.mktemp("fuzz-video") / "clip.mp4").read_bytes()
    with httpx.Client(
        base_url=server.address, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client, token, video
    server.stop()


@FUZZ
@given(
    fields=st.lists(st.tuples(st.sampled_from(FIELDS), values), max_size=8),
    video=st.sampled_from(["none", "real", "junk", "empty"]),
    name=nasty_text,
)
@example(
    fields=[("user", "keeper_kept"), ("scheduled_date", "yesterday")], video="real", name="a.mp4"
)
@example(fields=[("user", "keeper_kept"), ("route", "upload_post")], video="real", name="b.mp4")
@example(fields=[("user", b"\xff\xfe")], video="junk", name="\x00")
def test_upload_video_never_answers_500(
    api: Any, fields: list[tuple[str, Any]], video: str, name: str
) -> None:
    client, token, real = api
    content = {"none": None, "real": real, "junk": b"\x00junk" * 50, "empty": b""}[video]
    files: list[tuple[str, Any]] = [
        (key, (None, value if isinstance(value, bytes) else value.encode("utf-8", "replace")))
        for key, value in fields
    ]
    if content is not None:
        # a file name travels as UTF-8 (a lone surrogate cannot be sent at all)
        shown = name.encode("utf-8", "replace").decode("utf-8")
        files.append(("video", (shown or "v.mp4", content, "video/mp4")))
    if not files:
        files.append(("note", (None, b"x")))
    response = client.post("/api/v1/upload-video", files=files)
    assert response.status_code in (201, 409, 413, 422), response.text
    assert "Traceback" not in response.text and token not in response.text
    body = response.json()
    if response.status_code != 201:
        assert body["field"] and body["message"].startswith(body["field"]), body
