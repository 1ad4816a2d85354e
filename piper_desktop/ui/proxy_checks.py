"""Proxy health checks as the GUI runs them: each result is recorded and reported as it
arrives, so latency and status fill in live. Plain Python; run through `run_task`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from ..domain.proxies import proxy_url
from ..domain.services import Services


def check(
    services: Services,
    proxy_ids: list[int],
    on_result: Callable[[Any], None] | None = None,
    *,
    timeout: float = 10.0,
) -> list[Any]:
    """Check these proxies (at most `proxy.check_concurrency` at a time); record each
    result; call `on_result(ProxyCheckResult)` from the checking threads."""
    from ..clients.proxycheck import ProxySpec, check_proxy

    settings = services.settings
    check_url = str(settings.get("proxy.check_url"))
    workers = max(1, min(int(settings.get("proxy.check_concurrency") or 8), len(proxy_ids) or 1))
    specs = [ProxySpec(p.id, proxy_url(p)) for p in map(services.proxies.get, proxy_ids)]
    results = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="proxycheck") as pool:
        futures = [pool.submit(check_proxy, spec, check_url, timeout) for spec in specs]
        for future in as_completed(futures):
            result = future.result()
            services.proxies.record_check(
                int(result.id),
                ok=result.ok,
                latency_ms=result.latency_ms,
                exit_ip=result.exit_ip,
                country=result.country,
                error=result.error,
            )
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results
