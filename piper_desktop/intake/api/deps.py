"""What every endpoint depends on: the services and the bearer token."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ...domain.services import Services
from .token import token_matches

# auto_error off: a missing header and a wrong scheme get our own 401, like a wrong token
_bearer = HTTPBearer(auto_error=False, description="`piper api token` prints it")


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def wake_engine(request: Request, reason: str) -> None:
    """Work made due now is claimed at once, not at the engine's next tick."""
    request.app.state.wake(reason)


def require_token(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> None:
    # read from the vault on every request: a rotation takes effect at once
    presented = credentials.credentials if credentials is not None else ""
    if not token_matches(services(request).settings, presented):
        raise HTTPException(
            status_code=401,
            detail="a valid bearer token is required (Authorization: Bearer <piper api token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
