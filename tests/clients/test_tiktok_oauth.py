"""OAuth 2.0 with PKCE through the sandbox's authorize page and our loopback listener."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from piper_desktop.clients.errors import OAuthCancelled, OAuthError
from piper_desktop.clients.tiktok import (
    LoopbackRedirectListener,
    Pkce,
    TikTokClient,
    s256_challenge,
)
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from tests.clients.helpers import FakeClock


def _browser(url: str) -> None:
    """Stands in for the system browser: follow the authorize page's 302 home."""
    with httpx.Client(follow_redirects=True, timeout=10, trust_env=False) as browser:
        page = browser.get(url)
    assert page.status_code == 200, page.text


def test_pkce_round_trip_through_loopback(
    tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox, clock: FakeClock
) -> None:
    tiktok_sandbox.authorize_as("alice_creates")
    tokens = tiktok_client.authorize_with_loopback(_browser, timeout=10)
    assert tokens.access_expires_at == pytest.approx(clock() + 2 * 3600)
    assert tokens.refresh_expires_at == pytest.approx(clock() + 180 * 86400)
    assert "video.publish" in tokens.scope
    # the tokens work
    assert tiktok_client.creator_info(tokens.access_token).username == "alice_creates"
    [authorize] = [r for r in tiktok_sandbox.requests if r.path.startswith("/v2/auth/authorize")]
    query = {k: v[0] for k, v in authorize.query.items()}
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"].startswith("http://127.0.0.1:")
    assert query["state"]
    [token_call] = [r for r in tiktok_sandbox.requests if r.path == "/v2/oauth/token/"]
    form = {k: v[0] for k, v in parse_qs(token_call.body.decode()).items()}
    assert form["grant_type"] == "authorization_code"
    assert s256_challenge(form["code_verifier"]) == query["code_challenge"]
    assert form["code_verifier"] != query["code_challenge"]


def test_s256_matches_rfc7636_example() -> None:
    # RFC 7636 appendix B
    assert (
        s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    pkce = Pkce.new()
    assert 43 <= len(pkce.verifier) <= 128
    assert pkce.verifier not in repr(pkce)


def _authorize_code(client: TikTokClient, pkce: Pkce, redirect_uri: str) -> str:
    url = client.authorize_url(
        scopes=("video.publish",),
        redirect_uri=redirect_uri,
        state="s1",
        code_challenge=pkce.challenge,
    )
    with httpx.Client(timeout=10, trust_env=False) as browser:
        answer = browser.get(url)
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def test_wrong_verifier_is_refused_flat(tiktok_client: TikTokClient) -> None:
    pkce = Pkce.new()
    redirect = "http://127.0.0.1:9/callback/"
    code = _authorize_code(tiktok_client, pkce, redirect)
    with pytest.raises(OAuthError) as caught:
        tiktok_client.exchange_code(code, Pkce.new().verifier, redirect)
    assert caught.value.code == "invalid_request"
    assert caught.value.log_id
    # a code works once: even the right verifier cannot reuse it
    with pytest.raises(OAuthError) as caught:
        tiktok_client.exchange_code(code, pkce.verifier, redirect)
    assert caught.value.code == "invalid_grant"


def test_refresh_rotates_the_pair(
    tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    first = tiktok_sandbox.issue_tokens()
    fresh = tiktok_client.refresh(first["refresh_token"])
    assert fresh.access_token != first["access_token"]
    assert fresh.refresh_token != first["refresh_token"]
    assert tiktok_client.creator_info(fresh.access_token).username == "sandbox_creator"
    with pytest.raises(OAuthError) as caught:
        tiktok_client.refresh(first["refresh_token"])
    assert caught.value.code == "invalid_grant"


def test_wrong_client_secret(tiktok_sandbox: TikTokApiSandbox) -> None:
    with (
        TikTokClient(
            client_key=tiktok_sandbox.client_key,
            client_secret="not-the-secret",
            api_base=tiktok_sandbox.base_url,
        ) as client,
        pytest.raises(OAuthError) as caught,
    ):
        client.refresh(tiktok_sandbox.issue_tokens()["refresh_token"])
    assert caught.value.code == "invalid_client"
    assert caught.value.http_status == 401
    assert "not-the-secret" not in str(caught.value)


def test_listener_ignores_a_foreign_state_and_waits_for_ours() -> None:
    """Issue 16, item 12: any local process can reach the loopback port; a request with
    another state is refused (400) and the sign-in goes on waiting for the real one."""
    with LoopbackRedirectListener("expected-state") as listener:
        with httpx.Client(timeout=10, trust_env=False) as browser:
            for forged in ({"code": "c", "state": "forged"}, {"error": "x", "state": ""}, {}):
                page = browser.get(listener.redirect_uri, params=forged)
                assert page.status_code == 400
            with pytest.raises(OAuthError, match=r"in time \(3 foreign requests ignored\)"):
                listener.wait(0.2)
            page = browser.get(
                listener.redirect_uri, params={"code": "the-code", "state": "expected-state"}
            )
        assert page.status_code == 200
        assert listener.wait(5) == "the-code"


def test_sign_in_survives_a_forged_redirect(
    tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    tiktok_sandbox.authorize_as("alice_creates")

    def hostile_then_real(url: str) -> None:
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        with httpx.Client(timeout=10, trust_env=False) as other_process:
            forged = other_process.get(redirect, params={"error": "access_denied", "state": "x"})
        assert forged.status_code == 400
        _browser(url)

    tokens = tiktok_client.authorize_with_loopback(hostile_then_real, timeout=10)
    assert tiktok_client.creator_info(tokens.access_token).username == "alice_creates"


def test_listener_reports_a_refusal() -> None:
    with LoopbackRedirectListener("st") as listener:
        with httpx.Client(timeout=10, trust_env=False) as browser:
            browser.get(
                listener.redirect_uri,
                params={
                    "error": "access_denied",
                    "error_description": "user said no",
                    "state": "st",
                },
            )
        with pytest.raises(OAuthError, match="user said no"):
            listener.wait(5)


def test_authorize_page_never_redirects_off_loopback(
    tiktok_client: TikTokClient, tiktok_sandbox: TikTokApiSandbox
) -> None:
    url = tiktok_client.authorize_url(
        scopes=("video.publish",),
        redirect_uri="http://example.invalid:80/cb",
        state="s",
        code_challenge=Pkce.new().challenge,
    )
    with httpx.Client(timeout=10, trust_env=False) as browser:
        answer = browser.get(url)
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_code_verifier_hash_is_not_plain(tiktok_client: TikTokClient) -> None:
    pkce = Pkce.new()
    assert pkce.challenge != hashlib.sha256(pkce.verifier.encode()).hexdigest()


def test_a_cancelled_sign_in_ends_its_wait_and_refuses_a_late_answer(
    tiktok_client: TikTokClient,
) -> None:
    """Issue 17, item 5: the wait for consent is cancellable from another thread."""
    import threading

    with tiktok_client.loopback_authorization() as sign_in:
        state = parse_qs(urlsplit(sign_in.url).query)["state"][0]
        threading.Thread(target=sign_in.cancel).start()
        with pytest.raises(OAuthCancelled, match="cancelled"):
            sign_in.wait(300)  # returns at the cancel, not after five minutes
        with httpx.Client(timeout=10, trust_env=False) as browser:
            late = browser.get(sign_in.redirect_uri, params={"code": "c", "state": state})
        assert late.status_code == 400
