"""Who may spend a refresh token: one refresher at a time per account, over processes.

TikTok rotates refresh tokens: a refresh answers a new pair and the old refresh token is
refused from then on. Two refreshers sending the same token (the GUI and `piper run` on
one vault, two publishers in one process) would log the account out, so before calling
the platform a refresher takes a claim on the stored pair, written in the same write
transaction (BEGIN IMMEDIATE on SQLite) that reads it — a compare-and-swap on the stored
refresh token:

- the stored refresh token is no longer the one the refresher read: another refresher
  rotated it; the stored pair is good (`ROTATED`, use it);
- another holder's claim has not run out: that refresher is calling the platform now
  (`BUSY`, wait for the stored pair to change or the claim to end);
- otherwise the claim is ours (`OURS`): call the platform, then `finish` stores the new
  pair and drops the claim in one write, before the new access token is used.

A crash between the platform's answer and that write leaves the old, now spent, refresh
token stored with a claim that runs out. The next refresher then sends it, TikTok
refuses it (invalid_grant), and the account needs a new login: said once, plainly, never
retried (a spent refresh token stays spent).

The rule works on the credential dict; the store (domain/accounts.py, the tests'
in-memory store) wraps it in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

CLAIM_KEY = "refresh_claim"
# how long a claim holds: longer than one token request with its timeouts
CLAIM_SECONDS = 120.0


class Verdict(StrEnum):
    OURS = "ours"
    ROTATED = "rotated"
    BUSY = "busy"


@dataclass(frozen=True)
class RefreshClaim:
    verdict: Verdict
    # the stored credentials as the claim found them (ROTATED: the pair to use)
    stored: dict[str, Any] = field(repr=False)
    # BUSY: when the other holder's claim runs out (epoch seconds)
    until: float = 0.0


def claim(
    data: dict[str, Any], refresh_token: str, holder: str, now: float, hold_for: float
) -> tuple[RefreshClaim, dict[str, Any] | None]:
    """The verdict, and the data to write (None: write nothing)."""
    if data.get("refresh_token") != refresh_token:
        return RefreshClaim(Verdict.ROTATED, dict(data)), None
    held = data.get(CLAIM_KEY)
    if isinstance(held, dict) and held.get("holder") != holder:
        until = float(held.get("until") or 0)
        if until > now:
            return RefreshClaim(Verdict.BUSY, dict(data), until), None
    written = dict(data) | {CLAIM_KEY: {"holder": holder, "until": now + hold_for}}
    return RefreshClaim(Verdict.OURS, written), written


def finish(
    data: dict[str, Any], refresh_token: str, holder: str, new: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Store the new pair (or, with `new` None, only drop our claim); None when the
    stored pair is no longer the one we claimed (nothing is written then)."""
    if data.get("refresh_token") != refresh_token:
        return None
    written = dict(data)
    held = written.get(CLAIM_KEY)
    if isinstance(held, dict) and held.get("holder") == holder:
        del written[CLAIM_KEY]
    if new is not None:
        written |= new
        written.pop(CLAIM_KEY, None)
    return written
