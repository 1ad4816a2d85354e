"""Finding a site-file element on the page: any of its candidates at once, recording
which one matched; and the known interrupters, dismissed as Playwright meets them.

An element's candidates are waited for together (`Locator.or_`); once one shows, the
first candidate in the file's order that matches is the one used and recorded, so a
fallback matching is known (drift) before the most specific one is gone for good.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import FrameLocator, Locator, Page
from playwright.async_api import TimeoutError as PlaywrightTimeout

from piper_desktop.browser.sites import Candidate, Interrupter, SiteConfig
from piper_desktop.logs import get_logger

log = get_logger("routes")

# where an element is looked for: the page, the form's frame, or inside another element
Root = Page | FrameLocator | Locator


DISMISS_MS = 3000.0


class ElementMissing(Exception):
    """None of an element's candidates appeared in time."""

    def __init__(self, key: str, tried: tuple[Candidate, ...]) -> None:
        self.key = key
        self.tried = tried
        listed = "; ".join(c.describe() for c in tried) or "no candidates"
        super().__init__(f"{key} not found (tried {listed})")


@dataclass(frozen=True)
class Match:
    """Which candidate of an element matched: its index in the file and how it reads."""

    index: int
    candidate: str

    @property
    def fallback(self) -> bool:
        return self.index > 0


@dataclass
class Elements:
    """The site's elements in one page (or the form's frame, once found)."""

    site: SiteConfig
    page: Page
    root: Root
    matched: dict[str, Match] = field(default_factory=dict)
    dismissed: list[str] = field(default_factory=list)
    handlers: list[Locator] = field(default_factory=list)

    def union(
        self, key: str, root: Root | None = None, params: Mapping[str, str] | None = None
    ) -> Locator:
        candidates = self.site.candidates(key, **(params or {}))
        scope = self.root if root is None else root
        if not candidates:
            raise ElementMissing(key, ())
        found = candidates[0].locate(scope)
        for candidate in candidates[1:]:
            found = found.or_(candidate.locate(scope))
        return found

    async def find(
        self,
        key: str,
        timeout_ms: float,
        *,
        visible: bool = True,
        root: Root | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Locator:
        """Wait for any candidate of `key`; the locator of the first that matches."""
        candidates = self.site.candidates(key, **(params or {}))
        scope = self.root if root is None else root
        try:
            union = self.union(key, scope, params)
            target = union.filter(visible=True) if visible else union
            await target.first.wait_for(state="attached", timeout=timeout_ms)
        except PlaywrightTimeout:
            raise ElementMissing(key, candidates) from None
        return await self.which(key, candidates, scope, visible)

    async def which(
        self, key: str, candidates: tuple[Candidate, ...], scope: Root, visible: bool
    ) -> Locator:
        for index, candidate in enumerate(candidates):
            located = candidate.locate(scope)
            if visible:
                located = located.filter(visible=True)
            try:
                if await located.count():
                    self.matched[key] = Match(index, candidate.describe())
                    return located.first
            except PlaywrightError:
                continue  # a candidate the browser cannot parse: the next one
        # it went away between the wait and now; let the caller's action time out on it
        union = self.union(key, scope)
        return (union.filter(visible=True) if visible else union).first

    async def present(
        self, key: str, *, root: Root | None = None, params: Mapping[str, str] | None = None
    ) -> bool:
        """Whether any candidate of `key` is visible now (no waiting)."""
        if not self.site.has(key):
            return False
        try:
            return bool(await self.union(key, root, params).filter(visible=True).count())
        except PlaywrightError:
            return False

    # --- interrupters ------------------------------------------------------------------
    async def arm(self, root: Root, step_ms: float) -> None:
        """Dismiss each known interrupter whenever it covers what an action needs."""
        for interrupter in self.site.interrupters:
            detect = _union(interrupter.detect, root)
            # no_wait_after: with two overlays up at once the next action simply meets
            # the handler again, instead of waiting for this one to vanish
            await self.page.add_locator_handler(
                detect, partial(self._dismiss, interrupter, root, step_ms), no_wait_after=True
            )
            self.handlers.append(detect)

    async def disarm(self) -> None:
        """Stop dismissing overlays (the page is the operator's now)."""
        for detect in self.handlers:
            with contextlib.suppress(PlaywrightError):
                await self.page.remove_locator_handler(detect)
        self.handlers.clear()

    async def _dismiss(self, interrupter: Interrupter, root: Root, step_ms: float) -> None:
        # A captcha over everything is a person's to solve: do not fight it for the
        # button underneath (the step then reports the captcha).
        if await self.present("captcha", root=self.page) or await self.present("captcha"):
            return
        for candidate in interrupter.dismiss:
            button = candidate.locate(root).filter(visible=True).first
            try:
                if await button.count():
                    # briefly: whatever still covers it is reported by the step itself
                    await button.click(timeout=min(step_ms, DISMISS_MS))
                    self.dismissed.append(interrupter.name)
                    log.info("dismissed %s", interrupter.name)
                    return
            except PlaywrightError as exc:
                log.info("could not dismiss %s: %s", interrupter.name, exc.message)
        log.info("%s showed, but none of its dismiss buttons did", interrupter.name)

    def union_of(self, candidates: tuple[Candidate, ...], root: Root) -> Locator:
        return _union(candidates, root)


def _union(candidates: tuple[Candidate, ...], root: Root) -> Locator:
    found = candidates[0].locate(root)
    for candidate in candidates[1:]:
        found = found.or_(candidate.locate(root))
    return found
