"""Settings' "Site selectors" box: which selectors file the browser route uses, a button
to load a newer one (checked before it is kept), and the drift the route has seen —
elements the site shows only through a fallback candidate, per site, with the date it
was first seen — so the operator updates the file before a post fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...routes.web.drift import DRIFT_KEY, DriftRow, drift_rows
from ..context import AppContext
from ..tasks import run_task

SELECTORS_KEY = "browser.selectors_file"


def drift_line(row: DriftRow) -> str:
    return (
        f"{row.site}: {row.element} — only fallback {row.candidate + 1} matched "
        f"({row.matched}), since {row.first_seen[:10]}"
    )


def check_selectors_file(path: str) -> str:
    """Load `path` over the bundled file as the route would; the error's one line, or ""."""
    from ...browser.sites import SiteConfigError, load_site

    try:
        site = load_site("tiktok", override_path=path, env={})
    except SiteConfigError as exc:
        return str(exc)
    return "" if site.version else "the file has no version"


class SiteSelectorsBox(QWidget):
    def __init__(self, ctx: AppContext, on_saved: Callable[[], None]) -> None:
        super().__init__()
        self.ctx = ctx
        self.on_saved = on_saved
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.load_button = QPushButton("Load selectors file…")
        self.load_button.setObjectName("load_selectors_file")
        self.load_button.clicked.connect(self.choose)
        buttons.addWidget(self.load_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.result = QLabel()
        self.result.setObjectName("Hint")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        heading = QLabel("Drift (the page changed; only a fallback selector matched):")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.drift = QListWidget()
        self.drift.setObjectName("selector_drift")
        self.drift.setMaximumHeight(110)
        layout.addWidget(self.drift)
        self.dialog: QFileDialog | None = None

    def reload(self) -> None:
        run_task(
            lambda: drift_rows(self.ctx.services),
            self._shown,
            lambda exc: self.ctx.error(str(exc)),
            owner=self,
        )

    def _shown(self, rows: list[DriftRow]) -> None:
        self.drift.clear()
        for row in rows:
            self.drift.addItem(drift_line(row))
        if not rows:
            self.drift.addItem("No drift seen: every element matched its first selector.")

    def choose(self) -> None:
        dialog = QFileDialog(self, "Load a selectors file")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter("Site files (*.json)")
        dialog.fileSelected.connect(self.load)
        self.dialog = dialog
        dialog.open()

    def load(self, path: str) -> None:
        services = self.ctx.services
        chosen = str(Path(path).resolve())

        def work() -> str:
            problem = check_selectors_file(chosen)
            if not problem:
                services.settings.set(SELECTORS_KEY, chosen)
                # what drifted was judged against the old file; the next walk judges anew
                services.settings.unset(DRIFT_KEY)
            return problem

        def done(problem: str) -> None:
            if problem:
                self.result.setText(f"Not loaded: {problem}")
                self.ctx.error(f"Selectors file not loaded: {problem}")
                return
            self.result.setText(f"Using {chosen}")
            self.ctx.success("Selectors file loaded; the browser route uses it from now on")
            self.on_saved()
            self.reload()

        run_task(work, done, lambda exc: self.ctx.error(f"Selectors file: {exc}"), owner=self)
