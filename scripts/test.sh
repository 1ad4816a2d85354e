#!/usr/bin/env bash
# Sets up (if needed) and runs the whole test suite: real SQLCipher, real Chromium,
# real Qt widgets (offscreen), local servers on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
# as root (CI) Chromium cannot have its sandbox: say so explicitly, as an operator must
if [ "$(id -u)" = 0 ]; then export PIPER_BROWSER_NO_SANDBOX=1; fi
.venv/bin/python -m ruff check piper_desktop tests bench
# the whole package, with the settings under [tool.mypy] in pyproject.toml (strict for
# store/, domain/, engine/, routes/); a type error stops the run here, before pytest
.venv/bin/python -m mypy
exec .venv/bin/python -m pytest "$@"
