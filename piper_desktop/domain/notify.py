"""What the operator is told, and where: the words of a notification and its settings.

Every final state (published, failed) and every job that needs a person produces a
notification; Telegram gets it too when `telegram.bot_token` and `telegram.chat_id` are
set. The sending itself lives with the engine (it owns the HTTP clients).
"""

from __future__ import annotations

from dataclasses import dataclass

from .settings import SettingsService

NOTIFY_KINDS = frozenset({"published", "failed", "needs_attention"})
HEADLINES = {
    "published": "Published",
    "failed": "Failed",
    "needs_attention": "Needs your attention",
}
TELEGRAM_LIMIT = 4096


@dataclass(frozen=True)
class TelegramTarget:
    bot_token: str
    chat_id: str
    base_url: str


def telegram_target(settings: SettingsService) -> TelegramTarget | None:
    """Where Telegram notifications go, or None when they are not configured."""
    token = settings.get("telegram.bot_token")
    chat = settings.get("telegram.chat_id")
    if not token or not chat:
        return None
    return TelegramTarget(str(token), str(chat), str(settings.get("telegram.base")))


def notification_text(
    kind: str, job_id: int | None, message: str, account: str | None = None
) -> str:
    headline = HEADLINES.get(kind, kind.replace("_", " ").capitalize())
    subject = f"job {job_id}" if job_id is not None else "Piper"
    if account:
        subject += f" (@{account})"
    text = f"Piper · {headline}: {subject}\n{message}"
    return text if len(text) <= TELEGRAM_LIMIT else text[: TELEGRAM_LIMIT - 1] + "…"
