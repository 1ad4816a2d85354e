"""The TikTok API route as the engine sees it: built from the app's keys, with a
readiness check (a valid token, refreshed and saved at once; the creator allows the
job's options; the file fits TikTok's limits and the creator's duration) and the
token-refresh duty.

Both go through the publisher itself so that token refreshes share its per-account lock
(a refresh token works once: two refreshes racing would log the account out).
"""

from __future__ import annotations

from datetime import UTC, datetime

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
from . import analytics
from .photos import PHOTO_SETTINGS
from .publisher import (
    TikTokApiPublisher,
    TikTokApiSettings,
    check_creator_allows,
    refuse_unchosen_privacy,
)

log = get_logger("routes")

ROUTE = JobRoute.TIKTOK_API.value
# refresh access tokens that expire within this many seconds. TikTok's access tokens
# last 2 h and the duty runs every 30 min (5 min grace): a token is renewed between
# 1 h and 25 min before its end, never after it
REFRESH_WITHIN = 3600.0
DUTY_EVERY = 1800.0
# warn this long before a refresh token's 180 days end: only a new login renews it
RECONNECT_WARN_DAYS = 14
DAY = 86400.0


def publisher_settings(values: SettingsValues) -> TikTokApiSettings:
    """The publisher's settings from the app's (the engine's and the post screen's)."""
    if not values.get("tiktok.client_key") or not values.get("tiktok.client_secret"):
        raise RouteNotConfigured(
            "the TikTok API route needs tiktok.client_key and tiktok.client_secret "
            "(piper settings set ... --stdin)"
        )
    return TikTokApiSettings(
        client_key=str(values["tiktok.client_key"]),
        client_secret=str(values["tiktok.client_secret"]),
        api_base=str(values["tiktok.api_base"]),
        auth_url=str(values["tiktok.auth_url"]),
        chunk_size=int(str(values.get("tiktok.chunk_size_mb") or 10)) * MB,
        compliance_mode=values.get("tiktok.compliance_mode") is not False,
        photos={key: values.get(key) for key in PHOTO_SETTINGS},
    )


def build(ctx: RouteContext, values: SettingsValues) -> Built:
    settings = publisher_settings(values)
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
            try:
                refuse_unchosen_privacy(request, publisher.settings.compliance_mode, creator)
            except PublishError as exc:
                # this job's, not the account's; and no other route may post it instead
                return RouteProblem(exc.reason, "job", fallback=False)
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
    """Refresh the access tokens that expire within REFRESH_WITHIN seconds (each new
    pair committed before use, one refresher per account: the publisher and the store's
    claim), and warn about refresh tokens near their 180-day end.

    Accounts that need a login are left alone: their refresh token is spent or expired,
    and sending it again would only be refused again."""
    now = ctx.clock.time()
    services = ctx.services
    with services.db.session() as session:
        accounts = list(
            session.execute(
                select(Account)
                .join(RouteCredential, RouteCredential.account_id == Account.id)
                .where(RouteCredential.route == ROUTE)
                .where(
                    Account.status.not_in(
                        (AccountStatus.DISABLED.value, AccountStatus.NEEDS_LOGIN.value)
                    )
                )
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
        warn_reconnect(ctx, account, creds, now)
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


def reconnect_days_left(creds: dict[str, object], now: float) -> int | None:
    """Whole days left of the refresh token when it ends within RECONNECT_WARN_DAYS."""
    ends = float(str(creds.get("refresh_expires_at") or 0))
    if not ends or ends - now > RECONNECT_WARN_DAYS * DAY:
        return None
    return max(int((ends - now) // DAY), 0)


def warn_reconnect(
    ctx: DutyContext, account: Account, creds: dict[str, object], now: float
) -> None:
    """Once a day: "reconnect @name within N days" (a refresh never extends the
    refresh token's own 180 days)."""
    days = reconnect_days_left(creds, now)
    if days is None:
        return
    today = int(now // DAY)
    if creds.get("reconnect_warned_day") == today:
        return
    ctx.services.accounts.note_credentials(account.id, ROUTE, {"reconnect_warned_day": today})
    ends = datetime.fromtimestamp(float(str(creds["refresh_expires_at"])), UTC)
    ctx.warn(
        f"reconnect @{account.username} to the TikTok API within {days} days: its TikTok "
        f"login ends on {ends:%Y-%m-%d %H:%M} UTC (piper accounts connect "
        f"{account.username} --route tiktok_api)",
        {"code": "reconnect_soon", "account_id": account.id, "days_left": days},
    )


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
        "tiktok.compliance_mode",
        *PHOTO_SETTINGS,
    ),
    build=build,
    close_on_replace=True,
    readiness=lambda _ctx: TikTokReadiness(),
    duties=(
        RouteDuty("token_refresh", DUTY_EVERY, refresh_tokens, misfire_grace=300),
        # reads what is due by the setting analytics.collect_every_minutes
        RouteDuty(
            "analytics_collect", analytics.DUTY_EVERY, analytics.collect_due, misfire_grace=300
        ),
    ),
    # video/init allows 6 requests a minute per user token
    post_rate=(6, 60.0),
    connected=not_connected,
    connect_hint="piper accounts connect {user} --route tiktok_api (GUI: Accounts → Connect TikTok API)",
    # Content Posting API reference, post_info.title: "max 2200 UTF-16 runes"
    caption_limits={"tiktok": 2200},
)
