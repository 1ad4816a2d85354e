"""Analytics' collection on the TikTok API route: read every connected account's videos
and counts back through the Display API and record them (domain/analytics.py).

One pass per account: `video/list` page by page (the millisecond cursor) for the public
videos; `video/query` (20 ids at a time) for the posts Piper's jobs name that the list
left out (private ones); `user/info` for followers, likes and video count; then one
`AnalyticsService.record`. Tokens go through the publisher's token path (refreshed under
the store's claim). A scope the creator did not grant is kept beside the tokens
(`analytics_missing_scopes`) and said once a day as an engine warning (code
`analytics_scopes`) naming the scopes to grant; the account's status is untouched (it
may post all the same).

The duty (`analytics_collect`, every 5 min) takes only the accounts whose last pass is
older than the setting `analytics.collect_every_minutes`: the stored time of the last
pass (`analytics_collected_at`) decides what is due, not the scheduler's memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from ...clients.errors import ApiError
from ...clients.tiktok_display import (
    ANALYTICS_SCOPES,
    MAX_COUNT,
    SCOPE_STATS,
    SCOPE_VIDEOS,
    TikTokDisplayClient,
    Video,
)
from ...domain.analytics import AccountCounts, SeenPost
from ...domain.services import Services
from ...logs import get_logger
from ...store.enums import AccountStatus, JobRoute
from ...store.models import Account, RouteCredential
from ..base import PublishError
from ..requests import account_ref
from ..spec import DutyContext
from .publisher import TikTokApiPublisher

log = get_logger("routes")

ROUTE = JobRoute.TIKTOK_API.value
DUTY_EVERY = 300.0
# 500 pages of 20: 10,000 posts per account and pass at most
MAX_PAGES = 500
DAY = 86400.0


@dataclass
class AccountPass:
    """What one account's pass found."""

    account_id: int
    username: str
    posts: int = 0
    new: int = 0
    by_id: int = 0
    guessed: int = 0
    outside: int = 0
    pages: int = 0
    queried: int = 0
    retries: int = 0
    followers: int | None = None
    missing_scopes: tuple[str, ...] = ()
    error: str | None = None
    skipped: bool = False


@dataclass
class CollectPass:
    accounts: list[AccountPass] = field(default_factory=list)
    error: str | None = None

    def summary(self) -> str:
        """One line: what the pass read."""
        if self.error:
            return f"analytics: {self.error}"
        done = [a for a in self.accounts if not a.skipped]
        if not done:
            return "analytics: no TikTok API account to read"
        posts = sum(a.posts for a in done)
        new = sum(a.new for a in done)
        matched = sum(a.by_id + a.guessed for a in done)
        problems = [a for a in done if a.error or a.missing_scopes]
        line = (
            f"analytics: {len(done)} account(s), {posts} posts read ({new} new, "
            f"{matched} matched to Piper's jobs, {sum(a.outside for a in done)} made outside Piper)"
        )
        if problems:
            line += f"; {len(problems)} account(s) with problems"
        return line


def connected_accounts(services: Services) -> list[Account]:
    with services.db.session() as session:
        return list(
            session.execute(
                select(Account)
                .join(RouteCredential, RouteCredential.account_id == Account.id)
                .where(RouteCredential.route == ROUTE)
                .where(
                    Account.status.not_in(
                        (AccountStatus.DISABLED.value, AccountStatus.NEEDS_LOGIN.value)
                    )
                )
                .order_by(Account.id)
            ).scalars()
        )


def _granted(creds: dict[str, object]) -> set[str] | None:
    scope = creds.get("scope")
    if not isinstance(scope, str) or not scope.strip():
        return None  # not recorded: ask the API and see
    return {s.strip() for s in scope.replace(" ", ",").split(",") if s.strip()}


def _seen(video: Video) -> SeenPost:
    return SeenPost(
        video.id,
        video.create_time,
        video.caption,
        video.share_url,
        video.duration_sec,
        video.views,
        video.likes,
        video.comments,
        video.shares,
    )


def read_account(
    publisher: TikTokApiPublisher, services: Services, account: Account, now: float
) -> AccountPass:
    """One account's pass: list, query what the list left out, user stats, record."""
    result = AccountPass(account.id, account.username)
    ref = account_ref(account)
    creds = services.accounts.load(account.id, ROUTE)
    granted = _granted(creds)
    missing = [s for s in ANALYTICS_SCOPES if granted is not None and s not in granted]
    videos: dict[str, Video] = {}
    counts: AccountCounts | None = None

    def listing(display: TikTokDisplayClient, token: str) -> None:
        cursor: int | None = None
        for _ in range(MAX_PAGES):
            page = display.list_videos(token, cursor)
            result.pages += 1
            for video in page.videos:
                videos.setdefault(video.id, video)
            if not page.has_more or page.cursor is None or page.cursor == cursor:
                break
            cursor = page.cursor
        result.retries += display.retries
        display.retries = 0

    def querying(ids: Sequence[str]) -> None:
        def run(display: TikTokDisplayClient, token: str) -> None:
            for start in range(0, len(ids), MAX_COUNT):
                for video in display.query_videos(token, ids[start : start + MAX_COUNT]):
                    videos.setdefault(video.id, video)
                    result.queried += 1
            result.retries += display.retries

        publisher.display(ref, run)

    def stats(display: TikTokDisplayClient, token: str) -> AccountCounts:
        user = display.user_stats(token)
        result.retries += display.retries
        return AccountCounts(user.followers, user.likes, user.videos)

    try:
        if SCOPE_VIDEOS not in missing:
            try:
                publisher.display(ref, listing)
                wanted = [i for i in services.analytics.job_post_ids(account.id) if i not in videos]
                querying(wanted)
            except ApiError as exc:
                if exc.code != "scope_not_authorized":
                    raise
                missing.append(SCOPE_VIDEOS)
        if SCOPE_STATS not in missing:
            try:
                counts = publisher.display(ref, stats)
                result.followers = counts.followers
            except ApiError as exc:
                if exc.code != "scope_not_authorized":
                    raise
                missing.append(SCOPE_STATS)
    except (ApiError, PublishError) as exc:
        result.error = exc.reason if isinstance(exc, PublishError) else str(exc)
        log.warning("analytics for account %s: %s", account.id, result.error)
    result.missing_scopes = tuple(s for s in ANALYTICS_SCOPES if s in missing)
    if videos or counts is not None:
        at = datetime.fromtimestamp(now, UTC)
        done = services.analytics.record(
            account.id, at, [_seen(v) for v in videos.values()], counts
        )
        result.posts, result.new = done.posts, done.new
        result.by_id, result.guessed, result.outside = done.by_id, done.guessed, done.outside
    return result


def missing_scopes_line(username: str, missing: Sequence[str]) -> str:
    return (
        f"@{username} has not granted Piper {', '.join(missing)}: connect it again and allow "
        f"them for analytics (piper accounts connect {username} --route tiktok_api)"
    )


def collect(
    ctx: DutyContext, *, force: bool = False, account_ids: Sequence[int] | None = None
) -> CollectPass:
    """Read the due accounts (every connected one with `force`)."""
    services = ctx.services
    now = ctx.clock.time()
    every = float(str(services.settings.get("analytics.collect_every_minutes") or 60)) * 60
    accounts = connected_accounts(services)
    if account_ids is not None:
        accounts = [a for a in accounts if a.id in set(account_ids)]
    found = CollectPass()
    if not accounts:
        return found
    try:
        publisher = ctx.publisher()
    except PublishError as exc:
        found.error = exc.reason
        return found
    if not isinstance(publisher, TikTokApiPublisher):
        return found
    for account in accounts:
        creds = services.accounts.load(account.id, ROUTE)
        if not creds.get("access_token"):
            continue
        last = float(str(creds.get("analytics_collected_at") or 0))
        if not force and now - last < every:
            found.accounts.append(AccountPass(account.id, account.username, skipped=True))
            continue
        result = read_account(publisher, services, account, now)
        found.accounts.append(result)
        notes: dict[str, object] = {
            "analytics_collected_at": now,
            "analytics_missing_scopes": list(result.missing_scopes),
        }
        today = int(now // DAY)
        if result.missing_scopes and creds.get("analytics_scopes_warned_day") != today:
            notes["analytics_scopes_warned_day"] = today
            ctx.warn(
                missing_scopes_line(account.username, result.missing_scopes),
                {
                    "code": "analytics_scopes",
                    "account_id": account.id,
                    "scopes": list(result.missing_scopes),
                },
            )
        services.accounts.note_credentials(account.id, ROUTE, notes)
    return found


def collect_due(ctx: DutyContext) -> int:
    """The duty: read the accounts that are due; the number read."""
    return sum(1 for a in collect(ctx).accounts if not a.skipped)
