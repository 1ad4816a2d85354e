"""The start-up probe the bench and CI use to time and stop a headless GUI start."""

from __future__ import annotations

import pytest

from piper_desktop import startup_probe


def test_silent_and_running_without_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    quits: list[bool] = []
    assert startup_probe.window_shown(lambda: quits.append(True)) is False
    assert quits == []
    assert capsys.readouterr().out == ""


def test_report_prints_the_clock_and_keeps_running(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(startup_probe.REPORT_ENV, "1")
    quits: list[bool] = []
    assert startup_probe.window_shown(lambda: quits.append(True), now=lambda: 1234.5) is False
    assert quits == []
    line = capsys.readouterr().out.strip()
    assert startup_probe.parse_line(line) == 1234.5


def test_exit_after_start_reports_then_quits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(startup_probe.EXIT_ENV, "yes")
    quits: list[bool] = []
    assert startup_probe.window_shown(lambda: quits.append(True), now=lambda: 99.0) is True
    assert quits == [True]
    assert startup_probe.parse_line(capsys.readouterr().out.strip()) == 99.0


@pytest.mark.parametrize("line", ["", "piper-startup: window shown at soon", "hello 12.0"])
def test_parse_line_ignores_other_output(line: str) -> None:
    assert startup_probe.parse_line(line) is None
