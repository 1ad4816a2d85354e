"""OpenRouter and Telegram clients against their stand-ins."""

from __future__ import annotations

import pytest

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.openrouter import OpenRouterClient
from piper_desktop.clients.telegram import TelegramClient
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.openrouter import OpenRouterSandbox
from piper_desktop.sandbox.telegram import TelegramSandbox


def test_chat_completion_is_deterministic(openrouter_sandbox: OpenRouterSandbox) -> None:
    messages = [{"role": "user", "content": "Title: Sunset run\nHashtags: #run\nCount: 2"}]
    with OpenRouterClient(openrouter_sandbox.api_key, base_url=openrouter_sandbox.api_base) as c:
        first = c.chat(model="openai/gpt-4o-mini", messages=messages)
        again = c.chat(model="openai/gpt-4o-mini", messages=messages)
    assert first == again
    assert len(first.splitlines()) == 2
    assert all(
        line.startswith("Sunset run") and line.endswith("#run") for line in first.splitlines()
    )
    assert openrouter_sandbox.completions[0]["model"] == "openai/gpt-4o-mini"
    auth = openrouter_sandbox.requests[0].headers["Authorization"]
    assert auth == f"Bearer {openrouter_sandbox.api_key}"


def test_openrouter_errors(openrouter_sandbox: OpenRouterSandbox) -> None:
    messages = [{"role": "user", "content": "hi"}]
    with (
        OpenRouterClient("sk-or-wrong", base_url=openrouter_sandbox.api_base) as bad,
        pytest.raises(ApiError) as caught,
    ):
        bad.chat(model="m", messages=messages)
    assert caught.value.http_status == 401 and not caught.value.retryable
    assert "sk-or-wrong" not in str(caught.value)
    with OpenRouterClient(openrouter_sandbox.api_key, base_url=openrouter_sandbox.api_base) as c:
        openrouter_sandbox.faults.add(
            Fault(r"/chat/", status=502, body={"error": {"message": "upstream", "code": 502}})
        )
        with pytest.raises(ApiError) as caught:
            c.chat(model="m", messages=messages)
        assert caught.value.http_status == 502 and caught.value.retryable
        openrouter_sandbox.httpd.rate_limit = (1, 60.0)  # type: ignore[attr-defined]
        c.chat(model="m", messages=messages)
        with pytest.raises(ApiError) as caught:
            c.chat(model="m", messages=messages)
        assert caught.value.http_status == 429 and caught.value.retry_after == 20.0


def test_telegram_send_message(telegram_sandbox: TelegramSandbox) -> None:
    with TelegramClient(telegram_sandbox.token, base_url=telegram_sandbox.base_url) as bot:
        assert bot.get_me()["is_bot"] is True
        sent = bot.send_message(4242, "Job 7 published: https://example/v")
    assert sent["message_id"] == 1
    [message] = telegram_sandbox.messages
    assert message["chat"]["id"] == 4242
    assert message["text"] == "Job 7 published: https://example/v"


def test_telegram_wrong_token_and_bad_request(telegram_sandbox: TelegramSandbox) -> None:
    with (
        TelegramClient("999:wrong-bot-token", base_url=telegram_sandbox.base_url) as bot,
        pytest.raises(ApiError) as caught,
    ):
        bot.send_message(1, "x")
    assert caught.value.http_status == 401
    assert "wrong-bot-token" not in str(caught.value)
    with (
        TelegramClient(telegram_sandbox.token, base_url=telegram_sandbox.base_url) as bot,
        pytest.raises(ApiError) as caught,
    ):
        bot.send_message(1, "")
    assert caught.value.http_status == 400
    assert telegram_sandbox.messages == []
