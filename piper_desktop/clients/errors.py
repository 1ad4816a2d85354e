"""The one exception type the HTTP clients raise.

Messages are run through the log mask and never quote a request's headers or URL, so
an ApiError can be logged or shown as it is.
"""

from __future__ import annotations

from piper_desktop.logs import mask

# Platform codes that mean "try again later" whatever the HTTP status says.
_TRANSIENT_CODES = frozenset(
    {"rate_limit_exceeded", "internal_error", "internal", "server_error", "timeout"}
)


class ApiError(Exception):
    """A call to an external API that did not succeed.

    - platform: "tiktok", "upload_post", "openrouter", "telegram"
    - code: the platform's own error code (e.g. "access_token_invalid"), if it sent one
    - http_status: None when no answer arrived (timeout, connection lost)
    - log_id: the platform's request id, for support tickets
    - retry_after: seconds the platform asked us to wait (Retry-After), if any
    - sent: True when the request may have reached the platform (its effect is unknown);
      False when it certainly did not (no connection made, the proxy refused us)
    """

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        code: str | None = None,
        http_status: int | None = None,
        log_id: str | None = None,
        retry_after: float | None = None,
        sent: bool = True,
    ) -> None:
        message = mask(message)
        super().__init__(message)
        self.message = message
        self.platform = platform
        self.code = code
        self.http_status = http_status
        self.log_id = log_id
        self.retry_after = retry_after
        self.sent = sent

    @property
    def no_answer(self) -> bool:
        """The request failed in transport: no HTTP answer came back."""
        return self.http_status is None

    @property
    def retryable(self) -> bool:
        if self.http_status is None or self.http_status == 429 or self.http_status >= 500:
            return True
        return self.code in _TRANSIENT_CODES

    def __str__(self) -> str:
        parts = [f"{self.platform}: {self.message}"]
        if self.code:
            parts.append(f"code={self.code}")
        if self.http_status is not None:
            parts.append(f"http={self.http_status}")
        if self.log_id:
            parts.append(f"log_id={self.log_id}")
        return " ".join(parts)


class OAuthError(ApiError):
    """The OAuth flow failed: a refused or mismatched authorization, or a token error."""


class OAuthCancelled(OAuthError):
    """The person cancelled the sign-in while Piper waited for it."""
