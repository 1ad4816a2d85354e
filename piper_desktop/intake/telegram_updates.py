"""Telegram updates as the bot reads them: one `Incoming` from any JSON, never an error.

The Bot API adds fields over time and leaves optional ones out; whatever arrives
(`getUpdates` answers are outside input), `parse_update` keeps what the bot uses and
drops the rest: the chat and message ids, a command with its arguments, the caption or
text, and a video or document to fetch. An update without a usable `update_id` is None
(it cannot be acknowledged on its own; a later one's offset confirms it).
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from typing import Any

COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?", re.DOTALL)
MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class Attachment:
    kind: str  # "video" (message.video) or "document"
    file_id: str
    file_name: str | None
    mime_type: str | None
    file_size: int | None

    @property
    def is_video(self) -> bool:
        """A video, or a document whose type (as sent, else by its name) is video/*."""
        if self.kind == "video":
            return True
        mime = self.mime_type or (mimetypes.guess_type(self.file_name or "")[0] or "")
        return mime.lower().startswith("video/")

    @property
    def shown_type(self) -> str:
        return self.mime_type or (mimetypes.guess_type(self.file_name or "")[0] or "unknown type")


@dataclass(frozen=True)
class Incoming:
    update_id: int
    chat_id: int | None = None  # None: not a message the bot serves (an edit, a poll...)
    message_id: int | None = None
    command: str | None = None  # lower case, without "/" and "@bot"
    args: str = ""
    text: str | None = None  # the text, or a file's caption
    attachment: Attachment | None = None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_INT:
        return None
    return value


def _str(value: Any, limit: int = 10_000) -> str | None:
    if not isinstance(value, str):
        return None
    return value[:limit]


def _attachment(message: dict[str, Any]) -> Attachment | None:
    for kind in ("video", "document"):
        raw = message.get(kind)
        if not isinstance(raw, dict):
            continue
        file_id = _str(raw.get("file_id"), 500)
        if not file_id:
            continue
        size = _int(raw.get("file_size"))
        return Attachment(
            kind,
            file_id,
            _str(raw.get("file_name"), 255),
            _str(raw.get("mime_type"), 255),
            size if size is not None and size >= 0 else None,
        )
    return None


def parse_update(raw: Any, bot_username: str | None = None) -> Incoming | None:
    """The update as the bot uses it; `bot_username`: a "/cmd@other_bot" is not ours."""
    if not isinstance(raw, dict):
        return None
    update_id = _int(raw.get("update_id"))
    if update_id is None:
        return None
    message = raw.get("message")
    if not isinstance(message, dict):
        return Incoming(update_id)
    chat = message.get("chat")
    chat_id = _int(chat.get("id")) if isinstance(chat, dict) else None
    if chat_id is None:
        return Incoming(update_id)
    message_id = _int(message.get("message_id"))
    attachment = _attachment(message)
    text = _str(message.get("caption")) if attachment else _str(message.get("text"))
    command, args = None, ""
    if attachment is None and text is not None:
        found = COMMAND.fullmatch(text.strip())
        if found:
            addressed = found.group(2)
            if not addressed or not bot_username or addressed.lower() == bot_username.lower():
                command = found.group(1).lower()
                args = (found.group(3) or "").strip()
    return Incoming(update_id, chat_id, message_id, command, args, text, attachment)
