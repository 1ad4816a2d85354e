"""The web route as the engine sees it: one shared browser host per publisher, a
readiness check (is the stored session still logged in?), the selector-probe duty, the
operator hand-off and the probe. Imported without Playwright: it loads only when a job
actually takes this route.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ...domain.media_limits import TIKTOK_WEB
from ...domain.services import Services
from ...domain.session_leases import SessionLeases
from ...logs import get_logger
from ...store.enums import CLAIMABLE_JOB_STATUSES, AccountStatus, JobRoute
from ...store.models import Account, Job
from ..base import (
    AccountRef,
    Publisher,
    PublishError,
    PublishRequest,
    Receipt,
    ReceiptCallback,
    RouteNotConfigured,
)
from ..media_check import media_problem
from ..requests import account_ref
from ..spec import (
    Built,
    DutyContext,
    Handoff,
    ProbeFinding,
    RouteContext,
    RouteDuty,
    RouteProblem,
    RouteSpec,
    SettingsValues,
)
from .drift import DriftRow, record_matches
from .session import profile_settings, session_problem

if TYPE_CHECKING:
    from .locate import Match
    from .publisher import WebPublisher

log = get_logger("routes")

ROUTE = JobRoute.BROWSER.value
# the selector probe runs when browser jobs are due within this many hours
PROBE_HORIZON_HOURS = 24.0


def build_web_publisher(
    services: Services, values: SettingsValues
) -> tuple[WebPublisher, Callable[[], None]]:
    """The WebPublisher with its own BrowserHost, handed the account's stored session
    and browser profile from the vault; and what stops the host."""
    try:
        from ...browser.host import BrowserHost
        from ...browser.profile import BrowserSettings
        from ...browser.sites import load_site
        from .publisher import WebPublisher
    except ImportError as exc:  # Playwright missing from this installation
        raise RouteNotConfigured(f"the browser route is not available here: {exc}") from None
    overrides: dict[str, object] = {}
    if values.get("browser.executable"):
        overrides["executable"] = str(values["browser.executable"])
    if values.get("browser.max_contexts"):
        overrides["max_contexts"] = int(str(values["browser.max_contexts"]))
    if values.get("browser.headless") is not None:
        overrides["headless"] = bool(values["browser.headless"])
    if values.get("browser.allow_no_sandbox") is not None:
        overrides["allow_no_sandbox"] = bool(values["browser.allow_no_sandbox"])
    host = BrowserHost(BrowserSettings.from_env(**overrides))
    selectors = values.get("browser.selectors_file")
    web_base = values.get("tiktok.web_base")
    try:
        site = load_site(
            "tiktok",
            override_path=str(selectors) if selectors else None,
            base_url=str(web_base) if web_base else None,
        )
    except (OSError, ValueError) as exc:
        raise RouteNotConfigured(f"the site selectors cannot be loaded: {exc}") from None

    def load_state(account: AccountRef) -> dict[str, Any] | None:
        return services.accounts.storage_state(account.id)

    def save_state(account: AccountRef, state: dict[str, Any]) -> None:
        services.accounts.save_storage_state(account.id, state)

    def on_matches(site_name: str, matches: dict[str, Match]) -> None:
        record_matches(
            services, site_name, {key: (m.index, m.candidate) for key, m in matches.items()}
        )

    publisher = WebPublisher(
        host,
        site,
        load_state=load_state,
        save_state=save_state,
        profile_for=lambda account: profile_settings(services, account.id),
        on_matches=on_matches,
        sessions=SessionLeases(services.db),
    )
    return publisher, host.stop


def build(ctx: RouteContext, values: SettingsValues) -> Built:
    publisher, stop = build_web_publisher(ctx.services, values)
    return Built(publisher, stop)


def _web(publisher: Publisher) -> WebPublisher:
    from .publisher import WebPublisher

    if not isinstance(publisher, WebPublisher):
        raise PublishError(
            f"the {ROUTE} route needs its WebPublisher, not {type(publisher).__name__}",
            code="route_not_configured",
            needs_attention=True,
            certainly_not_posted=True,
        )
    return publisher


class SessionReadiness:
    """The file fits TikTok Studio's limits; one session check per account per pass."""

    def __init__(self, ctx: RouteContext) -> None:
        self.services = ctx.services
        self._sessions: dict[int, RouteProblem | None] = {}

    def problem(self, publisher: Publisher, request: PublishRequest) -> RouteProblem | None:
        media = media_problem(request, TIKTOK_WEB)
        if media is not None:
            return media
        account = request.account
        if account.id in self._sessions:
            return self._sessions[account.id]
        reason = session_problem(_web(publisher), self.services, account)
        problem = RouteProblem(reason, "account") if reason else None
        self._sessions[account.id] = problem
        return problem


def probe(publisher: Publisher, account: AccountRef, media: Path | None) -> list[ProbeFinding]:
    return _web(publisher).probe(account, media)


def record_probe(
    services: Services, publisher: Publisher, found: list[ProbeFinding]
) -> list[DriftRow]:
    """Keep which candidate each element matched; the site's drift rows after it."""
    matches = {
        f.what: (f.candidate, f.matched or "") for f in found if f.found and f.candidate is not None
    }
    return record_matches(services, _web(publisher).site.name, matches)


def probe_selectors(ctx: DutyContext) -> list[str]:
    """With browser jobs coming, walk the upload page (never posting), warn about
    elements the site no longer shows and about those found only through a fallback
    (drift, recorded for the GUI). Returns the missing names (empty: all found)."""
    now = ctx.clock.now()
    with ctx.services.db.session() as session:
        account = session.scalar(
            select(Account)
            .join(Job, Job.account_id == Account.id)
            .where(Job.route == ROUTE)
            .where(Job.status.in_(sorted(CLAIMABLE_JOB_STATUSES)))
            .where(Job.next_attempt_at <= now + timedelta(hours=PROBE_HORIZON_HOURS))
            .where(Account.status == AccountStatus.ACTIVE.value)
            .where(Account.storage_state.is_not(None))
            .limit(1)
        )
        ref = account_ref(account) if account is not None else None
    if ref is None:
        return []
    try:
        publisher = ctx.publisher()
        found = probe(publisher, ref, None)
        drift = record_probe(ctx.services, publisher, found)
    except Exception as exc:
        log.warning("selector probe failed: %s", exc)
        return []
    fresh = [row for row in drift if row.last_seen == row.first_seen]
    if fresh:
        ctx.warn(
            "the upload page drifted: only a fallback matched "
            + ", ".join(f"{row.element} ({row.matched})" for row in fresh)
            + " (a newer selectors file may be needed)",
            {"code": "selectors_drift", "drift": [row.element for row in fresh]},
        )
    missing = [f.what for f in found if not f.found]
    if missing:
        ctx.warn(
            "the upload page changed: not found "
            + ", ".join(missing)
            + " (update the selectors file)",
            {"code": "selectors_missing", "missing": missing},
        )
    return missing


class WebHandoffs:
    """The operator takes over in a visible window on the job's filled-in form."""

    def begin(self, publisher: Publisher, request: PublishRequest) -> Handoff:
        return _web(publisher).begin_handoff(request)

    def resume(
        self,
        publisher: Publisher,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        handoff: Handoff,
    ) -> Receipt:
        from .publisher import Handoff as WebHandoff

        if not isinstance(handoff, WebHandoff):
            raise TypeError(f"not a web hand-off: {type(handoff).__name__}")
        return _web(publisher).resume_after_handoff(request, on_receipt, handoff)


def not_connected(services: Services, account_id: int) -> str | None:
    """No stored browser session (whether it is still logged in is readiness's question,
    which needs the browser)."""
    state = services.accounts.storage_state(account_id)
    if state and state.get("cookies"):
        return None
    return "no browser session"


SPEC = RouteSpec(
    name=ROUTE,
    label="Browser (TikTok Studio)",
    settings=(
        "tiktok.web_base",
        "browser.executable",
        "browser.max_contexts",
        "browser.headless",
        "browser.allow_no_sandbox",
        "browser.selectors_file",
    ),
    build=build,
    readiness=SessionReadiness,
    duties=(RouteDuty("selector_probe", 6 * 3600.0, probe_selectors, misfire_grace=600),),
    handoff=WebHandoffs(),
    probe=probe,
    connected=not_connected,
    browser_session=True,
    connect_hint="piper browser open {user} and log in, or piper browser cookies import {user} FILE (GUI: Accounts → Open browser)",
    # TikTok Studio's caption editor counts to 4000 (its "0/4000" counter)
    caption_limits={"tiktok": 4000},
)
