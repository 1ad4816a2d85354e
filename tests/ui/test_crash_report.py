"""The GUI's side of issue 16: an uncaught error becomes one line, a message box and a
crash report file (owner-only, secrets masked); the unlock dialog names a damaged file."""

from __future__ import annotations

import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from piper_desktop.logs import register_secret
from piper_desktop.ui.app import install_crash_handler
from piper_desktop.ui.unlock import UnlockDialog, WelcomeDialog

SECRET = "crash-secret-Value-77"


@pytest.fixture
def hooks() -> Iterator[None]:
    saved = sys.excepthook, threading.excepthook
    yield
    sys.excepthook, threading.excepthook = saved


def test_an_uncaught_error_writes_a_masked_owner_only_report(
    qtbot: QtBot, tmp_path: Path, hooks: None, capsys: pytest.CaptureFixture[str]
) -> None:
    register_secret(SECRET)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    install_crash_handler(data_dir)
    try:
        raise RuntimeError(
            f"boom while saving [SQL: UPDATE accounts SET password=?] [parameters: ('{SECRET}',)]"
        )
    except RuntimeError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)

    reports = list((data_dir / "crash-reports").iterdir())
    assert len(reports) == 1
    report = reports[0]
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert stat.S_IMODE(report.parent.stat().st_mode) == 0o700
    text = report.read_text()
    assert "RuntimeError" in text and "Traceback" in text
    assert SECRET not in text
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "[SQL" not in err[0] and SECRET not in err[0]
    assert err[0].startswith("piper: unexpected error (RuntimeError: boom while saving)")
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
    box = next(b for b in boxes if b.objectName() == "crash_report")
    assert str(report) in box.text() and "[SQL" not in box.text() and SECRET not in box.text()
    box.close()


def test_the_unlock_dialog_names_an_empty_database_file(qtbot: QtBot, data_dir: Path) -> None:
    (data_dir / "piper.db").write_bytes(b"")
    dialog = UnlockDialog(data_dir, try_keychain=False)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.password.setText("whatever was typed")
    with qtbot.assertNotEmitted(dialog.opened):
        dialog.unlock_button.click()
    assert dialog.error.text().startswith("Cannot open the vault: database file damaged:")
    assert "0 bytes" in dialog.error.text()
    assert (data_dir / "piper.db").stat().st_size == 0  # not turned into a new vault


def test_the_welcome_dialog_refuses_a_nul_in_the_master_password(
    qtbot: QtBot, tmp_path: Path
) -> None:
    dialog = WelcomeDialog(tmp_path / "fresh")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.password.setText("long enough\x00password")
    dialog.confirm.setText("long enough\x00password")
    assert dialog.error.text() == (
        "Master password must not contain control characters (such as NUL)"
    )
    assert not dialog.create_button.isEnabled()
