"""Sessions in real Chromium: restore/save, login checks, proxies per context, and no
session files left on disk."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from piper_desktop.browser.host import BrowserHost
from piper_desktop.browser.profile import BrowserSettings, ProfileSettings
from piper_desktop.browser.session import BrowserSessionError, check_logged_in
from piper_desktop.browser.sites import SiteConfig
from piper_desktop.browser.tempdirs import MARKER
from piper_desktop.sandbox.proxy import LocalProxy
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from tests.browser.fixtures import chromium_or_skip, files_containing

pytestmark = pytest.mark.browser


def test_session_restored_and_saved_back(
    browser_host: BrowserHost, studio: TikTokStudioSandbox, site: SiteConfig
) -> None:
    state = studio.storage_state_for("alice")
    ok, new_state = check_logged_in(browser_host, ProfileSettings(), None, state, site)
    assert ok
    assert new_state is not None
    names = {c["name"] for c in new_state["cookies"]}
    assert {"sessionid", "tt_csrf_token"} <= names
    origins = {o["origin"]: o for o in new_state["origins"]}
    assert any(i["name"] == "studio_last_visit" for i in origins[studio.base_url]["localStorage"])
    # the saved state restores into a fresh context and is still logged in
    ok_again, _ = check_logged_in(browser_host, ProfileSettings(), None, new_state, site)
    assert ok_again


def test_not_logged_in_without_cookie_or_after_expiry(
    browser_host: BrowserHost, studio: TikTokStudioSandbox, site: SiteConfig
) -> None:
    assert check_logged_in(browser_host, ProfileSettings(), None, None, site)[0] is False
    state = studio.storage_state_for("bob")
    studio.expire_sessions("bob")
    ok, _ = check_logged_in(browser_host, ProfileSettings(), None, state, site)
    assert ok is False


def test_each_context_uses_its_own_proxy_from_many_threads(
    browser_host: BrowserHost, studio: TikTokStudioSandbox, site: SiteConfig
) -> None:
    with (
        LocalProxy(users={"user-a": "pass-a"}) as proxy_a,
        LocalProxy(users={"user-b": "pass-b"}) as proxy_b,
    ):
        plan = {
            "anna": proxy_a.url_for("user-a", "pass-a"),
            "ben": proxy_b.url_for("user-b", "pass-b"),
            "cleo": None,
        }
        results: dict[str, bool] = {}
        errors: list[BaseException] = []

        def work(user: str) -> None:
            try:
                ok, _ = check_logged_in(
                    browser_host,
                    ProfileSettings(locale="de-DE", timezone_id="Europe/Berlin"),
                    plan[user],
                    studio.storage_state_for(user),
                    site,
                )
                results[user] = ok
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(u,)) for u in plan]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert results == {"anna": True, "ben": True, "cleo": True}
        dest = studio.base_url.removeprefix("http://")
        assert proxy_a.destinations_for("user-a") == {dest}
        assert proxy_b.destinations_for("user-b") == {dest}
        assert {r.username for r in proxy_a.records if r.authorized} == {"user-a"}
        assert {r.username for r in proxy_b.records if r.authorized} == {"user-b"}

        with pytest.raises(BrowserSessionError, match=r"proxy authentication failed \(407\)"):
            check_logged_in(
                browser_host,
                ProfileSettings(),
                proxy_a.url_for("user-a", "wrong"),
                studio.storage_state_for("anna"),
                site,
            )


def test_no_session_files_on_disk(studio: TikTokStudioSandbox, site: SiteConfig) -> None:
    # short on purpose: Chromium's socket path under the temp root must stay short
    root = Path(tempfile.mkdtemp(prefix="pb-", dir="/tmp" if Path("/tmp").is_dir() else None))
    try:
        _no_session_files(studio, site, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _no_session_files(studio: TikTokStudioSandbox, site: SiteConfig, root: Path) -> None:
    # leftovers of a crashed run: removed at the next start
    stale = root / "run-99999-dead"
    stale.mkdir(parents=True)
    (stale / "Cookies").write_bytes(b"stale")
    (root / MARKER).write_text("marker")
    settings = BrowserSettings.from_env(
        executable=chromium_or_skip(), temp_root=root, force_headless=True
    )
    sessionid = studio.create_session("dora")
    state = {"cookies": [studio.session_cookie(sessionid)], "origins": []}
    with BrowserHost(settings) as host:
        assert not stale.exists()
        run_dir = Path(host.run_dir or "")
        assert run_dir.parent == root

        async def visit() -> list[Path]:
            async with host.session(ProfileSettings(), None, state) as lease:
                page = await lease.context.new_page()
                await page.goto(site.url("upload"))
                # while the session is open, nothing on disk holds the session cookie
                return files_containing(root, sessionid.encode())

        assert host.run(visit) == []
    assert sorted(p.name for p in root.iterdir()) == [MARKER]
