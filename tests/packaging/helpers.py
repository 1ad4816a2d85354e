"""Loading the build helpers (they live beside piper.spec, not in the package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def build_helpers() -> ModuleType:
    name = "piper_build_helpers"
    if name in sys.modules:
        return sys.modules[name]
    path = REPO / "packaging" / "pyinstaller" / "build_helpers.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
