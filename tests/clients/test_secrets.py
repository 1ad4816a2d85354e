"""No token, key or verifier the clients handle shows up in logs or error text."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import httpx
import pytest

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.openrouter import OpenRouterClient
from piper_desktop.clients.telegram import TelegramClient
from piper_desktop.clients.tiktok import TikTokClient
from piper_desktop.clients.upload_post import UploadPostClient
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.openrouter import OpenRouterSandbox
from piper_desktop.sandbox.telegram import TelegramSandbox
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.clients.secrets_check import capture_logs


def test_tiktok_oauth_and_calls_leak_nothing(
    tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    def browser(url: str) -> None:
        # this stands in for the system browser, which is not Piper: its own wire logs
        # (which show the redirect with the code) stay out of what we check
        quiet = [logging.getLogger(n) for n in ("httpx", "httpcore")]
        levels = [lg.level for lg in quiet]
        for lg in quiet:
            lg.setLevel(logging.WARNING)
        try:
            with httpx.Client(follow_redirects=True, timeout=10, trust_env=False) as b:
                b.get(url)
        finally:
            for lg, level in zip(quiet, levels, strict=True):
                lg.setLevel(level)

    with capture_logs() as logs:
        tokens = tiktok_client.authorize_with_loopback(browser, timeout=10)
        fresh = tiktok_client.refresh(tokens.refresh_token)
        tiktok_client.creator_info(fresh.access_token)
        with pytest.raises(ApiError) as caught:
            tiktok_client.refresh(tokens.refresh_token)  # already used
        logs.error(caught.value)
        tiktok_sandbox.faults.add(Fault(r"creator_info", drop_connection=True))
        with pytest.raises(ApiError) as caught:
            tiktok_client.creator_info(fresh.access_token)
        logs.error(caught.value)
    [exchange] = [
        r
        for r in tiktok_sandbox.requests
        if r.path == "/v2/oauth/token/" and b"authorization_code" in r.body
    ]
    form = {k: v[0] for k, v in parse_qs(exchange.body.decode()).items()}
    logs.assert_clean(
        [
            tokens.access_token,
            tokens.refresh_token,
            fresh.access_token,
            fresh.refresh_token,
            tiktok_sandbox.client_secret,
            form["code"],
            form["code_verifier"],
        ]
    )
    assert repr(tokens).count("act.") == 0


def test_keys_and_bot_token_leak_nothing(
    upload_post_sandbox: UploadPostSandbox,
    openrouter_sandbox: OpenRouterSandbox,
    telegram_sandbox: TelegramSandbox,
) -> None:
    with capture_logs() as logs:
        with TelegramClient(telegram_sandbox.token, base_url=telegram_sandbox.base_url) as bot:
            bot.send_message(1, "hello")  # httpx logs the URL, which holds the token
            telegram_sandbox.faults.add(Fault(r"sendMessage", drop_connection=True))
            with pytest.raises(ApiError) as caught:
                bot.send_message(1, "again")
            logs.error(caught.value)
        with UploadPostClient(
            upload_post_sandbox.api_key, base_url=upload_post_sandbox.api_base
        ) as up:
            assert up.status(request_id="nope") is None
        with UploadPostClient("up-key-that-is-wrong", base_url=upload_post_sandbox.api_base) as up:
            with pytest.raises(ApiError) as caught:
                up.history()
            logs.error(caught.value)
        with OpenRouterClient(
            openrouter_sandbox.api_key, base_url=openrouter_sandbox.api_base
        ) as ai:
            ai.chat(model="m", messages=[{"role": "user", "content": "Title: x"}])
        with OpenRouterClient("sk-or-v1-wrongwrong", base_url=openrouter_sandbox.api_base) as ai:
            with pytest.raises(ApiError) as caught:
                ai.chat(model="m", messages=[{"role": "user", "content": "x"}])
            logs.error(caught.value)
    assert any("sendMessage" in line for line in logs.records)  # the URL line was there
    logs.assert_clean(
        [
            telegram_sandbox.token,
            "sandbox-telegram-token",
            upload_post_sandbox.api_key,
            "up-key-that-is-wrong",
            openrouter_sandbox.api_key,
            "sk-or-v1-wrongwrong",
        ]
    )
