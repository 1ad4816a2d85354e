"""`piper browser open|check|cookies|probe ACCOUNT`: the account's real browser session."""

from __future__ import annotations

import sys
import threading
import time
from argparse import Namespace
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..domain.errors import DomainError, ValidationError
from ..domain.services import Services
from ..domain.session_leases import SessionLeases
from ..owner_only import write_private_text
from ..store.enums import AccountStatus, JobRoute
from ..store.models import Account
from .context import Commands, open_services
from .output import emit


def register(commands: Commands) -> None:
    group = commands.add_parser("browser", help="an account's browser session")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    opener = sub.add_parser("open", help="a visible window in the account's browser context")
    opener.add_argument("account")
    opener.add_argument("--platform")
    opener.add_argument("--url", help="page to open (default: the upload page)")
    opener.add_argument("--job", type=int, help="resolve this job's captcha or login, then go on")
    opener.add_argument("--timeout", type=float, help="close the window after this many seconds")
    opener.set_defaults(handler=cmd_open)

    check = sub.add_parser("check", help="is the stored session still logged in?")
    check.add_argument("account")
    check.add_argument("--platform")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=cmd_check)

    probe = sub.add_parser("probe", help="walk the upload page to just before posting")
    probe.add_argument("account")
    probe.add_argument("--platform")
    probe.add_argument("--media", help="a video to choose, so the whole form is checked")
    probe.add_argument("--json", action="store_true")
    probe.set_defaults(handler=cmd_probe)

    cookies = sub.add_parser("cookies", help="import or export the account's cookies")
    cookie_sub = cookies.add_subparsers(dest="cookie_action", metavar="ACTION", required=True)
    imp = cookie_sub.add_parser("import", help="JSON (extensions, Playwright) or cookies.txt")
    imp.add_argument("account")
    imp.add_argument("file", help="the cookies file: JSON or Netscape cookies.txt")
    imp.add_argument("--platform")
    imp.set_defaults(handler=cmd_cookies_import)
    exp = cookie_sub.add_parser("export", help="write the cookies (they log in as the account!)")
    exp.add_argument("account")
    exp.add_argument("file", help="the file to write (owner-only)")
    exp.add_argument("--platform")
    exp.add_argument("--format", choices=["json", "netscape"], default="json")
    exp.set_defaults(handler=cmd_cookies_export)


@contextmanager
def web_publisher(services: Services) -> Iterator[Any]:
    """The same WebPublisher the engine builds (settings, selectors, shared host)."""
    from ..engine.publishers import PublisherFactory

    factory = PublisherFactory(services)
    try:
        publisher = factory.get("browser")
        yield publisher
    finally:
        factory.close()


def _account(services: Services, args: Namespace) -> Account:
    return services.accounts.find(args.account, args.platform)


def cmd_open(args: Namespace) -> int:
    from ..browser.session import open_visible
    from ..engine.publishers import PublisherFactory
    from ..routes.web.session import profile_settings

    services = open_services(args)
    account = _account(services, args)
    if args.job is not None:
        return _resolve(services, account, args)
    ref = PublisherFactory.account_ref(account)
    # one machine at a time: refused in one line while another desktop (or this one's
    # engine) has the session open
    with SessionLeases(services.db).hold(account.id, "browser window"):
        with web_publisher(services) as publisher:
            url = args.url or publisher.site.url("upload")
            if not publisher.host.started:
                publisher.host.start()
            print(
                "Close the browser window when you are done; the session is saved then.",
                flush=True,
            )
            state = open_visible(
                publisher.host,
                profile_settings(services, account.id),
                ref.proxy_url,
                services.accounts.storage_state(account.id),
                url,
                timeout=args.timeout,
            )
        if state is not None:
            services.accounts.save_storage_state(account.id, state)
    print(f"session of {account.platform}:{account.username} saved")
    _account_resolved(services, account)
    return 0


def _account_resolved(services: Services, account: Account) -> None:
    if account.status in (AccountStatus.NEEDS_LOGIN, AccountStatus.NEEDS_ATTENTION):
        services.accounts.set_status(account.id, AccountStatus.ACTIVE)


def _resolve(services: Services, account: Account, args: Namespace) -> int:
    """Open the window where the job stopped; once the operator is done, go on."""
    from ..engine.handoff import resolve_job

    job = services.jobs.get(args.job)
    if job.account_id != account.id:
        raise ValidationError("job", f"job {job.id} belongs to another account")
    result = resolve_job(
        services, job.id, wait_for_operator=lambda handoff: _wait_for_operator(handoff, args)
    )
    if result["status"] in ("published", "verifying", "submitted"):
        _account_resolved(services, account)
    print(
        f"job {result['job']}: {result['status']}"
        + (f" {result['post_url']}" if result["post_url"] else "")
    )
    return 0 if result["status"] != "needs_attention" else 1


def _wait_for_operator(handoff: Any, args: Namespace) -> None:
    """Done when the operator presses Enter (any line on stdin), closes the window, or
    --timeout passes (the window is then closed). End of input is not "done"."""
    blocked = f" ({handoff.blocked_by})" if handoff.blocked_by else ""
    print(
        f"The job's page is open{blocked}: solve it in the window, then press Enter here "
        "(or close the window).",
        flush=True,
    )
    done = threading.Event()

    def read_line() -> None:
        if sys.stdin is not None and sys.stdin.readline():
            done.set()

    threading.Thread(target=read_line, name="piper-resolve-stdin", daemon=True).start()
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    while handoff.is_open and not done.is_set():
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            # --timeout: the window is closed, which counts as the operator being done
            handoff.close()
            break
        done.wait(0.2 if left is None else min(0.2, left))


def cmd_check(args: Namespace) -> int:
    from ..engine.publishers import PublisherFactory
    from ..routes.web.session import session_problem

    services = open_services(args)
    account = _account(services, args)
    with web_publisher(services) as publisher:
        problem = session_problem(publisher, services, PublisherFactory.account_ref(account))
    if problem:
        services.accounts.set_status(account.id, AccountStatus.NEEDS_LOGIN, problem)
    elif account.status == AccountStatus.NEEDS_LOGIN:
        services.accounts.set_status(account.id, AccountStatus.ACTIVE)
    result = {
        "account": f"{account.platform}:{account.username}",
        "logged_in": problem is None,
        "status": services.accounts.get(account.id).status,
        "reason": problem,
    }
    emit(result, as_json=args.json)
    return 0 if problem is None else 1


def cmd_probe(args: Namespace) -> int:
    from ..engine.publishers import PublisherFactory
    from ..routes.web.spec import record_probe

    services = open_services(args)
    account = _account(services, args)
    media = Path(services.media.find_or_add(args.media).path) if args.media else None
    factory = PublisherFactory(services)
    try:
        # the web route's probe capability, with the publisher the engine would build
        spec = factory.routes.get(JobRoute.BROWSER.value)
        assert spec.probe is not None  # the web route offers one (routes/web/spec.py)
        publisher = factory.get(spec.name)
        found = spec.probe(publisher, PublisherFactory.account_ref(account), media)
        drift = {row.element: row for row in record_probe(services, publisher, found)}
    finally:
        factory.close()
    rows = []
    for finding in found:
        since = drift[finding.what].first_seen if finding.fallback and finding.what in drift else ""
        rows.append(
            {
                "selector": finding.what,
                "found": finding.found,
                "candidate": "" if finding.candidate is None else finding.candidate + 1,
                "matched": finding.matched or "",
                "drift": f"fallback since {since[:10]}" if finding.fallback else "",
            }
        )
    emit(rows, as_json=args.json, columns=["selector", "found", "candidate", "matched", "drift"])
    fallbacks = [f.what for f in found if f.fallback]
    if fallbacks and not args.json:
        print(
            f"drift: only a fallback matched {', '.join(fallbacks)}; "
            "a newer selectors file may be needed (Settings, or browser.selectors_file)",
            file=sys.stderr,
        )
    return 0 if all(f.found for f in found) else 1


def cmd_cookies_import(args: Namespace) -> int:
    from ..browser.cookies import parse_cookies, storage_state_with_cookies
    from ..domain.textfiles import read_text_file

    text = read_text_file(args.file)
    parsed = parse_cookies(text)
    for error in parsed.errors:
        print(str(error), file=sys.stderr)
    if not parsed.cookies:
        raise ValidationError("file", f"no usable cookie in {args.file}")
    services = open_services(args)
    account = _account(services, args)
    state = storage_state_with_cookies(parsed.cookies, services.accounts.storage_state(account.id))
    services.accounts.save_storage_state(account.id, state)
    print(
        f"imported {len(parsed.cookies)} cookie(s) ({parsed.format}), {len(parsed.errors)} bad line(s)"
    )
    return 0 if not parsed.errors else 1


def cmd_cookies_export(args: Namespace) -> int:
    from ..browser.cookies import cookies_of, to_json, to_netscape

    services = open_services(args)
    account = _account(services, args)
    cookies = cookies_of(services.accounts.storage_state(account.id))
    if not cookies:
        raise DomainError(f"{account.platform}:{account.username} has no stored session")
    text = to_json(cookies) if args.format == "json" else to_netscape(cookies)
    # the operator asked for this file; it logs in as the account, so only they may read it
    write_private_text(Path(args.file), text)
    print(f"wrote {len(cookies)} cookie(s) to {args.file}; it logs in as the account: keep it safe")
    return 0
