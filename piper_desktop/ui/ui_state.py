"""Small window facts kept between runs (geometry, last panel, hints already shown).

Nothing secret goes here: it is a plain JSON file next to the database.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILENAME = "ui-state.json"


class UiState:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILENAME
        self._data: dict[str, Any] = {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self._data = loaded
        except (OSError, ValueError):
            self._data = {}

    def has(self, key: str) -> bool:
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._data[key] = value
        self.save()

    def save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temp = self.path.with_suffix(".tmp")
            temp.write_text(json.dumps(self._data, indent=2), encoding="utf-8")
            os.replace(temp, self.path)
        except OSError:
            pass  # window state is a convenience; never fail over it
