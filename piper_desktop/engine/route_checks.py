"""Route-specific questions the readiness check and the token duty ask, before a slot.

- TikTok API: can we get a valid access token (refreshing it, saved at once) and does
  the creator's account allow this job's options and duration? Asked through the
  publisher itself so token refreshes share its per-account lock (a refresh token works
  once: two refreshes racing would log the account out). Until the publisher offers a
  public `preflight`/`refresh_token`, this adapter uses its token helpers.
- Upload-Post: is the API key accepted?
- Browser: is the stored session still logged in? (browser layer's check)

Each answer is None (ready), a `RouteProblem` (a person must act: about this job's
options, or about the account's access to the route), or PublishError with
`retryable=True` when the question could not be asked right now (network).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..clients.errors import ApiError
from ..clients.upload_post import UploadPostClient
from ..domain.services import Services
from ..logs import get_logger
from ..publishing.base import AccountRef, Publisher, PublishError, PublishRequest
from ..store.enums import JobRoute

log = get_logger("engine")


@dataclass(frozen=True)
class RouteProblem:
    reason: str
    # "job": this job's options; "account": the account's access to the route
    scope: str


class RouteChecks:
    """Caches answers for one readiness pass (one creator_info per account, ...)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._creators: dict[int, Any] = {}
        self._sessions: dict[int, RouteProblem | None] = {}
        self._keys: dict[str, RouteProblem | None] = {}

    def problem(self, publisher: Publisher, request: PublishRequest) -> RouteProblem | None:
        route = getattr(publisher, "route", None)
        route = getattr(route, "value", route)
        if route == JobRoute.TIKTOK_API:
            return self._tiktok(publisher, request)
        if route == JobRoute.UPLOAD_POST:
            return self._upload_post(publisher)
        if route == JobRoute.BROWSER:
            return self._browser(publisher, request.account)
        return None

    # --- TikTok API ---------------------------------------------------------------------
    def _tiktok(self, publisher: Any, request: PublishRequest) -> RouteProblem | None:
        from ..publishing.tiktok_api import check_creator_allows

        account = request.account
        try:
            creator = self._creators.get(account.id)
            if creator is None:
                creator = publisher.creator_info(account)
                self._creators[account.id] = creator
            if request.options.mode != "inbox":
                check_creator_allows(request, creator)
        except PublishError as exc:
            return _reason_or_raise(exc)
        return None

    @staticmethod
    def refresh_tiktok_token(publisher: Any, account: AccountRef, access_token: str) -> None:
        """Refresh now (under the publisher's lock) and save the new pair at once."""
        publisher.refresh_token(account, access_token)

    # --- Upload-Post --------------------------------------------------------------------
    def _upload_post(self, publisher: Any) -> RouteProblem | None:
        settings = publisher.settings
        key = f"{settings.base_url}"
        if key in self._keys:
            return self._keys[key]
        problem = None
        try:
            with UploadPostClient(settings.api_key, base_url=settings.base_url) as client:
                client.history(page=1, limit=1)
        except ApiError as exc:
            if exc.http_status in (401, 403):
                problem = RouteProblem(
                    "Upload-Post rejected the API key; check upload_post.api_key", "account"
                )
            elif exc.retryable:
                raise PublishError(str(exc), retryable=True) from None
            else:
                log.info("Upload-Post readiness: %s", exc)
        self._keys[key] = problem
        return problem

    # --- browser ------------------------------------------------------------------------
    def _browser(self, publisher: Any, account: AccountRef) -> RouteProblem | None:
        if account.id in self._sessions:
            return self._sessions[account.id]
        from .browser_route import session_problem

        reason = session_problem(publisher, self.services, account)
        problem = RouteProblem(reason, "account") if reason else None
        self._sessions[account.id] = problem
        return problem


def _reason_or_raise(exc: PublishError) -> RouteProblem:
    if exc.retryable and not exc.needs_attention:
        raise exc
    # a login or access problem is the account's; a refused option is this job's
    scope = "account" if exc.account_status or exc.needs_attention else "job"
    return RouteProblem(exc.reason, scope)
