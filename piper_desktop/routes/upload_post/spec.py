"""The Upload-Post route as the engine sees it: built from the API key, with a readiness
check (does the file fit the platforms' limits? is the key accepted?)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ...clients.errors import ApiError
from ...clients.upload_post import UploadPostClient
from ...domain.services import Services
from ...logs import get_logger
from ...store.enums import JobRoute
from ..base import Publisher, PublishError, PublishRequest, RouteNotConfigured
from ..media_check import media_problem
from ..spec import Built, RouteContext, RouteProblem, RouteSpec, SettingsValues
from .publisher import UploadPostPublisher, UploadPostSettings, upload_post_limits

log = get_logger("routes")

ROUTE = JobRoute.UPLOAD_POST.value


def build(ctx: RouteContext, values: SettingsValues) -> Built:
    if not values.get("upload_post.api_key"):
        raise RouteNotConfigured(
            "the Upload-Post route needs upload_post.api_key (piper settings set "
            "upload_post.api_key --stdin)"
        )
    publisher = UploadPostPublisher(
        ctx.services.accounts,
        UploadPostSettings(
            api_key=str(values["upload_post.api_key"]),
            base_url=str(values["upload_post.base"]),
        ),
        clock=ctx.clock.time,
    )
    return Built(publisher, publisher.close)


@runtime_checkable
class _WithSettings(Protocol):
    """The Upload-Post publisher, or a stand-in wrapping one (the benchmark's)."""

    @property
    def settings(self) -> UploadPostSettings: ...


class UploadPostReadiness:
    """One key check per endpoint per pass."""

    def __init__(self, ctx: RouteContext) -> None:
        self.ctx = ctx
        self._answers: dict[str, RouteProblem | None] = {}

    def problem(self, publisher: Publisher, request: PublishRequest) -> RouteProblem | None:
        media = media_problem(request, upload_post_limits(request))
        if media is not None:
            return media
        if not isinstance(publisher, _WithSettings):
            return None  # a stand-in without a key has nothing to ask
        settings = publisher.settings  # the key and endpoint it was built from
        if settings.base_url in self._answers:
            return self._answers[settings.base_url]
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
        self._answers[settings.base_url] = problem
        return problem


def not_connected(services: Services, account_id: int) -> str | None:
    """No Upload-Post profile is stored for the account (`piper accounts connect`)."""
    if services.accounts.load(account_id, ROUTE).get("profile"):
        return None
    return "no Upload-Post profile"


SPEC = RouteSpec(
    name=ROUTE,
    label="Upload-Post",
    settings=("upload_post.api_key", "upload_post.base"),
    build=build,
    close_on_replace=True,
    readiness=UploadPostReadiness,
    connected=not_connected,
    connect_hint="piper accounts connect {user} --route upload_post --profile NAME (GUI: Accounts → Connect Upload-Post)",
    # Upload-Post forwards `title` to each platform's own API, so each one's cap holds:
    # TikTok Content Posting API title 2200 UTF-16 units; Instagram Graph API caption
    # 2200 characters; YouTube Data API snippet.title 100; X API tweet 280
    caption_limits={"tiktok": 2200, "instagram": 2200, "youtube": 100, "x": 280},
)
