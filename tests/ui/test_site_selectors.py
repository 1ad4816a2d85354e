"""Settings' site selectors box: drift shown per site with the date first seen, and a
newer selectors file loaded from the GUI (checked first; a bad one refused in one line)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from piper_desktop.routes.web.drift import record_matches
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.settings import SettingsPanel


def test_drift_shown_and_selectors_file_loaded(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    record_matches(
        ctx.services,
        "tiktok",
        {"file_input": (2, "input[type=file]")},
        datetime(2026, 11, 30, 8, tzinfo=UTC),
    )
    panel = SettingsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    assert "browser.selector_drift" not in panel.rows, "kept by Piper, not typed in"
    box = panel.site_selectors
    lines = [box.drift.item(i).text() for i in range(box.drift.count())]
    assert lines == [
        "tiktok: file_input — only fallback 3 matched (input[type=file]), since 2026-11-30"
    ]

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": 3, "selectors": {"post_button": 12}}))
    box.load(str(bad))
    assert "selectors.post_button" in box.result.text()
    assert ctx.services.settings.get("browser.selectors_file") is None

    good = tmp_path / "newer.json"
    good.write_text(
        json.dumps({"format": 2, "version": 3, "selectors": {"post_button": ["button.p"]}})
    )
    box.load(str(good))
    assert ctx.services.settings.get("browser.selectors_file") == str(good.resolve())
    assert panel.rows["browser.selectors_file"].widget.text() == str(good.resolve())
    assert any("Selectors file loaded" in text for text, _level in ctx.messages)  # type: ignore[attr-defined]
    # the drift was judged against the old file: cleared until the next walk
    assert box.drift.item(0).text().startswith("No drift seen")
