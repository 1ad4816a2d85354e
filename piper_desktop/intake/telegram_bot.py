"""The Telegram intake bot, hosted by the engine (engine/hosted.py): long polling, no
public endpoint.

It runs when a bot token is set and at least one chat is allowed (`piper telegram
allow`). Only allowed chats are served; a message from any other chat gets no answer
and its chat id is logged once, without the content. A video (or a document that is a
video) with a caption is fetched into the data dir's intake folder and queued on the
chat's account or group at the next free slot (`domain/intake.queue_file`); the chat is
told the job(s) and slot(s), and later when each is published, failed or needs
attention (`domain/origins.py` keeps job → chat, so a restart still tells). Commands:
/start, /help, /accounts, /queue, /status JOB, /pause, /resume.

Exactly once: an update's offset is stored (`telegram.offset`) only after it was
handled; a video's in the same transaction as the origin rows of its jobs, after a
claim row written before anything was queued (`origins.claim`/`settle`), so a crash
in between makes the next run adopt the jobs already made rather than queue again.

Two threads: the poller (getUpdates, then each update in turn) and the sender (every
reply and notification, in order, off the engine's threads). Stopping ends a waiting
long poll at once by asking getUpdates again (Telegram answers the waiting one 409), and
abandons a download under way (the update comes again next time).
"""

from __future__ import annotations

import contextlib
import queue
import re
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ..clients.errors import ApiError
from ..clients.telegram import (
    CLOUD_DOWNLOAD_LIMIT,
    DownloadStopped,
    TelegramClient,
    conflict,
    too_big,
)
from ..domain import origins
from ..domain.errors import DomainError
from ..domain.events import EngineEvent, EventKind
from ..domain.intake import Queued, Target, intake_dir, queue_file, target_accounts
from ..domain.notify import notification_text
from ..domain.services import Services
from ..domain.slots import account_calendar, global_caps
from ..domain.telegram_chats import allowed_chats
from ..engine.hosted import HostContext
from ..logs import get_logger
from ..store.models import Job
from .telegram_updates import Attachment, Incoming, parse_update

log = get_logger("intake")

SOURCE = "telegram"
POLL_TIMEOUT = 25  # seconds a getUpdates waits for news
ALLOWED_UPDATES = ["message"]
STOP_WAIT = 5.0  # seconds stop() spends ending the long poll and a download
TELL = {EventKind.PUBLISHED, EventKind.FAILED, EventKind.NEEDS_ATTENTION}
HELP = (
    "Send me a video (or a video file as a document) with a caption: the caption is the "
    "post's text, and it is queued at the next free slot.\n"
    "/accounts: the accounts and their next free slots\n"
    "/queue: what you sent that is still waiting\n"
    "/status JOB: one job\n"
    "/pause, /resume: stop or restart publishing (jobs posting now carry on)"
)
CONFLICT_LINE = (
    "another program uses this bot (Telegram: terminated by other getUpdates request): "
    "stop it, or give Piper a bot of its own"
)


def telegram_bot(context: HostContext) -> TelegramBot | None:
    """The hosted bot, or None while no token is set or no chat is allowed."""
    settings = context.services.settings
    token = settings.get("telegram.bot_token")
    if not token or not allowed_chats(settings):
        return None
    return TelegramBot(context, str(token))


def when(moment: datetime | None) -> str:
    if moment is None:
        return "now"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def safe_name(name: str | None, fallback: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name or "").name).strip("._")
    return stem[:80] or fallback


class TelegramBot:
    name = "telegram"

    def __init__(
        self,
        context: HostContext,
        token: str,
        *,
        poll_timeout: int | None = None,
    ) -> None:
        self.context = context
        self.services = context.services
        settings = self.services.settings
        self.token = token
        self.base = str(settings.get("telegram.base"))
        self.local_server = bool(settings.get("telegram.local_server"))
        self.poll_timeout = int(
            poll_timeout
            if poll_timeout is not None
            else context.options.get("telegram_poll_timeout", POLL_TIMEOUT)
        )
        stored = settings.get("telegram.offset")
        self.offset: int | None = int(stored) if stored is not None else None
        self.username: str | None = None
        self.last_update: str | None = settings.get("telegram.last_update")
        self._status = "starting"
        self._status_lock = threading.Lock()
        self._stopping = threading.Event()
        self._outbox: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._ignored: set[int] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.client = TelegramClient(token, base_url=self.base, wait=self._pause)
        self._poller = threading.Thread(
            target=self._poll_safely, name="piper-telegram-bot", daemon=True
        )
        self._sender = threading.Thread(
            target=self._send_all, name="piper-telegram-replies", daemon=True
        )

    # --- Hosted ------------------------------------------------------------------------------
    def start(self) -> None:
        # what was published while nobody listened is told first
        for job in origins.untold(self.services.db, SOURCE):
            self._outbox.put(("told", (job.id, job.status, job.last_error or job.post_url or "")))
        self._unsubscribe = self.context.events.subscribe(self._event)
        self._sender.start()
        self._poller.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._outbox.put(None)
        # a newer getUpdates ends the waiting one at once (Telegram answers it 409); an
        # unreachable Telegram is not waited for long (the poller is a daemon thread)
        deadline = time.monotonic() + STOP_WAIT
        with TelegramClient(self.token, base_url=self.base, timeout=2.0) as nudge:
            while self._poller.is_alive() and time.monotonic() < deadline:
                with contextlib.suppress(ApiError):
                    nudge.get_updates(self.offset, timeout=0, limit=1)
                self._poller.join(0.25)
        self._sender.join(10.0)
        self.client.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def status(self) -> str:
        with self._status_lock:
            line = self._status
        return line + (f"; last update {self.last_update}" if self.last_update else "")

    def _set_status(self, line: str, *, warn: bool = False) -> None:
        with self._status_lock:
            changed = line != self._status
            self._status = line
        if changed and warn:
            log.warning("Telegram bot: %s", line)

    def _pause(self, seconds: float) -> bool:
        """Wait out a 429's retry_after; False when stopping (give up the call)."""
        return not self._stopping.wait(seconds)

    # --- polling -----------------------------------------------------------------------------
    def _poll_safely(self) -> None:
        try:
            self._poll()
        except Exception:  # the bot must never take the engine down
            log.exception("Telegram bot stopped")
            self._set_status("stopped after an error (see the log)")

    def _poll(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                if self.username is None:
                    me = self.client.get_me()
                    self.username = str(me.get("username") or "") or None
                updates = self.client.get_updates(
                    self.offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
            except ApiError as exc:
                if self._stopping.is_set():
                    return
                if conflict(exc):
                    self._set_status(CONFLICT_LINE, warn=True)
                elif exc.http_status == 401:
                    self.username = None
                    self._set_status(
                        "Telegram refused the bot token (401 Unauthorized): set telegram.bot_token again",
                        warn=True,
                    )
                else:
                    self._set_status(f"error: {exc}", warn=True)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            self._set_status(f"connected as @{self.username}" if self.username else "connected")
            before = self.offset
            for raw in updates:
                if self._stopping.is_set():
                    return  # not acknowledged: it comes again next time
                try:
                    self._handle(raw)
                except DownloadStopped:
                    return
                except Exception as exc:  # the store refused (locked, gone): ask again later
                    log.exception("Telegram update not handled")
                    self._set_status(f"error: {exc}", warn=True)
                    break
            if updates and self.offset == before:
                # nothing could be acknowledged: do not ask again at once
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, 60.0)

    def _handle(self, raw: Any) -> None:
        incoming = parse_update(raw, self.username)
        if incoming is None:
            return
        self.last_update = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            reply, acknowledged = self._serve(incoming)
        except DownloadStopped:
            raise
        except DomainError as exc:
            reply, acknowledged = f"Not queued: {exc}", False
        except ApiError as exc:
            reply, acknowledged = f"Not queued: Telegram: {exc}", False
        except Exception:
            log.exception("Telegram update %s could not be handled", incoming.update_id)
            reply, acknowledged = "Piper could not handle that message (see Piper's log).", False
        if not acknowledged:
            self._acknowledge(incoming)
        if reply and incoming.chat_id is not None:
            self._outbox.put(("text", (incoming.chat_id, reply)))

    def _acknowledge(self, incoming: Incoming, session: Session | None = None) -> None:
        """Store the next offset (in `session` when it must commit with other rows)."""
        offset = incoming.update_id + 1
        settings = self.services.settings

        def write(s: Session) -> None:
            settings.set_in(s, "telegram.offset", offset)
            settings.set_in(s, "telegram.last_update", self.last_update)

        if session is not None:
            write(session)
        else:
            with self.services.db.write() as s:
                write(s)
        self.offset = offset

    # --- what a chat asks ----------------------------------------------------------------------
    def _serve(self, incoming: Incoming) -> tuple[str | None, bool]:
        """The reply (None: none), and whether the update was acknowledged already."""
        chat = incoming.chat_id
        if chat is None:
            return None, False
        target = allowed_chats(self.services.settings).get(chat)
        if target is None:
            if chat not in self._ignored:
                self._ignored.add(chat)
                log.info(
                    "Telegram: ignored chat %s (not allowed; `piper telegram allow %s --account NAME`)",
                    chat,
                    chat,
                )
            return None, False
        if incoming.command is not None:
            return self._command(incoming, chat, target), False
        if incoming.attachment is not None:
            return self._file(incoming, chat, target, incoming.attachment)
        return "Send a video with a caption, or /help.", False

    def _command(self, incoming: Incoming, chat: int, target: Target) -> str:
        name, args = incoming.command, incoming.args
        if name in ("start", "help"):
            return f"Piper queues your videos for {target.describe()}.\n{HELP}"
        if name == "accounts":
            return self._accounts(target)
        if name == "queue":
            jobs = origins.open_jobs(self.services.db, SOURCE, f"{chat}:")
            if not jobs:
                return "Nothing you sent is waiting."
            return "\n".join(self._job_line(job) for job in jobs[:30])
        if name == "status":
            return self._status_of(chat, target, args)
        if name == "pause":
            self.context.engine.pause()
            return "Paused: no new jobs start; jobs posting now carry on. /resume to go on."
        if name == "resume":
            self.context.engine.resume()
            return "Publishing again."
        return f"I don't know /{name}. /help lists what I understand."

    def _accounts(self, target: Target) -> str:
        now = self.context.clock.now()
        lines = []
        with self.services.db.session() as session:
            caps = global_caps(session)
            for account in target_accounts(self.services, target):
                route = target.route or (account.routes[0] if account.routes else None)
                if route is None:
                    lines.append(f"@{account.username}: no route")
                    continue
                slot = account_calendar(session, account, caps, route=route).next_free(now)
                lines.append(f"@{account.username} ({route}): next slot {when(slot)}")
        return "\n".join(lines)

    def _job_line(self, job: Job) -> str:
        account = self._account_name(job.account_id)
        line = f"job {job.id} @{account} {job.status.replace('_', ' ')}"
        if job.status in ("queued", "retrying"):
            line += f", {when(job.next_attempt_at or job.scheduled_at)}"
        return line

    def _account_name(self, account_id: int) -> str:
        try:
            return self.services.accounts.get(account_id).username
        except DomainError:
            return str(account_id)

    def _status_of(self, chat: int, target: Target, args: str) -> str:
        text = args.strip().lstrip("#")
        if not text.isdigit():
            return "Which job? /status 12"
        job_id = int(text)
        try:
            job = self.services.jobs.get(job_id)
        except DomainError:
            job = None
        # a chat sees its own jobs and its accounts' jobs, no one else's
        mine = job is not None and (
            origins.from_ref_prefix(self.services.db, SOURCE, f"{chat}:", job_id)
            or job.account_id in {a.id for a in target_accounts(self.services, target)}
        )
        if job is None or not mine:
            return f"No job {job_id} for this chat."
        line = self._job_line(job)
        if job.post_url:
            line += f"\n{job.post_url}"
        reason = job.attention_reason or job.last_error
        if reason and job.status not in ("published", "queued"):
            line += f"\n{reason}"
        return line

    # --- a video in ------------------------------------------------------------------------
    def _file(
        self, incoming: Incoming, chat: int, target: Target, attachment: Attachment
    ) -> tuple[str | None, bool]:
        if not attachment.is_video:
            return (
                f"That file is not a video ({attachment.shown_type}): send a video, or a "
                "video file as a document.",
                False,
            )
        caption = (incoming.text or "").strip()
        if not caption:
            return (
                "Add a caption to the video: it becomes the post's text. Send it again with one.",
                False,
            )
        size = attachment.file_size
        if not self.local_server and size is not None and size > CLOUD_DOWNLOAD_LIMIT:
            return self._too_big(size), False
        ref = f"{chat}:{incoming.message_id}"
        db = self.services.db
        done = origins.handled(db, SOURCE, ref)
        if done:
            return None, False  # queued before; only its acknowledgement was lost
        claim = origins.claim(db, SOURCE, ref)
        try:
            info = self.client.get_file(attachment.file_id)
        except ApiError as exc:
            origins.settle(db, SOURCE, ref, [])
            if too_big(exc):
                return self._too_big(size), False
            raise
        path = str(info.get("file_path") or "")
        if not path:
            origins.settle(db, SOURCE, ref, [])
            return "Telegram gave no file to fetch; send the video again.", False
        name = safe_name(attachment.file_name, f"{attachment.kind}.mp4")
        dest = self._folder() / f"{chat}-{incoming.message_id}-{name}"
        announced = info.get("file_size") if isinstance(info.get("file_size"), int) else size
        try:
            self.client.download(path, dest, stopping=self._stopping.is_set, max_bytes=announced)
        except ApiError:
            origins.settle(db, SOURCE, ref, [])  # answered with the error: nothing under way
            raise
        try:
            queued = self._queue(claim, dest, target, caption)
        except DomainError:
            origins.settle(db, SOURCE, ref, [])  # refused whole: nothing is under way
            raise
        job_ids = [job.id for job in queued.jobs]
        origins.settle(db, SOURCE, ref, job_ids, also=lambda s: self._acknowledge(incoming, s))
        return self._queued_line(queued), True

    def _too_big(self, size: int | None) -> str:
        shown = f" ({size / 1024 / 1024:.0f} MB)" if size else ""
        return (
            f"That video is too big for the Telegram Bot API{shown}: bots can fetch at most "
            "20 MB. Send a smaller file, or point Piper at your own Bot API server "
            "(telegram.base, started with --local)."
        )

    def _folder(self) -> Path:
        if self.context.data_dir is not None:
            return intake_dir(self.context.data_dir, SOURCE)
        if self._tmp is None:  # an engine without a data dir (tests)
            self._tmp = tempfile.TemporaryDirectory(prefix="piper-telegram-")
        return Path(self._tmp.name)

    def _queue(self, claim: origins.Claim, path: Path, target: Target, caption: str) -> Queued:
        now = self.context.clock.now()
        if not claim.resumed:
            return queue_file(self.services, path, target, caption=caption, now=now)
        # an earlier run stopped after queueing some of this: keep its jobs, add the rest
        accounts = target_accounts(self.services, target)
        media, _ = self.services.media.add(path)
        made = origins.made_since(self.services.db, claim, media.id, [a.id for a in accounts])
        queued = Queued(media, [self.services.jobs.get(job_id) for job_id in made.values()])
        for account in accounts:
            if account.id in made:
                continue
            one = Target(str(account.id), None, target.route)
            more = queue_file(self.services, path, one, caption=caption, now=now)
            queued.jobs += more.jobs
            queued.refused += more.refused
        return queued

    def _queued_line(self, queued: Queued) -> str:
        lines = [
            f"Queued job {job.id} for @{self._account_name(job.account_id)} at {when(job.scheduled_at)}"
            for job in queued.jobs
        ]
        lines += [f"Not queued for @{name}: {why}" for name, why in queued.refused]
        return "\n".join(lines) or "Nothing was queued."

    # --- replies and notifications ------------------------------------------------------------
    def _event(self, event: EngineEvent) -> None:
        # on an engine thread: hand over and return
        if event.kind in TELL and event.job_id is not None:
            self._outbox.put(("event", (event.job_id, event.kind.value, event.message)))

    def _send_all(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                return
            kind, body = item
            try:
                if kind == "text":
                    chat, text = body
                    self.client.send_message(chat, text[:4096])
                else:
                    self._tell(kind, *body)
            except ApiError as exc:
                log.warning("Telegram reply not sent: %s", exc)
            except Exception:
                log.exception("Telegram reply not sent")

    def _tell(self, kind: str, job_id: int, status: str, message: str) -> None:
        db = self.services.db
        refs = origins.refs_of_job(db, SOURCE, job_id)
        if not refs:
            return
        account = None
        with contextlib.suppress(DomainError):
            account = self._account_name(self.services.jobs.get(job_id).account_id)
        text = notification_text(status, job_id, message, account)
        for chat in sorted({ref.split(":", 1)[0] for ref in refs}):
            self.client.send_message(chat, text)
        origins.mark_told(db, SOURCE, job_id, status)


def check_bot(services: Services) -> str:
    """One line on the bot for the settings page: connected as @name, or what is missing
    or wrong (asks getMe; the token never appears)."""
    settings = services.settings
    token = settings.get("telegram.bot_token")
    if not token:
        return "token missing: set the Telegram bot token (from @BotFather)"
    try:
        with TelegramClient(
            str(token), base_url=str(settings.get("telegram.base")), timeout=10.0
        ) as client:
            me = client.get_me()
    except ApiError as exc:
        if exc.http_status == 401:
            return "Telegram refused the bot token (401 Unauthorized)"
        return f"error: {exc}"
    line = f"connected as @{me.get('username') or me.get('first_name') or 'bot'}"
    if not allowed_chats(settings):
        line += "; no chat allowed yet, so the bot does not listen"
    return line
