"""Work through every door lands in the same place: a job made through the local API,
one sent to the Telegram bot and one made in the GUI's post editor go into the same
tables, are run by the same engine (hosting the bot and the API) and are published once
each on the Upload-Post stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from piper_desktop.domain.services import Services
from piper_desktop.domain.telegram_chats import allow
from piper_desktop.engine import Engine
from piper_desktop.intake.api.token import ensure_token
from piper_desktop.sandbox.telegram import TelegramSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.post_editor import PostEditor
from tests.conftest import make_video
from tests.engine.helpers import add_account, add_media

CHAT = 5151


@pytest.fixture
def upload_post() -> Iterator[UploadPostSandbox]:
    with UploadPostSandbox(polls_to_complete=1, rate_limit=(100_000, 60.0)) as sandbox:
        yield sandbox  # type: ignore[misc]


@pytest.fixture
def telegram() -> Iterator[TelegramSandbox]:
    with TelegramSandbox() as sandbox:
        yield sandbox  # type: ignore[misc]


def test_api_telegram_and_gui_jobs_are_published_once_each(
    ctx: AppContext,
    qtbot,
    data_dir: Path,
    tmp_path: Path,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
) -> None:
    services: Services = ctx.services
    services.settings.set("upload_post.api_key", upload_post.api_key)
    services.settings.set("upload_post.base", upload_post.api_base)
    services.settings.set("engine.check_seconds", 1)
    services.settings.set("telegram.bot_token", telegram.token)
    services.settings.set("telegram.base", telegram.base_url)
    for name in ("by_api", "by_bot", "by_gui"):
        add_account(services, name)
    allow(services, CHAT, account="by_bot")
    engine = Engine(
        services,
        data_dir=data_dir,
        watch_system=False,
        hosted_options={"api": True, "api_port": 0},
    )
    engine.start()
    try:
        served = {h.name: h for h in engine.hosted.running}
        assert set(served) >= {"api", "telegram"}

        # the local API
        token = ensure_token(services.settings)
        video = make_video(tmp_path, "api.mp4")
        with httpx.Client(
            base_url=served["api"].address,  # type: ignore[attr-defined]
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        ) as api:
            answer = api.post(
                "/api/v1/upload-video",
                data={"user": "by_api", "title": "through the API", "route": "upload_post"},
                files={"video": (video.name, video.read_bytes(), "video/mp4")},
            )
        assert answer.status_code == 201, answer.text

        # the Telegram bot
        telegram.send_video(CHAT, make_video(tmp_path, "bot.mp4"), caption="through the bot")
        assert telegram.wait_for_message(lambda m: "Queued job" in m["text"]) is not None

        # the GUI's post editor
        account = services.accounts.find("by_gui")
        media = add_media(services, tmp_path, "gui.mp4", title="gui")
        editor = PostEditor(ctx)
        qtbot.addWidget(editor)
        editor.media.setCurrentIndex(editor.media.findData(media.id))
        editor.account.setCurrentIndex(editor.account.findData(account.id))
        editor.route.setCurrentIndex(editor.route.findData("upload_post"))
        editor.caption.setPlainText("through the GUI")
        editor.save()
        assert editor.saved is not None
        engine.wake("a job from the GUI")

        def all_published() -> bool:
            jobs = services.jobs.list()
            return len(jobs) == 3 and all(j.status == "published" for j in jobs)

        qtbot.waitUntil(all_published, timeout=90_000)
        assert telegram.wait_for_message(lambda m: "Published" in m["text"]) is not None
    finally:
        engine.stop(timeout=10)

    jobs = {services.accounts.get(j.account_id).username: j for j in services.jobs.list()}
    assert {name: j.caption for name, j in jobs.items()} == {
        "by_api": "through the API",
        "by_bot": "through the bot",
        "by_gui": "through the GUI",
    }
    # each job reached the platform exactly once (its request id is the job's key)
    sent = [u["request_id"] for u in upload_post.uploads]
    assert sorted(sent) == sorted(j.uuid for j in jobs.values())
