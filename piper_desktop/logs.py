"""Named loggers per layer, a rotating file log, and a filter that masks secrets.

Every module logs through `logging.getLogger("piper.<layer>")`. The filter below is
installed on every handler Piper creates, so a secret that slips into a message is
masked before it reaches the file or the console.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from pathlib import Path

_PATTERNS = [
    # first: the scheme word would otherwise be taken for the value of "Authorization:"
    re.compile(r"(?i)(Bearer\s+|Apikey\s+|Basic\s+)([A-Za-z0-9._~+/=:-]+)"),
    # key=value and "key": "value" forms for the usual secret names; not the words that
    # begin a message about the field ("password: must not contain ...")
    re.compile(
        r"(?i)((?:password|passwd|pass|secret|token|access_token|refresh_token|api_key|apikey"
        r"|sessionid|cookie|authorization|client_secret|code_verifier)\"?\s*[:=]\s*\"?)"
        r"(?!(?:must|is|are|was|has|not|too|cannot|contains|required|missing)\s)"
        r"([^\s\"',&;]+)"
    ),
    # credentials inside URLs: scheme://user:pass@host
    re.compile(r"(://[^:/\s@]+:)([^@\s/]+)(@)"),
]

_known_secrets: set[str] = set()
_known_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it appears in a log record from now on."""
    if value and len(value) >= 4:
        with _known_lock:
            _known_secrets.add(value)


def mask(text: str) -> str:
    for pattern in _PATTERNS:
        if pattern.groups == 3:
            text = pattern.sub(r"\1***\3", text)
        else:
            text = pattern.sub(r"\1***", text)
    with _known_lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


class SecretMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        masked = mask(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        record.msg = masked
        record.args = None
        return True


_configured: set[str] = set()


def configure_logging(data_dir: Path | None, *, verbose: bool = False) -> None:
    """Console warnings (or debug with verbose) plus a rotating file in the data dir."""
    root = logging.getLogger("piper")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if "console" not in _configured:
        console = logging.StreamHandler()
        console.setLevel(logging.DEBUG if verbose else logging.WARNING)
        console.setFormatter(fmt)
        console.addFilter(SecretMaskingFilter())
        root.addHandler(console)
        _configured.add("console")
    if data_dir is not None:
        log_dir = data_dir / "logs"
        key = f"file:{log_dir}"
        if key not in _configured:
            log_dir.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                log_dir / "piper.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8"
            )
            handler.setFormatter(fmt)
            handler.addFilter(SecretMaskingFilter())
            root.addHandler(handler)
            _configured.add(key)


def get_logger(layer: str) -> logging.Logger:
    return logging.getLogger(f"piper.{layer}")
