"""`piper self-test`: one line per check, so a frozen build proves it has what it needs."""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .paths import resource, resources_dir


@dataclass
class Check:
    name: str
    run: Callable[[], str]
    required: bool = True


def _database() -> str:
    from .store.vault import change_password, create_vault, unlock_vault

    with tempfile.TemporaryDirectory(prefix="piper-selftest-") as tmp:
        directory = Path(tmp)
        db = create_vault(directory, "self-test-password")
        db.close()
        db = unlock_vault(directory, "self-test-password")
        change_password(db, "self-test-password-2")
        db.close()
        unlock_vault(directory, "self-test-password-2").close()
    return "create, unlock and re-key in a temp dir"


def _migrations() -> str:
    from .store.migrate import MIGRATIONS_DIR, head_revision

    versions = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    if not versions:
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return f"{len(versions)} revisions, head {head_revision()}"


def _resources() -> str:
    needed = ["profile_templates.json"]
    missing = [n for n in needed if not resource(n).exists()]
    if missing:
        raise RuntimeError(f"missing in {resources_dir()}: {', '.join(missing)}")
    return str(resources_dir())


def _qt() -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])
    return f"platform plugin {app.platformName()!r} loaded"


def _playwright() -> str:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        return f"driver started ({p.chromium.name})"


def _browser() -> str:
    try:
        module = importlib.import_module("piper_desktop.browser.executable")
    except ModuleNotFoundError:
        raise RuntimeError("browser layer not installed") from None
    found = module.find_browser()
    return str(found)


CHECKS = [
    Check("database", _database),
    Check("migrations", _migrations),
    Check("resources", _resources),
    Check("qt", _qt),
    Check("playwright", _playwright),
    Check("browser", _browser, required=False),
]


def run_self_test(print_line: Callable[[str], None] = print) -> bool:
    ok = True
    for check in CHECKS:
        try:
            detail = check.run()
            print_line(f"ok    {check.name}: {detail}")
        except Exception as exc:
            status = "FAIL" if check.required else "warn"
            ok = ok and not check.required
            print_line(f"{status}  {check.name}: {exc}")
    return ok
