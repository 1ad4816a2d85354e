"""What TikTok's error codes mean for a job, in plain words with what to do.

One table, `API_ERRORS`, for the codes the Content Posting API documents (the error
handling page, Direct Post, Upload, photo posts) and the OAuth refusals; `FAIL_REASONS`
for status/fetch's fail_reason values. Each row says what the job becomes — retrying,
needs_attention or failed — and why, and the one line the operator reads. That line is
the job's reason, so `piper jobs show`, the GUI's job details and the job's history all
show the same words. The publisher (publisher.py) only calls `map_api_error` and
`failed_status`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from piper_desktop.clients.errors import ApiError, OAuthError
from piper_desktop.routes.base import CheckResult, CheckState, PublishError

HOUR = 3600.0
# TikTok's per-creator post cap and the unaudited-app user cap both run over 24 hours
SPAM_COOLDOWN = 24 * HOUR
# an app-wide cap frees up within the rolling day: two retries 12 h apart cover it
APP_CAP_RETRY = 12 * HOUR


class Outcome(StrEnum):
    RETRYING = "retrying"  # the platform will take it later; no person needed
    NEEDS_ATTENTION = "needs_attention"  # a person must change something, then retry
    FAILED = "failed"  # this post as it stands will never go; edit or drop it


@dataclass(frozen=True)
class Known:
    outcome: Outcome
    # the operator's line; {who} is @creator
    words: str
    account_status: str | None = None
    cooldown_seconds: float | None = None
    retry_after: float | None = None


API_ERRORS: dict[str, Known] = {
    # retrying: TikTok's daily post cap for this creator (about 15 posts a day through
    # the API); it lifts by itself. The account cools down (the account policy holds
    # its jobs until then) and the job retries after it.
    "spam_risk_too_many_posts": Known(
        Outcome.RETRYING,
        "TikTok limits how often {who} may post (too many posts in the last 24 hours); "
        "Piper will try again after the account's 24-hour cooldown",
        account_status="cooldown",
        cooldown_seconds=SPAM_COOLDOWN,
        retry_after=SPAM_COOLDOWN,
    ),
    # retrying: an unaudited app lets at most 5 users post in 24 hours, across the app;
    # a slot frees within the day without anyone acting, the lasting fix is the audit.
    "reached_active_user_cap": Known(
        Outcome.RETRYING,
        "TikTok's limit for unaudited apps is reached: at most 5 users may post through "
        "this app in 24 hours; wait until a slot frees (Piper tries again in 12 hours) "
        "or get the app audited by TikTok",
        retry_after=APP_CAP_RETRY,
    ),
    # retrying: the creator's inbox holds too many drafts not yet posted; they clear
    # when the creator posts or deletes them in the app, or within the day
    "spam_risk_too_many_pending_share": Known(
        Outcome.RETRYING,
        "{who} has too many drafts waiting in the TikTok inbox; post or delete them in "
        "the TikTok app (Piper tries again in 12 hours)",
        retry_after=APP_CAP_RETRY,
    ),
    # needs_attention: nothing changes until the operator does (a private account and
    # "Only me", or the audit); the job waits and is retried once they have
    "unaudited_client_can_only_post_to_private_accounts": Known(
        Outcome.NEEDS_ATTENTION,
        "until the app is audited, TikTok only accepts posts to private accounts with "
        "privacy Only me (SELF_ONLY): make {who}'s TikTok account private and choose "
        "Only me, or get the app audited; then retry the post",
    ),
    # needs_attention: TikTok has stopped the creator posting; only they can appeal
    "spam_risk_user_banned_from_posting": Known(
        Outcome.NEEDS_ATTENTION,
        "TikTok has banned {who} from posting; look at the account's warnings in the "
        "TikTok app (an appeal is made there)",
        account_status="needs_attention",
    ),
    # needs_attention: a new login with every permission fixes it
    "scope_not_authorized": Known(
        Outcome.NEEDS_ATTENTION,
        "{who} did not give Piper every permission it needs to post on TikTok; connect "
        "the account again and allow them all",
        account_status="needs_login",
    ),
    "scope_permission_missed": Known(
        Outcome.NEEDS_ATTENTION,
        "{who}'s TikTok login lacks a permission this post needs; connect the account "
        "again and allow them all",
        account_status="needs_login",
    ),
    # needs_attention: the media URL's domain or prefix must be verified for the app in
    # TikTok's developer portal; the post itself is fine
    "url_ownership_unverified": Known(
        Outcome.NEEDS_ATTENTION,
        "TikTok does not accept media from this address: verify the domain or URL "
        "prefix for the app in TikTok's developer portal, then retry the post",
    ),
    # failed: this post's options are wrong for the creator; the operator edits them
    "privacy_level_option_mismatch": Known(
        Outcome.FAILED,
        "the privacy chosen for this post is not one TikTok offers {who} now; choose one "
        "of the creator's options and retry the post",
    ),
    "spam_risk_text": Known(
        Outcome.FAILED,
        "TikTok flagged this post's caption as spam; change the caption and retry the post",
    ),
    "spam_risk": Known(
        Outcome.FAILED,
        "TikTok refused the post as a spam risk; not retried",
        account_status="cooldown",
        cooldown_seconds=SPAM_COOLDOWN,
    ),
    "invalid_file_upload": Known(
        Outcome.FAILED,
        "the file does not meet TikTok's specifications; replace the video and retry the post",
    ),
    "invalid_params": Known(
        Outcome.FAILED, "TikTok refused the request as invalid; the post was not sent"
    ),
    "invalid_param": Known(
        Outcome.FAILED, "TikTok refused the request as invalid; the post was not sent"
    ),
}

LOGIN_GONE = "TikTok no longer accepts this account's login; connect the account again"


def map_api_error(
    exc: ApiError, *, before_upload: bool, username: str | None = None
) -> PublishError:
    """An ApiError as the engine needs it: retryable, needing a person, or final."""
    code = exc.code or ""
    refused = exc.http_status is not None and exc.http_status < 500
    # nothing left us (no connection, the proxy refused): as certain as a refusal
    refused = refused or not exc.sent
    not_posted = before_upload and refused
    common: dict[str, Any] = {"code": code or None, "log_id": exc.log_id}
    known = API_ERRORS.get(code)
    if known is not None:
        words = known.words.format(who=f"@{username}" if username else "the creator")
        detail = (
            f" (TikTok: {exc.message})" if exc.message and known.outcome is Outcome.FAILED else ""
        )
        return PublishError(
            words + detail,
            retryable=known.outcome is Outcome.RETRYING,
            needs_attention=known.outcome is Outcome.NEEDS_ATTENTION,
            certainly_not_posted=not_posted,
            account_status=known.account_status,
            cooldown_seconds=known.cooldown_seconds,
            retry_after=known.retry_after,
            **common,
        )
    if code == "access_token_invalid" or (isinstance(exc, OAuthError) and code == "invalid_grant"):
        return PublishError(
            LOGIN_GONE,
            certainly_not_posted=not_posted,
            needs_attention=True,
            account_status="needs_login",
            **common,
        )
    if exc.retryable:
        return PublishError(
            f"TikTok is unavailable for now: {exc.message}",
            retryable=True,
            certainly_not_posted=not_posted,
            retry_after=exc.retry_after or (60.0 if exc.http_status == 429 else None),
            **common,
        )
    if refused:
        return PublishError(
            f"TikTok refused the post ({code or exc.http_status}): {exc.message}",
            certainly_not_posted=not_posted,
            **common,
        )
    return PublishError(str(exc), retryable=False, **common)


MEDIA_CHECKS = {
    "file_format_check_failed": "the file format",
    "duration_check_failed": "the video's duration",
    "frame_rate_check_failed": "the frame rate",
    "picture_size_check_failed": "the picture size",
    "video_pull_failed": "pulling the video from its URL",
    "photo_pull_failed": "pulling the photos from their URLs",
}


def failed_status(reason: str, username: str | None = None) -> CheckResult:
    """status/fetch's FAILED with its fail_reason, in the same words as at init."""
    who = f"@{username}" if username else "the creator"
    if reason == "internal":
        return CheckResult(
            CheckState.FAILED, reason="TikTok failed internally (internal)", retryable=True
        )
    known = API_ERRORS.get(reason)
    if known is not None and reason.startswith("spam_risk"):
        return CheckResult(
            CheckState.FAILED,
            reason=known.words.format(who=who) + f" [{reason}]",
            # the post FAILED on TikTok: sending it again later cannot double it
            retryable=known.outcome is Outcome.RETRYING,
            account_status=known.account_status or "cooldown",
        )
    if reason == "auth_removed":
        return CheckResult(
            CheckState.FAILED,
            reason="the creator removed Piper's access on TikTok (auth_removed)",
            account_status="needs_login",
        )
    if reason in MEDIA_CHECKS:
        return CheckResult(
            CheckState.FAILED,
            reason=f"TikTok rejected {MEDIA_CHECKS[reason]} ({reason})",
        )
    if reason == "publish_cancelled":
        return CheckResult(CheckState.FAILED, reason="the post was cancelled on TikTok")
    return CheckResult(CheckState.FAILED, reason=f"TikTok could not publish ({reason})")
