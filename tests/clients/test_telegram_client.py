"""The Telegram client's long polling, files and errors against the stand-in."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.telegram import DownloadStopped, TelegramClient, conflict, too_big
from piper_desktop.sandbox.telegram import TelegramSandbox


def test_updates_offsets_and_files(tmp_path: Path) -> None:
    with TelegramSandbox() as server:
        assert isinstance(server, TelegramSandbox)
        with TelegramClient(server.token, base_url=server.base_url) as bot:
            assert bot.get_me()["username"] == "piper_sandbox_bot"
            first = server.send_text(5, "hello")
            video = server.send_video(5, b"\x00" * 70_000, caption="c", name="v.mp4")
            got = bot.get_updates(timeout=0)
            assert [u["update_id"] for u in got] == [first["update_id"], video["update_id"]]
            # asking from the next offset confirms both: they are gone
            assert bot.get_updates(video["update_id"] + 1, timeout=0) == []
            assert server.pending_updates == 0
            info = bot.get_file(video["message"]["video"]["file_id"])
            dest = tmp_path / "v.mp4"
            assert bot.download(info["file_path"], dest) == 70_000
            assert stat.S_IMODE(dest.stat().st_mode) == 0o600
            # a stopped download leaves nothing behind
            with pytest.raises(DownloadStopped):
                bot.download(info["file_path"], tmp_path / "w.mp4", stopping=lambda: True)
            assert sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]
            big = server.send_video(5, b"x", size=21 * 1024 * 1024)
            with pytest.raises(ApiError) as refused:
                bot.get_file(big["message"]["video"]["file_id"])
            assert too_big(refused.value)


def test_a_waiting_poll_is_ended_by_a_newer_one() -> None:
    with TelegramSandbox() as server:
        assert isinstance(server, TelegramSandbox)
        errors: list[ApiError] = []
        with TelegramClient(server.token, base_url=server.base_url) as waiting:

            def poll() -> None:
                try:
                    waiting.get_updates(timeout=30)
                except ApiError as exc:
                    errors.append(exc)

            thread = threading.Thread(target=poll)
            thread.start()
            with TelegramClient(server.token, base_url=server.base_url) as newer:
                while thread.is_alive():  # until the waiting poll is ended
                    newer.get_updates(timeout=0)
                    thread.join(0.2)
        assert len(errors) == 1 and conflict(errors[0])
        assert "terminated by other getUpdates request" in str(errors[0])


def test_429_waits_as_asked_or_gives_up_when_stopping() -> None:
    with TelegramSandbox() as server:
        assert isinstance(server, TelegramSandbox)
        waited: list[float] = []
        with TelegramClient(
            server.token, base_url=server.base_url, wait=lambda s: waited.append(s) or True
        ) as bot:
            server.rate_limit("sendMessage", retry_after=3, times=2)
            bot.send_message(5, "hi")
            assert waited == [3.0, 3.0]
        with TelegramClient(
            server.token, base_url=server.base_url, wait=lambda s: False
        ) as stopping:
            server.rate_limit("sendMessage", retry_after=3)
            with pytest.raises(ApiError) as limited:
                stopping.send_message(5, "hi")
            assert limited.value.http_status == 429 and limited.value.retry_after == 3.0


def test_a_local_bot_api_server_gives_its_own_path(tmp_path: Path) -> None:
    with TelegramSandbox(variant="local") as server:
        assert isinstance(server, TelegramSandbox)
        with TelegramClient(server.token, base_url=server.base_url) as bot:
            sent = server.send_document(5, b"y" * 1000, name="big.mp4", size=30 * 1024 * 1024)
            info = bot.get_file(sent["message"]["document"]["file_id"])
            assert Path(info["file_path"]).is_absolute()
            assert bot.download(info["file_path"], tmp_path / "big.mp4") == 1000
        assert not any(r.path.startswith("/file/") for r in server.requests)
