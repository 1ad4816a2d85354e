"""The Telegram bot's update parser on generated updates: real shapes with fields left
out, changed or added, and plain noise. Never an exception; what it keeps has the
promised types; a well-formed video message keeps its file."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.telegram_chats import parse_chat_id, parse_chats
from piper_desktop.intake.telegram_updates import Incoming, parse_update
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import json_values, nasty_text

ids = st.one_of(st.integers(), st.integers(-(2**70), 2**70), st.booleans(), st.none(), nasty_text)
files = st.fixed_dictionaries(
    {"file_id": st.one_of(nasty_text, st.none(), st.integers())},
    optional={
        "file_unique_id": nasty_text,
        "file_name": st.one_of(nasty_text, st.integers()),
        "mime_type": st.one_of(st.sampled_from(["video/mp4", "application/pdf", ""]), nasty_text),
        "file_size": ids,
        "thumbnail": json_values,
        "duration": ids,
    },
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "message_id": ids,
        "chat": st.one_of(
            st.fixed_dictionaries({"id": ids}, optional={"type": nasty_text}), json_values
        ),
        "text": st.one_of(
            nasty_text, st.sampled_from(["/status 12", "/pause@bot", "/x@y z"]), json_values
        ),
        "caption": st.one_of(nasty_text, json_values),
        "video": st.one_of(files, json_values),
        "document": st.one_of(files, json_values),
        "entities": json_values,
        "new_field": json_values,
    },
)
updates = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"update_id": ids},
        optional={
            "message": st.one_of(messages, json_values),
            "edited_message": messages,
            "x": json_values,
        },
    ),
)


def _checked(incoming: Incoming | None) -> None:
    if incoming is None:
        return
    assert isinstance(incoming.update_id, int) and not isinstance(incoming.update_id, bool)
    assert incoming.chat_id is None or isinstance(incoming.chat_id, int)
    assert incoming.command is None or re.fullmatch(r"[a-z0-9_]{1,32}", incoming.command)
    assert incoming.text is None or isinstance(incoming.text, str)
    if incoming.attachment is not None:
        a = incoming.attachment
        assert isinstance(a.file_id, str) and a.file_id
        assert a.file_size is None or (isinstance(a.file_size, int) and a.file_size >= 0)
        assert isinstance(a.is_video, bool) and isinstance(a.shown_type, str)


@FUZZ
@given(updates, st.one_of(st.none(), st.sampled_from(["piper_bot", "bot"])))
@example(
    {"update_id": 1, "message": {"chat": {"id": 5}, "text": "/STATUS@piper_bot 7"}}, "piper_bot"
)
@example({"update_id": True, "message": {}}, None)
def test_any_update_parses_without_error(raw: Any, bot: str | None) -> None:
    _checked(parse_update(raw, bot))


@FUZZ
@given(
    st.integers(0, 2**62),
    st.integers(-(2**52), 2**52),
    st.integers(1, 2**31),
    nasty_text,
    st.dictionaries(nasty_text, json_values, max_size=3),
)
def test_a_video_message_keeps_its_file(
    update_id: int, chat: int, size: int, caption: str, extra: dict[str, Any]
) -> None:
    raw = {
        "update_id": update_id,
        "message": {
            "message_id": 3,
            "chat": {"id": chat, "type": "private"},
            "caption": caption,
            "video": {"file_id": "BAAC1", "file_unique_id": "u", "file_size": size, "width": 1},
        }
        | {k: v for k, v in extra.items() if k not in ("video", "document", "caption", "chat")},
    }
    incoming = parse_update(raw)
    assert incoming is not None and incoming.chat_id == chat and incoming.update_id == update_id
    assert incoming.attachment is not None and incoming.attachment.file_size == size
    assert incoming.attachment.is_video and incoming.text == caption[:10_000]
    assert incoming.command is None


@FUZZ
@given(st.one_of(json_values, nasty_text))
def test_chat_settings_are_refused_with_the_field_or_kept(value: Any) -> None:
    try:
        kept = parse_chats("telegram.chats", value)
    except ValidationError as exc:
        assert exc.field == "telegram.chats"
        return
    assert kept is None or all(str(parse_chat_id(k)) == k for k in kept)
