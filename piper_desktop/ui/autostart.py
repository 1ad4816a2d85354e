"""Start Piper (minimized to the tray) when the operator logs in: an XDG autostart entry
on Linux, a LaunchAgent on macOS, the per-user Run key on Windows."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

NAME = "piper-desktop"


def command() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, "--minimized"]
    return [sys.executable, "-m", "piper_desktop", "--minimized"]


def _xdg_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / f"{NAME}.desktop"


def _launch_agent() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / "com.piper.desktop.plist"


def _quote(part: str) -> str:
    return f'"{part}"' if " " in part else part


def is_enabled() -> bool:
    if sys.platform == "win32":
        import winreg

        try:
            with winreg.OpenKey(
                winreg.HKEY_CURRENT_USER, r"Software\Microsoft\Windows\CurrentVersion\Run"
            ) as key:
                winreg.QueryValueEx(key, "PiperDesktop")
            return True
        except OSError:
            return False
    if sys.platform == "darwin":
        return _launch_agent().exists()
    return _xdg_file().exists()


def set_enabled(enabled: bool) -> None:
    if sys.platform == "win32":
        import winreg

        with winreg.OpenKey(
            winreg.HKEY_CURRENT_USER,
            r"Software\Microsoft\Windows\CurrentVersion\Run",
            0,
            winreg.KEY_SET_VALUE,
        ) as key:
            if enabled:
                winreg.SetValueEx(
                    key, "PiperDesktop", 0, winreg.REG_SZ, " ".join(map(_quote, command()))
                )
            else:
                with contextlib.suppress(FileNotFoundError):
                    winreg.DeleteValue(key, "PiperDesktop")
        return
    target = _launch_agent() if sys.platform == "darwin" else _xdg_file()
    if not enabled:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    if sys.platform == "darwin":
        arguments = "".join(f"<string>{part}</string>" for part in command())
        target.write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<plist version="1.0"><dict>'
            "<key>Label</key><string>com.piper.desktop</string>"
            f"<key>ProgramArguments</key><array>{arguments}</array>"
            "<key>RunAtLoad</key><true/></dict></plist>\n",
            encoding="utf-8",
        )
        return
    target.write_text(
        "[Desktop Entry]\nType=Application\nName=Piper Desktop\n"
        f"Exec={' '.join(map(_quote, command()))}\n"
        "X-GNOME-Autostart-enabled=true\nTerminal=false\n",
        encoding="utf-8",
    )
