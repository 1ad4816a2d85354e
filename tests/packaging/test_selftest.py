"""`piper self-test` from the source tree: every check runs and says so on one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

from piper_desktop.selftest import CHECKS

from ..conftest import piper_cmd, piper_env


def test_self_test_prints_one_line_per_check_and_passes(tmp_path: Path) -> None:
    result = subprocess.run(
        [*piper_cmd(), "self-test"],
        capture_output=True,
        text=True,
        env=piper_env(tmp_path / "unused", QT_QPA_PLATFORM="offscreen"),
        timeout=120,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split(":", 1)[0].split()[-1] for line in lines] == [c.name for c in CHECKS]
    for check, line in zip(CHECKS, lines, strict=True):
        if check.required:
            assert line.startswith("ok    "), line
    assert "Traceback" not in result.stderr
