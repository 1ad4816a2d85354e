"""Errors the services raise; each names what is wrong so the CLI and GUI can say it."""

from __future__ import annotations


class DomainError(Exception):
    pass


class ValidationError(DomainError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(DomainError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} not found: {key}")
        self.what = what
        self.key = key


class Conflict(DomainError):
    pass
