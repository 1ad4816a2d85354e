"""The log filter masks secrets in the shapes they take in real log lines."""

from __future__ import annotations

import pytest

from piper_desktop.logs import mask, register_secret


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("Authorization: Bearer act.abcdef123456", "act.abcdef123456"),
        ("authorization: Apikey UPKEY-998877", "UPKEY-998877"),
        ("headers={'Authorization': 'Bearer tok-555444'}", "tok-555444"),
        ("refresh_token=rft.777888999&grant_type=refresh_token", "rft.777888999"),
        ('{"access_token": "act.12121212", "expires_in": 86400}', "act.12121212"),
        ("proxy http://user:pr0xyPass@127.0.0.1:3128 failed", "pr0xyPass"),
        ("Cookie: sessionid=abcd1234efgh; tt_csrf=1", "abcd1234efgh"),
        ("POST /bot123456:telegram-token-xyz/sendMessage", "123456:telegram-token-xyz"),
    ],
)
def test_secret_shapes_are_masked(line: str, secret: str) -> None:
    if "bot" in line:
        register_secret(secret)  # a bot token has no tell-tale name around it
    masked = mask(line)
    assert secret not in masked
    assert "***" in masked
