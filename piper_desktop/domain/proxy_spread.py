"""How proxies are spread over accounts, one per account: the one rule that bulk
Assign → Proxy and the accounts import both follow.

- round_robin: the i-th account (by id) gets live proxy i mod N;
- country: each account gets the next live proxy of its country (the account's own
  country, else its time zone's, `geo.country_of_zone`), round-robin within that
  country; accounts whose country has no live proxy fall back to round-robin over all;
- same: every account gets the first proxy chosen.

A dead proxy (its last check failed) is never handed out by round_robin or country;
"same" takes the operator's one explicit choice as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .errors import ValidationError
from .fields import shown

SPREADS = ("round_robin", "country", "same")


@dataclass(frozen=True)
class SpreadAccount:
    id: int
    country: str | None  # ISO 3166 alpha-2, or None when unknown


@dataclass(frozen=True)
class SpreadProxy:
    id: int
    country: str | None
    dead: bool = False


@dataclass
class Spread:
    assigned: dict[int, int] = field(default_factory=dict)  # account id → proxy id
    # accounts that wanted a proxy of their country and got another (none was live)
    unmatched: list[int] = field(default_factory=list)


def check_spread(how: str) -> str:
    if how not in SPREADS:
        raise ValidationError("spread", f"must be one of {', '.join(SPREADS)}, got {shown(how)}")
    return how


def spread_proxies(
    accounts: Sequence[SpreadAccount], proxies: Sequence[SpreadProxy], how: str
) -> Spread:
    check_spread(how)
    result = Spread()
    if not accounts:
        return result
    if not proxies:
        raise ValidationError("proxy_ids", "choose at least one proxy")
    if how == "same":
        result.assigned = {a.id: proxies[0].id for a in accounts}
        return result
    live = [p for p in proxies if not p.dead]
    if not live:
        raise ValidationError(
            "proxy_ids",
            "every chosen proxy failed its last check: check them again, or choose "
            "one proxy for every account",
        )
    ordered = sorted(accounts, key=lambda a: a.id)
    by_country: dict[str, list[SpreadProxy]] = {}
    for proxy in live:
        if proxy.country:
            by_country.setdefault(proxy.country, []).append(proxy)
    turns: dict[str | None, int] = {}
    for account in ordered:
        pool = live
        key: str | None = None
        if how == "country":
            if account.country in by_country:
                key = account.country
                pool = by_country[key]
            else:
                result.unmatched.append(account.id)
        turn = turns.get(key, 0)
        turns[key] = turn + 1
        result.assigned[account.id] = pool[turn % len(pool)].id
    return result
