"""Connecting an account to a publishing route from the GUI: the shared flows in each
route's `connect.py` (routes/tiktok_api/, routes/upload_post/), plus putting the route in
the account's route list so the engine uses it. Blocking (the person consents in their browser): run via `run_task`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.services import Services
from ..store.enums import JobRoute


def prefer_route(services: Services, account_id: int, route: str) -> None:
    """Put `route` in the account's route list, so the engine uses it."""
    account = services.accounts.get(account_id)
    if route not in (account.routes or []):
        services.accounts.edit(account_id, {"routes": [*(account.routes or []), route]})


def connect_tiktok(
    services: Services, account_id: int, open_url: Callable[[str], Any], timeout: float = 300.0
) -> dict[str, Any]:
    from ..routes.tiktok_api.connect import connect_tiktok as connect

    result = connect(
        services, services.accounts.get(account_id), open_url=open_url, timeout=timeout
    )
    prefer_route(services, account_id, JobRoute.TIKTOK_API.value)
    return result


def connect_upload_post(services: Services, account_id: int, profile: str) -> dict[str, Any]:
    from ..routes.upload_post.connect import connect_upload_post as connect

    result = connect(services, services.accounts.get(account_id), profile)
    prefer_route(services, account_id, JobRoute.UPLOAD_POST.value)
    return result
