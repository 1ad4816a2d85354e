"""Caption suggestions from a language model through OpenRouter (not a route: the
library's captions, whichever route later posts them).

Suggestions are shown to the operator to pick from or edit; they are never posted on
their own.
"""

from __future__ import annotations

import re

from piper_desktop.clients.openrouter import OpenRouterClient
from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.services import Services
from piper_desktop.store.models import Account

TIKTOK_CAPTION_LIMIT = 2200
_LEADER = re.compile(r"^\s*(?:\d+\s*[.):-]|[-*•])\s*")

SYSTEM_PROMPT = (
    "You write short captions for short-form social videos. Reply with exactly the "
    "number of captions asked for, one per line, with no numbering, no quotes and no "
    "other text. Keep each under 150 characters before hashtags, match the account's "
    "voice, and end each with the given hashtags."
)


def _tags(hashtags: list[str] | tuple[str, ...]) -> list[str]:
    out = []
    for tag in hashtags:
        tag = tag.strip().lstrip("#")
        if tag and re.fullmatch(r"\w+", tag):
            out.append("#" + tag)
    return list(dict.fromkeys(out))


def build_prompt(
    media_title: str, notes: str | None, account: str, hashtags: list[str] | tuple[str, ...], n: int
) -> str:
    lines = [f"Title: {media_title.strip() or 'untitled video'}"]
    if notes and notes.strip():
        lines.append(f"Notes: {' '.join(notes.split())}")
    lines.append(f"Account: @{account.lstrip('@')}")
    tags = _tags(hashtags)
    if tags:
        lines.append(f"Hashtags: {' '.join(tags)}")
    lines.append(f"Count: {n}")
    return "\n".join(lines)


def parse_suggestions(text: str, n: int) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        line = _LEADER.sub("", line).strip().strip('"“”').strip()
        if line and line not in out:
            out.append(line[:TIKTOK_CAPTION_LIMIT])
    return out[:n]


def suggest_captions(
    client: OpenRouterClient,
    model: str,
    media_title: str,
    notes: str | None,
    account: str,
    hashtags: list[str] | tuple[str, ...],
    n: int = 3,
) -> list[str]:
    """Up to `n` caption suggestions (ApiError if the service fails)."""
    if not 1 <= n <= 10:
        raise ValueError("n must be between 1 and 10")
    text = client.chat(
        model=model,
        messages=[
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": build_prompt(media_title, notes, account, hashtags, n)},
        ],
        temperature=0.8,
        max_tokens=120 * n,
    )
    return parse_suggestions(text, n)


def caption_suggestions(
    services: Services,
    media_id: int,
    *,
    account: Account | None = None,
    n: int = 3,
    model: str | None = None,
) -> list[str]:
    """Suggestions only: nothing is posted or stored until the operator picks one."""
    item = services.media.get(media_id)
    key = services.settings.get("openrouter.api_key")
    if not key:
        raise ValidationError(
            "openrouter.api_key", "is not set: piper settings set openrouter.api_key --stdin"
        )
    with OpenRouterClient(str(key), base_url=services.settings.get("openrouter.base")) as client:
        return suggest_captions(
            client,
            model or services.settings.get("openrouter.model"),
            item.title or "",
            item.notes,
            account.username if account is not None else "",
            item.hashtags,
            n=n,
        )
