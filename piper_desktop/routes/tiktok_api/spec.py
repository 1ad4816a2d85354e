"""The TikTok API route as the engine sees it: built from the app's keys, with a
readiness check (a valid token, refreshed and saved at once; the creator allows the
job's options; the file fits TikTok's limits and the creator's duration) and the
token-refresh duty.

Both go through the publisher itself so that token refreshes share its per-account lock
(a refresh token works once: two refreshes racing would log the account out).
"""

from __future__ import annotations

from sqlalchemy import select

from ...clients.ratelimit import RateLimits
from ...clients.tiktok import DEFAULT_LIMITS, MB, CreatorInfo
from ...domain.media_limits import TIKTOK_API
from ...domain.services import Services
from ...logs import get_logger
from ...store.enums import AccountStatus, JobRoute
from ...store.models import Account, RouteCredential
from ..base import Publisher, PublishError, PublishRequest, RouteNotConfigured
from ..media_check import refuse_unfit_media
from ..requests import account_ref
from ..spec import (
    Built,
    DutyContext,
    RouteContext,
    RouteDuty,
    RouteProblem,
    RouteSpec,
    SettingsValues,
    problem_or_raise,
)
from .photos import PHOTO_SETTINGS
from .publisher import TikTokApiPublisher, TikTokApiSettings, check_creator_allows

log = get_logger("routes")

ROUTE = JobRoute.TIKTOK_API.value
# refresh access tokens that expire within this many seconds
REFRESH_WITHIN = 3600.0


def build(ctx: RouteContext, values: SettingsValues) -> Built:
    if not values.get("tiktok.client_key") or not values.get("tiktok.client_secret"):
        raise RouteNotConfigured(
            "the TikTok API route needs tiktok.client_key and tiktok.client_secret "
            "(piper settings set ... --stdin)"
        )
    settings = TikTokApiSettings(
        client_key=str(values["tiktok.client_key"]),
        client_secret=str(values["tiktok.client_secret"]),
        api_base=str(values["tiktok.api_base"]),
        auth_url=str(values["tiktok.auth_url"]),
        chunk_size=int(str(values.get("tiktok.chunk_size_mb") or 10)) * MB,
        photos={key: values.get(key) for key in PHOTO_SETTINGS},
    )
    # one limiter set for every TikTok publisher of this factory: limits are per user
    # token, whatever object sends the request
    limits = ctx.shared(
        "tiktok_api.limits",
        lambda: RateLimits(DEFAULT_LIMITS, clock=ctx.clock.monotonic, sleeper=ctx.clock.sleep),
    )
    publisher = TikTokApiPublisher(
        ctx.services.accounts,
        settings,
        clock=ctx.clock.time,
        limits=limits,
        sleeper=ctx.clock.sleep,
    )
    return Built(publisher, publisher.close)


class TikTokReadiness:
    """One creator_info per account per pass."""

    def __init__(self) -> None:
        self._creators: dict[int, CreatorInfo] = {}

    def problem(self, publisher: Publisher, request: PublishRequest) -> RouteProblem | None:
        if not isinstance(publisher, TikTokApiPublisher):
            return None  # a stand-in publisher (tests, benchmarks) has nothing to ask
        account = request.account
        try:
            creator = self._creators.get(account.id)
            if creator is None:
                creator = publisher.creator_info(account)
                self._creators[account.id] = creator
            if request.options.mode != "inbox":
                # the creator's options, and the file against TikTok's limits with the
                # creator's max_video_post_duration_sec
                check_creator_allows(request, creator)
            else:
                refuse_unfit_media(request, TIKTOK_API)
        except PublishError as exc:
            return problem_or_raise(exc)
        return None


def refresh_tokens(ctx: DutyContext) -> int:
    """Refresh the access tokens that expire within REFRESH_WITHIN seconds; each new
    pair is saved at once (under the publisher's lock)."""
    now = ctx.clock.time()
    services = ctx.services
    with services.db.session() as session:
        accounts = list(
            session.execute(
                select(Account)
                .join(RouteCredential, RouteCredential.account_id == Account.id)
                .where(RouteCredential.route == ROUTE)
                .where(Account.status != AccountStatus.DISABLED.value)
            ).scalars()
        )
    if not accounts:
        return 0
    try:
        publisher = ctx.publisher()
    except PublishError:
        return 0
    if not isinstance(publisher, TikTokApiPublisher):
        return 0
    refreshed = 0
    for account in accounts:
        creds = services.accounts.load(account.id, ROUTE)
        token = creds.get("access_token")
        if not token or float(creds.get("access_expires_at") or 0) - now > REFRESH_WITHIN:
            continue
        try:
            publisher.refresh_token(account_ref(account), str(token))
            refreshed += 1
        except PublishError as exc:
            if exc.account_status:
                ctx.account_status(account.id, exc.account_status, exc.reason)
            log.warning("token refresh for account %s failed: %s", account.id, exc.reason)
    return refreshed


def not_connected(services: Services, account_id: int) -> str | None:
    """The account has no stored token pair (the publisher's `_access_token` needs both)."""
    creds = services.accounts.load(account_id, ROUTE)
    if creds.get("access_token") and creds.get("refresh_token"):
        return None
    return "not connected to the TikTok API"


SPEC = RouteSpec(
    name=ROUTE,
    label="TikTok Content Posting API",
    settings=(
        "tiktok.client_key",
        "tiktok.client_secret",
        "tiktok.api_base",
        "tiktok.auth_url",
        "tiktok.chunk_size_mb",
        *PHOTO_SETTINGS,
    ),
    build=build,
    close_on_replace=True,
    readiness=lambda _ctx: TikTokReadiness(),
    duties=(RouteDuty("token_refresh", 1800.0, refresh_tokens, misfire_grace=300),),
    # video/init allows 6 requests a minute per user token
    post_rate=(6, 60.0),
    connected=not_connected,
    connect_hint="piper accounts connect {user} --route tiktok_api (GUI: Accounts → Connect TikTok API)",
)
