"""Status vocabularies shared by the models, the services and the UI."""

from __future__ import annotations

from enum import StrEnum


class AccountStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_LOGIN = "needs_login"
    NEEDS_ATTENTION = "needs_attention"
    COOLDOWN = "cooldown"
    DISABLED = "disabled"


class ProxyScheme(StrEnum):
    HTTP = "http"
    HTTPS = "https"
    SOCKS5 = "socks5"


class ProxyKind(StrEnum):
    RESIDENTIAL = "residential"
    DATACENTER = "datacenter"
    MOBILE = "mobile"


class ProxyStatus(StrEnum):
    UNCHECKED = "unchecked"
    OK = "ok"
    ERROR = "error"


class JobRoute(StrEnum):
    TIKTOK_API = "tiktok_api"
    UPLOAD_POST = "upload_post"
    BROWSER = "browser"


class JobStatus(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    CLAIMED = "claimed"
    SUBMITTING = "submitting"
    SUBMITTED = "submitted"
    VERIFYING = "verifying"
    PUBLISHED = "published"
    FAILED = "failed"
    RETRYING = "retrying"
    NEEDS_ATTENTION = "needs_attention"
    CANCELLED = "cancelled"


FINAL_JOB_STATUSES = frozenset({JobStatus.PUBLISHED, JobStatus.FAILED, JobStatus.CANCELLED})
# Jobs that hold (or will hold) a slot on the account's calendar.
SLOTTED_JOB_STATUSES = frozenset(
    {
        JobStatus.QUEUED,
        JobStatus.CLAIMED,
        JobStatus.SUBMITTING,
        JobStatus.SUBMITTED,
        JobStatus.VERIFYING,
        JobStatus.RETRYING,
        JobStatus.PUBLISHED,
    }
)
# The job status sets, each named once by what it means.
# Waiting to be claimed by an engine (the claim pass takes these when due).
CLAIMABLE_JOB_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.RETRYING})
# The account is posting right now: one post at a time per account.
POSTING_JOB_STATUSES = frozenset({JobStatus.CLAIMED, JobStatus.SUBMITTING, JobStatus.SUBMITTED})
# Between the claim and a final answer: held by an engine or waiting for the platform.
# Reconciliation settles these when their holder is gone; engines renew their leases.
IN_FLIGHT_JOB_STATUSES = frozenset(POSTING_JOB_STATUSES | {JobStatus.VERIFYING})
# Not started yet: what the operator's bulk cancel (and a campaign's cancel) takes.
WAITING_JOB_STATUSES = frozenset(CLAIMABLE_JOB_STATUSES | {JobStatus.DRAFT})
# A post that happened or is happening (the duplicate guard's check at claim time).
POSTED_JOB_STATUSES = frozenset(IN_FLIGHT_JOB_STATUSES | {JobStatus.PUBLISHED})
# Accounts whose jobs the claim pass considers (a cooldown holds them until it ends).
RUNNABLE_ACCOUNT_STATUSES = frozenset({AccountStatus.ACTIVE, AccountStatus.COOLDOWN})


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class CampaignStrategy(StrEnum):
    ROUND_ROBIN = "round_robin"
    RANDOM = "random"
    LEAST_USED = "least_used"


class MissedPolicy(StrEnum):
    RESLOT = "reslot"
    MISSED = "missed"
