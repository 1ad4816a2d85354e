"""OpenRouter client: OpenAI-compatible chat completions (https://openrouter.ai/api/v1)."""

from __future__ import annotations

from typing import Any

import httpx

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.http import build_http_client, describe_transport_error
from piper_desktop.logs import register_secret

DEFAULT_BASE = "https://openrouter.ai/api/v1"
PLATFORM = "openrouter"


class OpenRouterClient:
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE,
        timeout: httpx.Timeout | float | None = None,
        app_title: str = "Piper Desktop",
    ) -> None:
        register_secret(api_key)
        self.base_url = base_url.rstrip("/")
        # X-Title is how OpenRouter names the calling app in its dashboard
        self._http = build_http_client(
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}", "X-Title": app_title},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenRouterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def chat(
        self,
        *,
        model: str,
        messages: list[dict[str, str]],
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> str:
        """The text of the first choice."""
        body: dict[str, Any] = {"model": model, "messages": messages}
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        try:
            response = self._http.post(f"{self.base_url}/chat/completions", json=body)
        except httpx.TransportError as exc:
            raise ApiError(
                f"chat completion: {describe_transport_error(exc)}", platform=PLATFORM
            ) from None
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if response.status_code >= 400 or not isinstance(payload, dict) or "error" in payload:
            error = payload.get("error") if isinstance(payload, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            retry_after = response.headers.get("Retry-After")
            raise ApiError(
                f"chat completion: {message or f'HTTP {response.status_code}'}",
                platform=PLATFORM,
                code=str(error.get("code")) if isinstance(error, dict) else None,
                http_status=response.status_code if response.status_code >= 400 else 502,
                retry_after=float(retry_after) if retry_after else None,
            )
        try:
            return str(payload["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError):
            raise ApiError(
                "chat completion answer had no choices", platform=PLATFORM, http_status=502
            ) from None
