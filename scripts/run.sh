#!/usr/bin/env bash
# Sets up (if needed) and starts Piper Desktop. Extra arguments go to `piper`,
# e.g. `scripts/run.sh --sandbox` to try it against local stand-ins of every service.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/piper "$@"
