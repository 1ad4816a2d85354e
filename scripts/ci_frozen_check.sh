#!/usr/bin/env bash
# CI: build the frozen app and prove it works the way an operator gets it.
#   1. bench/build_app.py builds it with PyInstaller (piper.spec), packs the Linux tarball,
#      prints build time and folder size, and times a headless start (window shown, then
#      PIPER_EXIT_AFTER_START quits it); it fails if the start does not report or exit 0,
#      or if the folder goes over 360 MB (the download target; Node ships xz-compressed;
#      FFmpeg's libraries from PyAV's wheel are about 75 MB of it, numpy with its OpenBLAS,
#      which the Performance panel's charts draw from, about 40 MB).
#   2. The tarball is unpacked elsewhere and tests/packaging/test_frozen_app.py runs that
#      copy: `piper self-test` (its first run unpacks Node.js into the per-user cache),
#      Node unpacked once and found again, an unwritable cache reported, `piper playwright`,
#      the frozen app and the source CLI sharing the default data dir, a headless start
#      over an existing data dir, and the desktop-entry installer.
# Takes about 3-5 minutes on two cores. Environment:
#   PIPER_CI_PYTHON   interpreter with the project installed (default .venv/bin/python)
#   PIPER_BUILD_DIR   where to build (default ${TMPDIR:-/tmp}/piper-ci-build)
set -euo pipefail
cd "$(dirname "$0")/.."

py=${PIPER_CI_PYTHON:-.venv/bin/python}
build=${PIPER_BUILD_DIR:-${TMPDIR:-/tmp}/piper-ci-build}
if ! "$py" -c "import PyInstaller" 2>/dev/null; then
  echo "installing the build tools (.[build])"
  "$py" -m pip install -q -e ".[build]"
fi
export QT_QPA_PLATFORM=offscreen

echo "== frozen build (PyInstaller) in $build"
"$py" bench/build_app.py --workpath "$build/work" --distpath "$build/dist" \
  --start-runs 2 --strict --max-size-mb 360

echo "== frozen app from the unpacked tarball"
unpacked="$build/unpacked"
rm -rf "$unpacked"
mkdir -p "$unpacked"
tarball=$(ls "$build"/dist/piper-desktop-*-linux-*.tar.gz)
tar -xzf "$tarball" -C "$unpacked"
app=$(ls -d "$unpacked"/piper-desktop-*/piper)
trap 'rm -rf "$unpacked"' EXIT

"$app" self-test
FROZEN_PIPER_APP="$app" "$py" -m pytest tests/packaging/test_frozen_app.py -q -p no:cacheprovider
