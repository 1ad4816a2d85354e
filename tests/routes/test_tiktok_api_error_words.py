"""TikTok's posting errors told in plain words with what to do, and the outcome each
one gives the job (routes/tiktok_api/errors.py), against the stand-in."""

from __future__ import annotations

import pytest

from piper_desktop.routes.base import PublishError
from piper_desktop.routes.tiktok_api.errors import API_ERRORS, Outcome
from piper_desktop.routes.tiktok_api.publisher import TikTokApiPublisher
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from tests.clients.helpers import DictCredentialStore, FakeClock
from tests.routes.conftest import ACCOUNT, MakeRequest, Receipts, connect


def _refusal(publisher: TikTokApiPublisher, request: object, receipts: Receipts) -> PublishError:
    with pytest.raises(PublishError) as caught:
        publisher.submit(request, receipts)  # type: ignore[arg-type]
    assert receipts == []  # refused before anything went out
    return caught.value


def test_unaudited_app_posting_to_a_public_account_waits_for_the_operator(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
) -> None:
    tiktok.state.audited = False
    tiktok.set_creator(ACCOUNT.username, private_account=False)
    connect(tiktok, store, clock)
    error = _refusal(publisher, make_request(privacy_level="SELF_ONLY"), receipts)
    assert error.code == "unaudited_client_can_only_post_to_private_accounts"
    assert error.needs_attention and not error.retryable and error.certainly_not_posted
    assert error.reason.startswith(
        "until the app is audited, TikTok only accepts posts to private accounts with "
        "privacy Only me"
    )
    assert "make @sandbox_creator's TikTok account private" in error.reason


def test_unaudited_app_beyond_five_users_a_day_retries_later(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
    tmp_path: object,
) -> None:
    tiktok.state.audited = False
    # five other creators posted through the app in the last 24 hours
    for n in range(5):
        token = tiktok.issue_tokens(f"creator_{n}")["access_token"]
        other = DictCredentialStore()
        other.data[(ACCOUNT.id, "tiktok_api")] = {
            "access_token": token,
            "refresh_token": "unused",
            "access_expires_at": clock() + 3600,
        }
        poster = TikTokApiPublisher(other, publisher.settings, clock=clock, sleeper=clock.sleep)
        try:
            poster.submit(make_request(job_id=100 + n, privacy_level="SELF_ONLY"), lambda r: None)
        finally:
            poster.close()
    connect(tiktok, store, clock)
    error = _refusal(publisher, make_request(privacy_level="SELF_ONLY"), receipts)
    assert error.code == "reached_active_user_cap"
    # an app-wide cap frees within the day by itself: retrying, no person needed
    assert error.retryable and not error.needs_attention and error.certainly_not_posted
    assert error.retry_after == 12 * 3600
    assert "at most 5 users may post through this app in 24 hours" in error.reason
    assert "get the app audited" in error.reason
    # a day later a slot is free again
    clock.advance(86400 + 1)
    connect(tiktok, store, clock)
    publisher.submit(make_request(job_id=9, privacy_level="SELF_ONLY"), receipts)


@pytest.mark.parametrize("code", sorted(API_ERRORS))
def test_every_known_code_has_its_outcome_and_plain_words(
    publisher: TikTokApiPublisher,
    tiktok: TikTokApiSandbox,
    store: DictCredentialStore,
    clock: FakeClock,
    make_request: MakeRequest,
    receipts: Receipts,
    code: str,
) -> None:
    connect(tiktok, store, clock)
    tiktok.faults.add(
        Fault(
            r"video/init",
            status=403,
            body={"error": {"code": code, "message": "as TikTok says it", "log_id": "L1"}},
        )
    )
    error = _refusal(publisher, make_request(), receipts)
    known = API_ERRORS[code]
    assert error.code == code and error.log_id == "L1"
    assert error.retryable == (known.outcome is Outcome.RETRYING)
    assert error.needs_attention == (known.outcome is Outcome.NEEDS_ATTENTION)
    assert error.account_status == known.account_status
    assert error.certainly_not_posted  # a 403 at init: nothing went out
    # words for people: the creator named, no bare code, never "{who}"
    assert code not in error.reason and "{" not in error.reason
    if "{who}" in known.words:
        assert "@sandbox_creator" in error.reason
