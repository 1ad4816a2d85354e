"""One Playwright driver and one Chromium process serving every account.

Threading model (why it looks like this): Playwright's sync API ties its objects to the
thread that created them, so the engine's worker threads cannot share one browser
through it, and one sync Playwright per worker thread would mean one Node driver and one
Chromium per thread. Instead a single dedicated thread runs an asyncio loop that owns
Playwright (async API) and the browser. Any thread submits a coroutine with `run()` and
blocks until it finishes; many submissions run concurrently on the loop, so N accounts
publish at once in N contexts of one browser. Callbacks that must not run on the browser
thread (a database commit of a receipt or of a storage state: database sessions are
thread-bound too) go back to the submitting thread through `on_caller()`.

Sessions: a context starts from the account's stored storage state (a dict) and the
updated state is handed back when it closes. Contexts are in-memory (incognito-like);
the only on-disk scratch is the driver's/Chromium's temp dir, kept in a locked run dir
(see tempdirs.py) that is removed on stop, or on the next start after a crash.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
import queue
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

from playwright.async_api import Browser, BrowserContext, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from piper_desktop.browser.cookies import normalise_storage_state
from piper_desktop.browser.executable import BrowserExecutable, find_browser
from piper_desktop.browser.profile import (
    BrowserSettings,
    ProfileSettings,
    proxy_settings,
    redact_proxy,
)
from piper_desktop.browser.relay import SocksRelay, needs_relay
from piper_desktop.browser.tempdirs import RunDir, temp_env
from piper_desktop.logs import get_logger

log = get_logger("browser")
T = TypeVar("T")

# Chromium on this kind of machine: no background calls home (the network is closed and
# they would fail loudly), no QUIC, no first-run UI.
BASE_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-breakpad",
    "--disable-client-side-phishing-detection",
    # Autofill and friends call Google through the account's proxy otherwise.
    "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate",
)

_ENV_LOCK = threading.Lock()
_caller: contextvars.ContextVar[queue.Queue[Any] | None] = contextvars.ContextVar(
    "piper_browser_caller", default=None
)
_DONE = object()


class BrowserHostError(RuntimeError):
    pass


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


NO_SANDBOX_HELP = (
    "set browser.allow_no_sandbox (piper settings set browser.allow_no_sandbox true) or "
    "PIPER_BROWSER_NO_SANDBOX=1 to run it without the sandbox, which weakens the "
    "isolation between web pages and this machine"
)


def launch_args(extra: tuple[str, ...] = ()) -> list[str]:
    args = list(BASE_ARGS)
    args.extend(extra)
    return args


def sandbox_plan(allow_no_sandbox: bool) -> bool:
    """Whether to start Chromium with its sandbox. As root Chromium cannot make one: then
    only the operator's explicit opt-in lets it run without, with a warning."""
    if not _running_as_root():
        return True
    if not allow_no_sandbox:
        raise BrowserHostError(
            "Chromium cannot use its sandbox when Piper runs as root; run Piper as a "
            f"normal user, or {NO_SANDBOX_HELP}"
        )
    log.warning(
        "running Chromium WITHOUT its sandbox (as root, allowed by browser.allow_no_sandbox)"
    )
    return False


@dataclass
class ContextLease:
    """A context held for one session; `state` is its storage state after it closed."""

    context: BrowserContext
    state: dict[str, Any] | None = None


class BrowserHost:
    def __init__(self, settings: BrowserSettings | None = None) -> None:
        self.settings = settings or BrowserSettings.from_env()
        self.executable: BrowserExecutable | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._visible: Browser | None = None
        self._slots: asyncio.Semaphore | None = None
        self._launch_lock: asyncio.Lock | None = None
        self._run_dir: RunDir | None = None
        self._contexts: set[BrowserContext] = set()
        self._relays: set[SocksRelay] = set()
        self.peak_contexts = 0
        self._state_lock = threading.Lock()

    # --- life cycle ----------------------------------------------------------------
    @property
    def started(self) -> bool:
        return self._loop is not None

    @property
    def run_dir(self) -> str | None:
        return str(self._run_dir.path) if self._run_dir else None

    def start(self) -> BrowserHost:
        with self._state_lock:
            if self._loop is not None:
                return self
            self.executable = find_browser(self.settings.executable)
            self._run_dir = RunDir(self.settings.temp_root)
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def main() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            self._thread = threading.Thread(target=main, name="piper-browser", daemon=True)
            self._thread.start()
            ready.wait()
            self._loop = loop
        try:
            asyncio.run_coroutine_threadsafe(self._astart(), loop).result(timeout=60)
        except BaseException:
            self.stop()
            raise
        log.info("browser host started with %s", self.executable.describe())
        return self

    async def _astart(self) -> None:
        assert self._run_dir is not None
        # The driver (and the Chromium it spawns) inherit TMPDIR from this moment: their
        # throw-away profiles land in our locked run dir, not loose in /tmp.
        with _ENV_LOCK, temp_env(self._run_dir.path):
            self._pw = await async_playwright().start()
        self._slots = asyncio.Semaphore(max(1, self.settings.max_contexts))
        self._launch_lock = asyncio.Lock()

    def stop(self) -> None:
        with self._state_lock:
            loop, thread = self._loop, self._thread
            self._loop = None
            self._thread = None
        if loop is not None and thread is not None:
            try:
                asyncio.run_coroutine_threadsafe(self._astop(), loop).result(timeout=60)
            except (concurrent.futures.TimeoutError, PlaywrightError) as exc:
                log.warning("browser host did not stop cleanly: %s", exc)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=15)
            if not thread.is_alive():
                loop.close()
        if self._run_dir is not None:
            self._run_dir.remove()
            self._run_dir = None

    async def _astop(self) -> None:
        for context in list(self._contexts):
            with suppress(PlaywrightError):
                await context.close()
        for relay in list(self._relays):
            self._stop_relay(relay)
        for browser in (self._visible, self._browser):
            if browser is not None:
                with suppress(PlaywrightError):
                    await browser.close()
        self._visible = self._browser = None
        if self._pw is not None:
            await self._pw.stop()
            self._pw = None
        current = asyncio.current_task()
        for task in asyncio.all_tasks():
            if task is not current:
                task.cancel()

    def __enter__(self) -> BrowserHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- running work from any thread ------------------------------------------------
    def run(self, factory: Callable[[], Awaitable[T]], timeout: float | None = None) -> T:
        """Run `factory()` on the browser thread and return its result (or raise).

        Blocks the calling thread; callbacks the coroutine sends with `on_caller` are
        executed here, on the calling thread, while it waits."""
        loop = self._loop
        if loop is None:
            raise BrowserHostError("the browser host is not started")
        if threading.current_thread() is self._thread:
            raise BrowserHostError("run() called from the browser thread; await instead")
        inbox: queue.Queue[Any] = queue.Queue()

        async def wrapper() -> T:
            _caller.set(inbox)
            return await factory()

        future = asyncio.run_coroutine_threadsafe(wrapper(), loop)
        future.add_done_callback(lambda _f: inbox.put(_DONE))
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            wait = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                item = inbox.get(timeout=wait)
            except queue.Empty:
                future.cancel()
                raise TimeoutError(f"browser work did not finish within {timeout}s") from None
            if item is _DONE:
                return future.result()
            fn, args, reply = item
            try:
                result = fn(*args)
            except BaseException as exc:
                loop.call_soon_threadsafe(_settle, reply, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, reply, result, None)

    async def on_caller(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the thread that submitted the current work (see run())."""
        inbox = _caller.get()
        if inbox is None:
            return fn(*args)
        reply: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        inbox.put((fn, args, reply))
        return await reply

    # --- browsers and contexts (call these on the browser thread) ----------------------
    async def browser(self) -> Browser:
        assert self._launch_lock is not None and self._pw is not None
        async with self._launch_lock:
            if self._browser is None or not self._browser.is_connected():
                self._browser = await self._launch(headless=self.settings.headless)
        return self._browser

    async def visible_browser(self) -> Browser:
        """A headed browser for windows an operator works in (separate process)."""
        assert self._launch_lock is not None
        headless = self.settings.force_headless
        if (
            not headless
            and sys.platform.startswith("linux")
            and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        ):
            raise BrowserHostError("no display: cannot open a visible browser window here")
        async with self._launch_lock:
            if self._visible is None or not self._visible.is_connected():
                self._visible = await self._launch(headless=headless)
        return self._visible

    async def _launch(self, *, headless: bool) -> Browser:
        assert self._pw is not None and self.executable is not None
        args = launch_args(self.settings.extra_args)
        allowed = self.settings.allow_no_sandbox
        sandbox = sandbox_plan(allowed)
        try:
            return await self._pw.chromium.launch(
                executable_path=str(self.executable.path),
                headless=headless,
                args=args,
                chromium_sandbox=sandbox,
            )
        except PlaywrightError as exc:
            if not sandbox:
                raise BrowserHostError(f"could not start the browser: {exc.message}") from None
            if not allowed:  # never drop the sandbox behind the operator's back
                first = (exc.message or "").strip().splitlines()[:1]
                raise BrowserHostError(
                    f"Chromium could not start with its sandbox ({''.join(first)}); "
                    f"fix the system's sandbox support, or {NO_SANDBOX_HELP}"
                ) from None
            log.warning(
                "Chromium could not start with its sandbox; starting it WITHOUT the "
                "sandbox, as browser.allow_no_sandbox allows"
            )
            return await self._pw.chromium.launch(
                executable_path=str(self.executable.path),
                headless=headless,
                args=args,
                chromium_sandbox=False,
            )

    async def open_context(
        self,
        profile: ProfileSettings,
        proxy_url: str | None = None,
        storage_state: dict[str, Any] | None = None,
        *,
        visible: bool = False,
    ) -> BrowserContext:
        browser = await (self.visible_browser() if visible else self.browser())
        options = profile.context_options()
        # Chromium cannot log in to a SOCKS5 proxy: such a context goes through its own
        # local relay (relay.py), which holds the credentials and lives as long as it
        relay = await SocksRelay.start(proxy_url) if proxy_url and needs_relay(proxy_url) else None
        if relay:
            self._relays.add(relay)
        proxy = proxy_settings(relay.url if relay else proxy_url)
        if proxy:
            options["proxy"] = proxy
        if storage_state:
            options["storage_state"] = normalise_storage_state(storage_state)
        try:
            context = await browser.new_context(**options)
        except BaseException:
            if relay:
                self._stop_relay(relay)
            raise
        context.set_default_timeout(30_000)
        self._contexts.add(context)
        self.peak_contexts = max(self.peak_contexts, len(self._contexts))

        def closed(_context: BrowserContext) -> None:
            self._contexts.discard(context)
            if relay:
                self._stop_relay(relay)

        context.on("close", closed)
        log.debug("context opened (proxy %s)", redact_proxy(proxy_url))
        return context

    @asynccontextmanager
    async def session(
        self,
        profile: ProfileSettings,
        proxy_url: str | None = None,
        storage_state: dict[str, Any] | None = None,
        *,
        on_state: Callable[[dict[str, Any]], Any] | None = None,
        visible: bool = False,
    ) -> AsyncIterator[ContextLease]:
        """A context for one account's session, within the concurrency limit.

        On exit its storage state is captured into `lease.state`, handed to `on_state`
        (on the submitting thread) and the context is closed."""
        assert self._slots is not None
        async with self._slots:
            context = await self.open_context(profile, proxy_url, storage_state, visible=visible)
            lease = ContextLease(context)
            try:
                yield lease
            finally:
                lease.state = await capture_state(context)
                with suppress(PlaywrightError):
                    await context.close()
                if lease.state is not None and on_state is not None:
                    await self.on_caller(on_state, lease.state)

    def _stop_relay(self, relay: SocksRelay) -> None:
        relay.stop()
        self._relays.discard(relay)

    @property
    def open_contexts(self) -> int:
        return len(self._contexts)

    @property
    def relay_ports(self) -> list[int]:
        """The loopback ports of the SOCKS5 relays open now (one per such context)."""
        return sorted(relay.port for relay in self._relays)


async def capture_state(context: BrowserContext) -> dict[str, Any] | None:
    try:
        return dict(await context.storage_state())
    except PlaywrightError:
        return None  # the context or browser is gone: keep the last stored state


def _settle(reply: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if reply.done():
        return
    if exc is not None:
        reply.set_exception(exc)
    else:
        reply.set_result(result)
