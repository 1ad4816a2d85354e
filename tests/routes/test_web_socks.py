"""The web route through a SOCKS5 proxy with a password, in real Chromium: Chromium
cannot log in to SOCKS5 itself, so its context goes through a local relay (relay.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from piper_desktop.browser.host import BrowserHost
from piper_desktop.browser.profile import ProfileSettings
from piper_desktop.browser.relay import needs_relay
from piper_desktop.browser.sites import SiteConfig
from piper_desktop.routes.base import AccountRef, PostOptions, PublishError, Receipt
from piper_desktop.sandbox.socks import LocalSocksProxy
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from tests.browser import fixtures
from tests.browser.fixtures import StateBook, make_request
from tests.routes.test_web_publish import login, publisher

browser_temp = fixtures.browser_temp
browser_host = fixtures.browser_host
studio = fixtures.studio
site = fixtures.site
states = fixtures.states
video_file = fixtures.video_file

pytestmark = pytest.mark.browser

USER, PASSWORD = "carol-proxy", "s0cks pass#3"


def test_publish_through_socks5_with_a_password(
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    site: SiteConfig,
    states: StateBook,
    video_file: Path,
) -> None:
    studio.configure(confirm_post_now=True)
    with LocalSocksProxy(users={USER: PASSWORD}) as socks:
        account = AccountRef(3, "tiktok", "carol", proxy_url=socks.url_for(USER, PASSWORD))
        login(studio, states, account)
        request = make_request(
            video_file,
            caption="through socks #relay",
            account=account,
            options=PostOptions(privacy_level="SELF_ONLY"),
        )
        receipts: list[Receipt] = []
        receipt = publisher(browser_host, site, states).submit(request, receipts.append)
        records = socks.records
    assert [p.username for p in studio.posts] == ["carol"]
    assert receipts == [receipt] and receipt.kind == "post_url"
    # every connection Chromium made went through the account's SOCKS5 proxy, logged in
    assert records and all(r.username == USER and r.authorized for r in records)
    assert {r.destination for r in records} == {studio.base_url.removeprefix("http://")}
    # the relay lived as long as the context: nothing of it is left once the job is done
    assert browser_host.open_contexts == 0


def test_relay_listens_only_while_its_context_is_open(
    browser_host: BrowserHost, studio: TikTokStudioSandbox
) -> None:
    with LocalSocksProxy(users={USER: PASSWORD}) as socks:
        url = socks.url_for(USER, PASSWORD)
        assert needs_relay(url) and not needs_relay(socks.url_for())

        async def visit() -> tuple[int, list[int], list[int]]:
            context = await browser_host.open_context(ProfileSettings(), url)
            during = browser_host.relay_ports
            page = await context.new_page()
            answer = await page.goto(studio.base_url + "/api/ip")
            await context.close()
            return (answer.status if answer else 0), during, browser_host.relay_ports

        status, during, after = browser_host.run(visit)
        relayed = [r for r in socks.records if r.username == USER and r.authorized]
    assert status == 200 and relayed
    assert len(during) == 1 and after == []
    with pytest.raises(OSError):  # the relay's port is closed with its context
        socket.create_connection(("127.0.0.1", during[0]), timeout=5).close()


@pytest.mark.parametrize("failure", ["dead", "wrong password"])
def test_socks5_failure_on_the_web_route_is_a_certain_no_post_to_retry(
    failure: str,
    browser_host: BrowserHost,
    studio: TikTokStudioSandbox,
    site: SiteConfig,
    states: StateBook,
    video_file: Path,
) -> None:
    with LocalSocksProxy(users={USER: PASSWORD}) as socks:
        url = socks.url_for(USER, PASSWORD if failure == "dead" else "not-it")
    if failure == "wrong password":
        socks = LocalSocksProxy(port=int(url.rsplit(":", 1)[1]), users={USER: PASSWORD})
        socks.start()
    try:
        account = AccountRef(4, "tiktok", "dave", proxy_url=url)
        login(studio, states, account)
        request = make_request(video_file, caption="never sent", account=account)
        with pytest.raises(PublishError) as caught:
            publisher(browser_host, site, states).submit(request, lambda _r: None)
    finally:
        socks.stop()
    # the relay answers Chromium before it reaches the proxy, so Chromium reads an empty
    # answer rather than a proxy error: the upload page never opened, nothing was sent
    assert caught.value.retryable and caught.value.certainly_not_posted
    assert "could not open the upload page" in str(caught.value)
    assert studio.posts == [] and PASSWORD not in str(caught.value)
    assert browser_host.relay_ports == []
