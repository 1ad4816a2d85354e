"""httpx clients built the same way everywhere: explicit timeouts, the account's proxy.

The environment's proxy variables are ignored on purpose: which proxy an account uses
is the operator's per-account choice, and a stray HTTPS_PROXY must not reroute it.
"""

from __future__ import annotations

import logging
import ssl
import threading
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from piper_desktop.logs import SecretMaskingFilter, register_secret

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=120.0, pool=10.0)

_filters_installed = False
_ssl_lock = threading.Lock()
_ssl_context: ssl.SSLContext | None = None


def shared_ssl_context() -> ssl.SSLContext:
    """One verifying TLS context for every client: building one loads the CA bundle and
    costs about 30 ms of CPU, which each job would otherwise pay again."""
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = httpx.create_ssl_context()
        return _ssl_context


class _DropSocksAuth(logging.Filter):
    """httpcore.socks logs the SOCKS5 login as `auth=(b'user', b'password')`; a bytes repr
    escapes non-ASCII, so masking the plain password would miss it: cut the pair out."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        if " auth=" in message:
            # auth is the last of the traced arguments: everything after it goes
            record.msg = message.split(" auth=", 1)[0] + " auth=***"
            record.args = None
        return True


def install_library_log_filters() -> None:
    # httpx logs every request URL at INFO; a Telegram URL holds the bot token. A
    # logger's filters do not see its children's records, so each child is named.
    global _filters_installed
    if _filters_installed:
        return
    logging.getLogger("httpcore.socks").addFilter(_DropSocksAuth())
    for name in (
        "httpx",
        "httpcore",
        "httpcore.socks",
        "httpcore.proxy",
        "httpcore.connection",
        "httpcore.http11",
        "httpcore.http2",
    ):
        logging.getLogger(name).addFilter(SecretMaskingFilter())
    _filters_installed = True


def build_http_client(
    *,
    base_url: str = "",
    proxy_url: str | None = None,
    timeout: httpx.Timeout | float | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    install_library_log_filters()
    if proxy_url:
        register_secret(proxy_url)
        password = httpx.URL(proxy_url).password
        register_secret(password)
    return httpx.Client(
        # The APIs authenticate by header; a client serves every account behind one proxy
        # (clients/pool.py), so a cookie one answer sets must not go out for another.
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        base_url=base_url,
        proxy=proxy_url or None,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        headers={"User-Agent": "PiperDesktop/0.1", **(headers or {})},
        trust_env=False,
        follow_redirects=False,
        verify=shared_ssl_context(),
    )


def request_left(exc: httpx.TransportError) -> bool:
    """False when the failure came before any of the request was sent: the connection (to
    the proxy, when there is one) was never made, or the proxy refused us (bad password,
    destination refused). Then nothing can have reached the platform."""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.ProxyError)


def shown_proxy(proxy_url: str | None) -> str | None:
    """The proxy as messages may name it: scheme, user, host and port, no password."""
    if not proxy_url:
        return None
    url = httpx.URL(proxy_url)
    user = f"{url.username}@" if url.username else ""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{user}{url.host}{port}"


def describe_transport_error(exc: httpx.TransportError, proxy: str | None = None) -> str:
    """A message for a transport failure that names the kind, never the URL. With a proxy
    (`shown_proxy`) every connection goes to it first, so a connection that could not be
    made is the proxy's: the message says so rather than blame the platform."""
    kind = type(exc).__name__
    if proxy and isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return f"the proxy {proxy} does not answer ({kind})"
    if isinstance(exc, httpx.ProxyError):
        # httpcore's reason ("Invalid username/password", a SOCKS reply) quotes no secret
        return f"the proxy refused the connection: {str(exc)[:120]} ({kind})"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer in time ({kind})"
    return f"connection failed ({kind})"
