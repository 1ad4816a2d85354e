"""Where GUI tests leave pictures of the screens they changed, for people to look at."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from tests.conftest import REPO

SCREENS = REPO / "test-artifacts" / "screens"


def save_screen(widget: QWidget, name: str) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path
