"""Proxy health: does each proxy answer, how fast, and which IP do sites see through it.

Each proxy is asked for `check_url` (a setting: an IP-info endpoint such as ipinfo.io's
answering JSON with the address and its country, or an "/ip"-style one answering
{"ip": "..."} / {"origin": "..."} or the bare address as text), concurrently
with a bound. A wrong password is reported as such, not as a generic failure.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpx

from piper_desktop.clients.http import install_library_log_filters
from piper_desktop.logs import get_logger, register_secret

log = get_logger("clients")


@dataclass(frozen=True)
class ProxySpec:
    id: int | str
    url: str  # scheme://user:pass@host:port

    @classmethod
    def from_parts(
        cls,
        id: int | str,
        host: str,
        port: int,
        *,
        scheme: str = "http",
        username: str | None = None,
        password: str | None = None,
    ) -> ProxySpec:
        creds = ""
        if username:
            register_secret(password)
            creds = quote(username, safe="") + ":" + quote(password or "", safe="") + "@"
        return cls(id, f"{scheme}://{creds}{host}:{port}")


@dataclass(frozen=True)
class ProxyCheckResult:
    id: int | str
    ok: bool
    latency_ms: float | None = None
    exit_ip: str | None = None
    error: str | None = None
    country: str | None = None  # of the exit IP, when the check URL's service says


AUTH_FAILED = "proxy authentication failed (407)"
SOCKS_AUTH_FAILED = "proxy authentication failed (SOCKS5 login refused)"


@dataclass(frozen=True)
class ExitInfo:
    ip: str | None
    country: str | None  # ISO 3166 alpha-2, capitals


# where IP-info services put the address and the country code: ipinfo.io
# ({"ip", "country": "US"}), ip-api.com ({"query", "countryCode"}; its "country" is the
# name), ipapi.co ({"ip", "country_code"}; "country" is the code too), ipify/httpbin
# ({"ip"} / {"origin"}), ipwho.is and ipdata ({"ip", "country_code"})
IP_KEYS = ("ip", "origin", "query", "address", "ip_addr")
COUNTRY_KEYS = ("countryCode", "country_code", "country", "countryIso", "country_iso")


def _country(data: dict[str, object]) -> str | None:
    for key in COUNTRY_KEYS:
        value = data.get(key)
        if isinstance(value, dict):  # {"country": {"iso_code": "US"}}-style answers
            value = value.get("iso_code") or value.get("code")
        if isinstance(value, str) and len(value.strip()) == 2 and value.strip().isalpha():
            return value.strip().upper()
    return None


def parse_exit_info(text: str) -> ExitInfo:
    """The exit IP and its country from an IP-info answer: JSON of one of the shapes
    above, a JSON string, or the bare address as text. Anything else gives Nones,
    never an exception."""
    text = text.strip()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        first = text.split(None, 1)[0] if text else ""
        return ExitInfo(first[:64] or None, None)
    if isinstance(data, dict):
        ip = None
        for key in IP_KEYS:
            value = data.get(key)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                ip = str(value).split(",")[0].strip()[:64] or None
                break
        return ExitInfo(ip, _country(data))
    if isinstance(data, str):
        return ExitInfo(data.strip()[:64] or None, None)
    return ExitInfo(None, None)


def check_proxy(spec: ProxySpec, check_url: str, timeout: float = 10) -> ProxyCheckResult:
    password = urlsplit(spec.url).password
    register_secret(password)
    install_library_log_filters()
    started = time.perf_counter()
    try:
        # SOCKS5 (with RFC 1929 credentials) goes through httpx's socksio transport
        with httpx.Client(proxy=spec.url, timeout=timeout, trust_env=False) as client:
            response = client.get(check_url)
    except httpx.ProxyError as exc:
        message = str(exc)
        if "407" in message:
            error = AUTH_FAILED
        elif "username/password" in message.lower() or "NO ACCEPTABLE METHODS" in message:
            # a SOCKS5 proxy refused the RFC 1929 login (or wants one we did not offer)
            error = SOCKS_AUTH_FAILED
        else:
            error = f"proxy error: {message}"
        return ProxyCheckResult(spec.id, False, error=error)
    except ValueError:
        # a scheme httpx cannot use (socks4://): this proxy's result says so, and the
        # others are still checked (the message would quote the URL, so it is not shown)
        scheme = urlsplit(spec.url).scheme
        return ProxyCheckResult(spec.id, False, error=f"{scheme}:// proxies are not supported")
    except ImportError:
        return ProxyCheckResult(spec.id, False, error="SOCKS support is missing (httpx[socks])")
    except httpx.TimeoutException:
        return ProxyCheckResult(spec.id, False, error=f"timed out after {timeout:g}s")
    except httpx.HTTPError as exc:
        return ProxyCheckResult(spec.id, False, error=f"{type(exc).__name__}: {exc}")
    latency = (time.perf_counter() - started) * 1000
    if response.status_code == 407:
        return ProxyCheckResult(spec.id, False, latency, error=AUTH_FAILED)
    if response.status_code != 200:
        return ProxyCheckResult(
            spec.id, False, latency, error=f"check URL answered HTTP {response.status_code}"
        )
    exit = parse_exit_info(response.text)
    return ProxyCheckResult(spec.id, True, round(latency, 1), exit.ip, country=exit.country)


def check_proxies(
    proxies: list[ProxySpec],
    check_url: str,
    concurrency: int = 8,
    timeout: float = 10,
) -> list[ProxyCheckResult]:
    """Check every proxy, at most `concurrency` at a time; results in input order."""
    if not proxies:
        return []
    workers = max(1, min(concurrency, len(proxies)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="proxycheck") as pool:
        results = list(pool.map(lambda spec: check_proxy(spec, check_url, timeout), proxies))
    failed = sum(1 for r in results if not r.ok)
    log.info("checked %d proxies: %d failed", len(results), failed)
    return results
