"""Build the frozen app with PyInstaller, then print build time, folder size and start time.

Targets: the app folder under 360 MB (FFmpeg's libraries, about 75 MB, came with media probing; numpy and its OpenBLAS, about 40 MB, with the charts); process start to main window under 3 s.

    .venv/bin/python bench/build_app.py                 # build, pack, measure
    .venv/bin/python bench/build_app.py --skip-build    # measure an existing build
    .venv/bin/python bench/build_app.py --strict        # exit 1 if a check misses (CI)

The build goes to <tmp>/piper-build/{work,dist} unless --workpath/--distpath say
otherwise. On Linux it also packs dist/piper-desktop-<version>-linux-<arch>.tar.gz with
a .desktop file and icons. Start time is measured with the start-up probe
(PIPER_REPORT_STARTUP / PIPER_EXIT_AFTER_START): the app prints the wall-clock time once
its main window is shown and quits, headless (QT_QPA_PLATFORM=offscreen), over a data
dir the frozen app itself created.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from piper_desktop import __version__  # noqa: E402
from piper_desktop.startup_probe import EXIT_ENV, REPORT_ENV, parse_line  # noqa: E402

SIZE_TARGET_MB = 360
START_TARGET_S = 3.0
PASSWORD = "bench-start-password"
EXE_NAME = "piper.exe" if sys.platform == "win32" else "piper"


def default_build_dir() -> Path:
    return Path(tempfile.gettempdir()) / "piper-build"


def folder_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def biggest_parts(folder: Path, count: int) -> list[tuple[int, str]]:
    """The largest entries one level inside the app's internal folder."""
    inner = folder / "_internal" if (folder / "_internal").is_dir() else folder
    sizes = []
    for entry in inner.iterdir():
        size = folder_size(entry) if entry.is_dir() else entry.lstat().st_size
        sizes.append((size, entry.name))
    return sorted(sizes, reverse=True)[:count]


def run_pyinstaller(workpath: Path, distpath: Path, clean: bool) -> float:
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        str(ROOT / "piper.spec"),
        "--noconfirm",
        "--log-level=WARN",
        f"--workpath={workpath}",
        f"--distpath={distpath}",
    ]
    if clean:
        command.append("--clean")
    workpath.mkdir(parents=True, exist_ok=True)
    log = workpath / "pyinstaller.log"
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        result = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"PyInstaller failed (exit {result.returncode}); full log: {log}")
    return elapsed


def linux_tarball(app_dir: Path, distpath: Path) -> Path:
    """The app folder plus a .desktop file, icons and a script that installs them."""
    name = f"piper-desktop-{__version__}"
    target = distpath / f"{name}-linux-{platform.machine()}.tar.gz"
    linux = ROOT / "packaging" / "linux"
    extras = {
        "piper-desktop.desktop": linux / "piper-desktop.desktop",
        "install-desktop-entry.sh": linux / "install-desktop-entry.sh",
        "piper-desktop.svg": ROOT / "resources" / "icons" / "piper.svg",
        "piper-desktop.png": ROOT / "packaging" / "icons" / "piper.png",
    }
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        tar.add(app_dir, arcname=name)
        for arcname, source in extras.items():
            tar.add(source, arcname=f"{name}/{arcname}")
    return target


def windows_installer(app_dir: Path) -> None:
    """Compile packaging/windows/piper.iss when Inno Setup's compiler is on PATH."""
    iscc = shutil.which("iscc") or shutil.which("ISCC")
    if iscc is None:
        print("installer         skipped: Inno Setup's iscc is not on PATH")
        return
    script = ROOT / "packaging" / "windows" / "piper.iss"
    subprocess.run(
        [iscc, f"/DAppDir={app_dir}", f"/DAppVersion={__version__}", str(script)], check=True
    )
    print(f"installer         {script.parent / 'Output'}")


@dataclass
class StartRun:
    to_window: float | None
    to_exit: float | None
    returncode: int | None
    output: str


def app_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPER_")}
    env.update(
        {
            "PIPER_DATA_DIR": str(data_dir),
            "PIPER_PASSWORD": PASSWORD,
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
    )
    return env


def start_once(exe: Path, data_dir: Path, timeout: float) -> StartRun:
    env = app_env(data_dir) | {REPORT_ENV: "1", EXIT_ENV: "1"}
    started = time.time()
    proc = subprocess.Popen(
        [str(exe)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        # The probe line carries the app's own clock, so reading it late costs nothing.
        output, _ = proc.communicate(timeout=timeout)
        returncode: int | None = proc.returncode
        to_exit: float | None = time.time() - started
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        returncode, to_exit = None, None
    shown = [t for t in map(parse_line, output.splitlines()) if t is not None]
    to_window = shown[0] - started if shown else None
    return StartRun(to_window, to_exit, returncode, output)


def prepare_data_dir(exe: Path, data_dir: Path) -> None:
    result = subprocess.run(
        [str(exe), "init", "--password-stdin"],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        env=app_env(data_dir),
        timeout=120,
    )
    if result.returncode != 0:
        raise SystemExit(f"frozen `piper init` failed: {result.stderr.strip()}")


def measure_start(exe: Path, runs: int, timeout: float) -> list[StartRun]:
    with tempfile.TemporaryDirectory(prefix="piper-bench-start-") as tmp:
        data_dir = Path(tmp) / "data"
        prepare_data_dir(exe, data_dir)
        return [start_once(exe, data_dir, timeout) for _ in range(runs)]


def measure_node_unpack(exe: Path, timeout: float) -> tuple[float, float] | None:
    """Seconds for a first Playwright command (unpacks Node.js into an empty per-user
    cache) and for the next one (finds it there); None when Node ships uncompressed."""
    driver = exe.parent / "_internal" / "playwright" / "driver"
    if not any(driver.glob("node*.xz")):
        return None
    command = [str(exe), "playwright", "install", "--dry-run", "chromium"]
    with tempfile.TemporaryDirectory(prefix="piper-bench-node-") as tmp:
        env = app_env(Path(tmp) / "data") | {"PIPER_CACHE_DIR": str(Path(tmp) / "cache")}
        times = []
        for _ in range(2):
            started = time.perf_counter()
            result = subprocess.run(
                command, capture_output=True, text=True, env=env, timeout=timeout
            )
            times.append(time.perf_counter() - started)
            if result.returncode != 0:
                raise SystemExit(f"frozen `piper playwright` failed: {result.stderr.strip()}")
    return times[0], times[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    build_dir = default_build_dir()
    parser.add_argument("--workpath", type=Path, default=build_dir / "work")
    parser.add_argument("--distpath", type=Path, default=build_dir / "dist")
    parser.add_argument("--clean", action="store_true", help="drop PyInstaller's caches first")
    parser.add_argument("--skip-build", action="store_true", help="measure an existing build")
    parser.add_argument("--no-tarball", action="store_true")
    parser.add_argument("--start-runs", type=int, default=3, help="0 skips the start timing")
    parser.add_argument("--start-timeout", type=float, default=60.0)
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 if the headless start does not report its window and exit 0",
    )
    parser.add_argument(
        "--max-size-mb",
        type=float,
        help="exit 1 above this folder size (a ceiling against stray modules, not the target)",
    )
    args = parser.parse_args()

    app_dir = args.distpath / "piper"
    exe = app_dir / EXE_NAME
    problems: list[str] = []

    if not args.skip_build:
        if shutil.which("strip") is None and sys.platform.startswith("linux"):
            print("note: no `strip` on PATH, binaries stay unstripped (bigger)")
        build_seconds = run_pyinstaller(args.workpath, args.distpath, args.clean)
        print(f"build time        {build_seconds:.1f} s")
    if not exe.exists():
        raise SystemExit(f"no app at {exe}: build first")

    size_mb = folder_size(app_dir) / 1e6
    verdict = "ok" if size_mb < SIZE_TARGET_MB else "OVER"
    print(f"app folder        {app_dir}")
    print(f"folder size       {size_mb:.1f} MB (target < {SIZE_TARGET_MB} MB: {verdict})")
    if args.max_size_mb is not None and size_mb > args.max_size_mb:
        problems.append(f"folder is {size_mb:.1f} MB, over the {args.max_size_mb:.0f} MB ceiling")
    for size, name in biggest_parts(app_dir, 8):
        print(f"    {size / 1e6:7.1f} MB  {name}")

    if sys.platform.startswith("linux") and not args.no_tarball:
        started = time.perf_counter()
        tarball = linux_tarball(app_dir, args.distpath)
        print(
            f"tarball           {tarball} ({tarball.stat().st_size / 1e6:.1f} MB,"
            f" packed in {time.perf_counter() - started:.1f} s)"
        )

    if sys.platform == "win32" and not args.no_tarball:
        windows_installer(app_dir)

    start_problems: list[str] = []
    if args.start_runs > 0:
        runs = measure_start(exe, args.start_runs, args.start_timeout)
        windows = [r.to_window for r in runs if r.to_window is not None]
        exits = [r.to_exit for r in runs if r.to_exit is not None and r.returncode == 0]
        if len(windows) == len(runs):
            median = statistics.median(windows)
            verdict = "ok" if median < START_TARGET_S else "OVER"
            each = ", ".join(f"{w:.2f}" for w in windows)
            print(
                f"start to window   {median:.2f} s median of {len(runs)} "
                f"(target < {START_TARGET_S:.0f} s: {verdict}; runs {each})"
            )
        else:
            start_problems.append("the app never reported its window (is startup_probe called?)")
            print("start to window   not reported: the GUI does not call startup_probe yet")
            print("    last output: " + (runs[-1].output.strip()[-600:] or "(none)"))
        if len(exits) == len(runs):
            print(f"start to exit     {statistics.median(exits):.2f} s median (clean exit 0)")
        else:
            codes = [r.returncode for r in runs]
            start_problems.append(f"headless start did not exit cleanly (exit codes {codes})")
            print(f"start to exit     not clean: exit codes {codes} (None = killed at timeout)")

        node = measure_node_unpack(exe, args.start_timeout)
        if node is not None:
            print(
                f"Playwright CLI    {node[0]:.2f} s first run (unpacks Node.js), {node[1]:.2f} s after"
            )

    if args.strict:
        problems += start_problems
    for problem in problems:
        print(f"MISS: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
