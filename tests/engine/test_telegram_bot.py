"""The Telegram intake bot (intake/telegram_bot.py) end to end: the Telegram stand-in
sends it videos and commands, the real engine publishes on the Upload-Post stand-in,
and the chat hears back."""

from __future__ import annotations

import logging
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from piper_desktop.domain import origins
from piper_desktop.domain.intake import Target, queue_file
from piper_desktop.domain.services import Services
from piper_desktop.domain.telegram_chats import allow
from piper_desktop.engine import Engine, ManualClock
from piper_desktop.engine.hosted import EngineControls, HostContext
from piper_desktop.intake.telegram_bot import CONFLICT_LINE, SOURCE, TelegramBot, telegram_bot
from piper_desktop.sandbox.telegram import TelegramSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.conftest import make_video
from tests.engine.helpers import add_account, make_engine, use_upload_post

CHAT = 4242
BOT = "piper_desktop.intake.telegram_bot:telegram_bot"


def configure(
    services: Services, telegram: TelegramSandbox, upload_post: UploadPostSandbox
) -> None:
    use_upload_post(services, upload_post)
    services.settings.set("telegram.bot_token", telegram.token)
    services.settings.set("telegram.base", telegram.base_url)
    add_account(services, "carol")
    allow(services, CHAT, account="carol")


def context(services: Services, clock: ManualClock, engine: Engine, data_dir: Path) -> HostContext:
    controls = EngineControls(lambda: engine.state, engine.pause, engine.resume, engine.wake)
    return HostContext(services, services.events, clock, controls, data_dir)


@contextmanager
def running_bot(
    services: Services, clock: ManualClock, data_dir: Path, engine: Engine | None = None
) -> Iterator[TelegramBot]:
    engine = engine or make_engine(services, clock)
    bot = telegram_bot(context(services, clock, engine, data_dir))
    assert bot is not None
    bot.start()
    try:
        yield bot
    finally:
        bot.stop()


def reply(telegram: TelegramSandbox, words: str, chat: int = CHAT) -> str:
    found = telegram.wait_for_message(
        lambda m: str(m["chat"]["id"]) == str(chat) and words in m["text"]
    )
    assert found is not None, f"no reply with {words!r}: {telegram.texts(chat)}"
    return str(found["text"])


def test_a_video_is_queued_published_and_the_chat_told(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    configure(services, telegram, upload_post)
    engine = make_engine(services, clock)
    with running_bot(services, clock, tmp_path / "data", engine):
        telegram.send_video(CHAT, make_video(tmp_path, "in.mp4"), caption="sunset #beach")
        queued = reply(telegram, "Queued job")
        [job] = services.jobs.list()
        assert f"Queued job {job.id} for @carol at " in queued
        assert job.caption == "sunset #beach" and job.route == "upload_post"
        assert job.scheduled_at is not None and job.scheduled_at >= clock.now()
        # the file was fetched into the data dir's owner-only intake folder
        media = services.media.get(job.media_id)
        assert Path(media.path).parent == tmp_path / "data" / "intake" / "telegram"
        assert stat.S_IMODE(Path(media.path).stat().st_mode) == 0o600
        clock.set(job.scheduled_at)
        engine.run_once()
        assert services.jobs.get(job.id).status == "published"
        told = reply(telegram, "Published")
        assert f"job {job.id} (@carol)" in told
    assert telegram.token not in "".join(telegram.texts(CHAT))


def test_a_chat_not_allowed_is_ignored_and_logged_once_without_content(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure(services, telegram, upload_post)
    with caplog.at_level(logging.INFO, logger="piper"), running_bot(services, clock, tmp_path):
        telegram.send_text(999, "/pause secret words")
        telegram.send_video(999, make_video(tmp_path, "x.mp4"), caption="stranger caption")
        telegram.send_text(CHAT, "/help")
        reply(telegram, "/accounts")
    assert telegram.texts(999) == []
    assert services.jobs.list() == []
    ignored = [r.getMessage() for r in caplog.records if "ignored chat 999" in r.getMessage()]
    assert len(ignored) == 1
    assert not any(
        "secret words" in r.getMessage() or "stranger" in r.getMessage() for r in caplog.records
    )
    assert not any(r.path.endswith("/getFile") for r in telegram.requests)


def test_a_video_over_20_mb_is_answered(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    configure(services, telegram, upload_post)
    video = make_video(tmp_path, "small.mp4")
    with running_bot(services, clock, tmp_path):
        # the update says how big it is: no getFile asked
        telegram.send_video(CHAT, video, caption="big", size=25 * 1024 * 1024)
        assert "too big for the Telegram Bot API (25 MB)" in reply(telegram, "too big")
        assert not any(r.path.endswith("/getFile") for r in telegram.requests)
        # an update without file_size: getFile answers "file is too big"
        telegram.send_video(CHAT, video, caption="big", size=25 * 1024 * 1024, omit=("file_size",))
        telegram.wait_for_message(lambda m: len(telegram.texts(CHAT)) >= 2)
        assert len([t for t in telegram.texts(CHAT) if "at most 20 MB" in t]) == 2
        assert any(r.path.endswith("/getFile") and r.status == 400 for r in telegram.requests)
    assert services.jobs.list() == []


def test_a_local_bot_api_server_lifts_the_limit(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    tmp_path: Path,
) -> None:
    with TelegramSandbox(variant="local") as telegram:
        assert isinstance(telegram, TelegramSandbox)
        configure(services, telegram, upload_post)
        services.settings.set("telegram.local_server", True)
        big = make_video(tmp_path, "big.mp4", size=21 * 1024 * 1024)
        with running_bot(services, clock, tmp_path / "data"):
            telegram.send_video(CHAT, big, caption="the long cut")
            reply(telegram, "Queued job")
        [job] = services.jobs.list()
        assert services.media.get(job.media_id).size == 21 * 1024 * 1024
        # a local server answers its own absolute path, which it does not serve
        assert not any(r.path.startswith("/file/") for r in telegram.requests)


def test_documents_that_are_videos_are_taken_and_others_refused(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    configure(services, telegram, upload_post)
    with running_bot(services, clock, tmp_path):
        telegram.send_document(CHAT, make_video(tmp_path, "doc.mp4"), caption="as a file")
        reply(telegram, "Queued job")
        telegram.send_document(
            CHAT, b"%PDF-1.4", name="brief.pdf", mime="application/pdf", caption="x"
        )
        assert "not a video (application/pdf)" in reply(telegram, "not a video")
        # no mime type sent: the name tells
        telegram.send_document(
            CHAT, make_video(tmp_path, "named.mov"), name="named.mov", mime=None, caption="y"
        )
        telegram.wait_for_message(
            lambda m: sum("Queued job" in t for t in telegram.texts(CHAT)) == 2
        )
        telegram.send_video(CHAT, make_video(tmp_path, "bare.mp4"))
        assert "Add a caption" in reply(telegram, "caption")
    assert len(services.jobs.list()) == 2


def test_every_command(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    configure(services, telegram, upload_post)
    other = add_account(services, "dave")
    foreign = queue_file(
        services, make_video(tmp_path, "f.mp4"), Target(str(other.id)), caption="x", now=clock.now()
    )
    engine = make_engine(services, clock)
    with running_bot(services, clock, tmp_path, engine):
        telegram.send_text(CHAT, "/start")
        assert "for account tiktok:carol" in reply(telegram, "Piper queues")
        telegram.send_text(CHAT, "/accounts")
        assert "@carol (upload_post): next slot 2030-01-07" in reply(telegram, "next slot")
        telegram.send_text(CHAT, "/queue")
        reply(telegram, "Nothing you sent is waiting")
        telegram.send_video(CHAT, make_video(tmp_path, "q.mp4"), caption="queued one")
        reply(telegram, "Queued job")
        [job] = [j for j in services.jobs.list() if j.account_id != other.id]
        telegram.send_text(CHAT, "/queue")
        assert f"job {job.id} @carol queued, 2030-01-07" in reply(telegram, f"job {job.id} @carol")
        telegram.send_text(CHAT, f"/status@piper_sandbox_bot {job.id}")
        reply(telegram, f"job {job.id} @carol queued")
        # another account's job is not this chat's
        telegram.send_text(CHAT, f"/status {foreign.jobs[0].id}")
        reply(telegram, f"No job {foreign.jobs[0].id} for this chat")
        telegram.send_text(CHAT, "/status")
        reply(telegram, "Which job?")
        telegram.send_text(CHAT, "/pause")
        reply(telegram, "Paused")
        assert engine.state == "paused"
        telegram.send_text(CHAT, "/resume")
        reply(telegram, "Publishing again")
        assert engine.state == "running"
        telegram.send_text(CHAT, "/frobnicate")
        reply(telegram, "I don't know /frobnicate")
        # a command for another bot in a group is not ours
        telegram.send_text(CHAT, "/pause@someone_else_bot")
        telegram.send_text(CHAT, "/help")
        reply(telegram, "/status JOB")
    assert engine.state == "running"


def test_a_restart_neither_requeues_nor_loses(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    configure(services, telegram, upload_post)
    with running_bot(services, clock, tmp_path) as bot:
        telegram.send_video(CHAT, make_video(tmp_path, "one.mp4"), caption="first")
        reply(telegram, "Queued job")
        offset = bot.offset
    assert offset is not None and services.settings.get("telegram.offset") == offset
    [first] = services.jobs.list()
    # while Piper is down: a message arrives
    telegram.send_video(CHAT, make_video(tmp_path, "two.mp4"), caption="second")
    engine = make_engine(services, clock)
    with running_bot(services, clock, tmp_path, engine) as bot:
        telegram.wait_for_message(
            lambda m: sum("Queued job" in t for t in telegram.texts(CHAT)) == 2
        )
        # the published job of before the restart is still told
        clock.set(first.scheduled_at)  # type: ignore[arg-type]
        engine.run_once()
        reply(telegram, f"Published: job {first.id}")
    jobs = services.jobs.list()
    assert sorted(j.caption for j in jobs) == ["first", "second"]
    asked = [r.json().get("offset") for r in telegram.requests if r.path.endswith("/getUpdates")]
    assert offset in asked


def test_a_crash_between_queueing_and_acknowledging_queues_once(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    """The state a crash leaves: the claim written, the job made, the offset not stored
    (so Telegram hands out the same update again)."""
    configure(services, telegram, upload_post)
    video = make_video(tmp_path, "crash.mp4")
    update = telegram.send_video(CHAT, video, caption="once only")
    ref = f"{CHAT}:{update['message']['message_id']}"
    claim = origins.claim(services.db, SOURCE, ref)
    made = queue_file(services, video, Target("carol"), caption="once only", now=clock.now())
    assert services.settings.get("telegram.offset") is None
    with running_bot(services, clock, tmp_path):
        answer = reply(telegram, "Queued job")
    assert claim.resumed is False
    [job] = services.jobs.list()
    assert job.id == made.jobs[0].id
    assert f"Queued job {job.id}" in answer
    assert origins.refs_of_job(services.db, SOURCE, job.id) == [ref]
    assert services.settings.get("telegram.offset") == update["update_id"] + 1


def test_a_crash_before_any_job_still_queues(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    configure(services, telegram, upload_post)
    update = telegram.send_video(CHAT, make_video(tmp_path, "early.mp4"), caption="not lost")
    origins.claim(services.db, SOURCE, f"{CHAT}:{update['message']['message_id']}")
    with running_bot(services, clock, tmp_path):
        reply(telegram, "Queued job")
    assert [j.caption for j in services.jobs.list()] == ["not lost"]


def test_429_is_waited_out_and_409_named(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure(services, telegram, upload_post)
    telegram.conflict(times=1)
    telegram.rate_limit("sendMessage", retry_after=1)
    with (
        caplog.at_level(logging.WARNING, logger="piper"),
        running_bot(services, clock, tmp_path) as bot,
    ):
        telegram.send_text(CHAT, "/help")
        reply(telegram, "/accounts")
        assert bot.status().startswith("connected as @piper_sandbox_bot")
    assert any(CONFLICT_LINE in r.getMessage() for r in caplog.records)
    sends = [r.status for r in telegram.requests if r.path.endswith("/sendMessage")]
    assert sends == [429, 200]


def test_update_shapes_with_extra_and_missing_fields(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    configure(services, telegram, upload_post)
    telegram.push_update({"edited_message": {"chat": {"id": CHAT}, "text": "edit"}})
    telegram.push_update({"update_id": "broken"})
    telegram.push_update({"message": {"message_id": 1, "text": "/help"}})  # no chat
    with running_bot(services, clock, tmp_path):
        telegram.send_video(
            CHAT,
            make_video(tmp_path, "shape.mp4"),
            caption="new api",
            omit=("file_name", "mime_type", "thumbnail", "file_size"),
            extra={"show_caption_above_media": True, "has_media_spoiler": False},
        )
        reply(telegram, "Queued job")
    assert len(services.jobs.list()) == 1


def test_a_slow_download_completes(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    configure(services, telegram, upload_post)
    telegram.download_rate = 256 * 1024
    with running_bot(services, clock, tmp_path):
        telegram.send_video(CHAT, make_video(tmp_path, "slow.mp4", size=600 * 1024), caption="slow")
        reply(telegram, "Queued job")


def test_the_engine_hosts_the_bot_and_stops_it_promptly(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    configure(services, telegram, upload_post)
    engine = Engine(
        services,
        clock=ManualClock(auto_advance=False),
        watch_system=False,
        data_dir=tmp_path,
        hosted=(BOT,),
    )
    engine.start()
    try:
        telegram.send_text(CHAT, "/help")
        reply(telegram, "/accounts")
        [bot] = engine.hosted.running
        assert isinstance(bot, TelegramBot)
        assert engine.hosted.statuses()["telegram"].startswith("connected as @piper_sandbox_bot")
    finally:
        engine.stop(timeout=5)
    # the long poll (25 s) was ended by the stop, not waited out
    assert not bot._poller.is_alive()


def test_no_token_or_no_chat_means_no_bot(
    services: Services, clock: ManualClock, telegram: TelegramSandbox, tmp_path: Path
) -> None:
    engine = make_engine(services, clock)
    assert telegram_bot(context(services, clock, engine, tmp_path)) is None
    services.settings.set("telegram.bot_token", telegram.token)
    assert telegram_bot(context(services, clock, engine, tmp_path)) is None


def test_a_failed_download_is_answered_and_leaves_nothing_under_way(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    from piper_desktop.sandbox.httpbase import Fault
    from piper_desktop.store.models import IntakeOrigin

    configure(services, telegram, upload_post)
    telegram.faults.add(Fault(r"^/file/", status=500, body={"error": "boom"}))
    with running_bot(services, clock, tmp_path):
        telegram.send_video(CHAT, make_video(tmp_path, "fail.mp4"), caption="lost cause")
        assert "file download: HTTP 500" in reply(telegram, "Not queued")
    assert services.jobs.list() == []
    with services.db.session() as session:
        assert session.query(IntakeOrigin).count() == 0


def test_a_stop_mid_download_leaves_the_update_for_next_time(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    configure(services, telegram, upload_post)
    telegram.download_rate = 128 * 1024  # 2 MB: about 16 s
    engine = make_engine(services, clock)
    bot = telegram_bot(context(services, clock, engine, tmp_path))
    assert bot is not None
    bot.start()
    telegram.send_video(
        CHAT, make_video(tmp_path, "long.mp4", size=2 * 1024 * 1024), caption="later"
    )
    assert telegram.wait_for_downloads(1)
    bot.stop()
    assert not bot._poller.is_alive()
    assert services.jobs.list() == []
    assert services.settings.get("telegram.offset") is None
    assert not list((tmp_path / "intake" / "telegram").iterdir())  # no partial file
    telegram.download_rate = 0
    with running_bot(services, clock, tmp_path):
        reply(telegram, "Queued job")
    assert [j.caption for j in services.jobs.list()] == ["later"]


def test_a_group_names_each_refusal_and_a_restart_tells_what_it_missed(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    configure(services, telegram, upload_post)
    group_chat = -100777
    carol = services.accounts.find("carol")
    services.accounts.edit(carol.id, {"group": "team"})
    dave = add_account(services, "dave", group="team")
    allow(services, group_chat, group="team")
    video = make_video(tmp_path, "shared.mp4")
    queue_file(services, video, Target(str(dave.id)), caption="already", now=clock.now())
    with running_bot(services, clock, tmp_path / "data"):
        telegram.send_video(group_chat, video, caption="for the team")
        answer = reply(telegram, "Queued job", chat=group_chat)
    [job] = [j for j in services.jobs.list() if j.account_id == carol.id]
    assert f"Queued job {job.id} for @carol" in answer
    assert "Not queued for @dave:" in answer
    # while no bot runs, the job's file goes missing and the engine hands it to a person
    Path(services.media.get(job.media_id).path).unlink()
    clock.set(job.scheduled_at)  # type: ignore[arg-type]
    make_engine(services, clock).run_once()
    assert services.jobs.get(job.id).status == "needs_attention"
    with running_bot(services, clock, tmp_path / "data"):
        told = reply(telegram, "Needs your attention", chat=group_chat)
        assert f"job {job.id} (@carol)" in told
    with running_bot(services, clock, tmp_path / "data"):
        telegram.send_text(group_chat, "/help")
        reply(telegram, "/accounts", chat=group_chat)
    assert sum("Needs your attention" in t for t in telegram.texts(group_chat)) == 1


def test_one_poller_per_bot_and_the_other_takes_over(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two engines of one store (two desktops of a team, or the tray and `piper run`):
    one polls the bot, the other waits and takes over when the first stops."""
    monkeypatch.setattr("piper_desktop.intake.telegram_bot.SINGLETON_RETRY", 0.2)
    configure(services, telegram, upload_post)
    engine = make_engine(services, clock)
    first = telegram_bot(context(services, clock, engine, tmp_path / "data"))
    second = telegram_bot(context(services, clock, engine, tmp_path / "data"))
    assert first is not None and second is not None
    first.start()
    try:
        telegram.send_text(CHAT, "/help")
        reply(telegram, "/accounts")
        second.start()
        deadline = time.monotonic() + 20
        while "another Piper polls this bot" not in second.status():  # set by its thread
            assert time.monotonic() < deadline, second.status()
            time.sleep(0.05)
        first.stop()
        telegram.send_text(CHAT, "/queue")
        reply(telegram, "Nothing you sent is waiting.")
        assert second._one.held
    finally:
        first.stop()
        second.stop()
