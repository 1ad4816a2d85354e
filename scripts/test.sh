#!/usr/bin/env bash
# Sets up (if needed) and runs the whole test suite: real SQLCipher, real Chromium,
# real Qt widgets (offscreen), local servers on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
.venv/bin/python -m ruff check piper_desktop tests bench
exec .venv/bin/python -m pytest "$@"
