"""Proxy health: does each proxy answer, how fast, and which IP do sites see through it.

Each proxy is asked for `check_url` (a setting: an "/ip"-style endpoint answering JSON
like {"ip": "..."} or {"origin": "..."}, or the bare address as text), concurrently
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


AUTH_FAILED = "proxy authentication failed (407)"
SOCKS_AUTH_FAILED = "proxy authentication failed (SOCKS5 login refused)"


def _exit_ip(response: httpx.Response) -> str | None:
    text = response.text.strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:64] or None
    if isinstance(data, dict):
        for key in ("ip", "origin", "query", "address"):
            if data.get(key):
                return str(data[key]).split(",")[0].strip()
    if isinstance(data, str):
        return data
    return None


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
    return ProxyCheckResult(spec.id, True, round(latency, 1), _exit_ip(response))


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
