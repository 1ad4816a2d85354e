"""Caption suggestions through the OpenRouter stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from piper_desktop.clients.captions import parse_suggestions, suggest_captions
from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.openrouter import OpenRouterClient
from piper_desktop.sandbox.openrouter import OpenRouterSandbox


@pytest.fixture
def openrouter() -> Iterator[OpenRouterSandbox]:
    with OpenRouterSandbox() as sandbox:
        yield sandbox  # type: ignore[misc]


def test_suggestions_follow_the_prompt(openrouter: OpenRouterSandbox) -> None:
    with OpenRouterClient(openrouter.api_key, base_url=openrouter.api_base) as client:
        first = suggest_captions(
            client,
            "openai/gpt-4o-mini",
            "Morning ride",
            "Rode along the river. Cold!",
            "@alice",
            ["fyp", "#cycling", "not a tag"],
            n=3,
        )
        again = suggest_captions(
            client,
            "openai/gpt-4o-mini",
            "Morning ride",
            "Rode along the river. Cold!",
            "alice",
            ["fyp", "cycling"],
            n=3,
        )
    assert len(first) == 3 and first == again
    assert all(c.startswith("Morning ride") and c.endswith("#fyp #cycling") for c in first)
    prompt = openrouter.completions[0]["prompt"]
    assert "Account: @alice" in prompt and "Count: 3" in prompt
    assert "Hashtags: #fyp #cycling" in prompt


def test_parse_strips_numbering_and_quotes() -> None:
    text = '1. "First one"\n2) Second\n\n- Third\n• First one\n'
    assert parse_suggestions(text, 5) == ["First one", "Second", "Third"]
    assert parse_suggestions(text, 2) == ["First one", "Second"]


def test_bad_key_raises(openrouter: OpenRouterSandbox) -> None:
    with (
        OpenRouterClient("sk-wrong", base_url=openrouter.api_base) as client,
        pytest.raises(ApiError) as caught,
    ):
        suggest_captions(client, "m", "t", None, "a", [], n=1)
    assert caught.value.http_status == 401
