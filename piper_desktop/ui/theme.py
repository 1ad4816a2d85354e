"""Light and dark themes: one palette per mode, a style sheet built from it, status colours.

Fusion style everywhere, so the app looks the same on every desktop; colours come from
`Palette` so widgets that paint themselves (badges, the week calendar) follow the theme.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Palette:
    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    sidebar: str
    sidebar_text: str
    sidebar_active: str
    hover: str
    danger: str


LIGHT = Palette(
    name="light",
    window="#F4F5F9",
    base="#FFFFFF",
    alt_base="#F8F9FC",
    text="#1F2330",
    muted="#6B7185",
    border="#E2E5EE",
    accent="#6C63E8",
    accent_text="#FFFFFF",
    sidebar="#1C2031",
    sidebar_text="#C3C8DC",
    sidebar_active="#2D3350",
    hover="#EEF0FA",
    danger="#C93A3A",
)
DARK = Palette(
    name="dark",
    window="#171A23",
    base="#1F2330",
    alt_base="#232838",
    text="#E6E8F0",
    muted="#9AA0B5",
    border="#2E3446",
    accent="#8B83FF",
    accent_text="#FFFFFF",
    sidebar="#12141C",
    sidebar_text="#AEB4CC",
    sidebar_active="#262B40",
    hover="#2A3043",
    danger="#F07070",
)

# status -> (light bg, light fg, dark bg, dark fg)
_TONES = {
    "good": ("#E3F6EC", "#1B7F46", "#1D3A2B", "#66D69B"),
    "bad": ("#FDE8E8", "#B83232", "#43222A", "#F58B8B"),
    "warn": ("#FFF3DB", "#A3670F", "#3F3220", "#F3C170"),
    "idle": ("#EEF0F4", "#5F6579", "#2A2F3E", "#A3A9BD"),
    "info": ("#E5EFFF", "#2A62C9", "#1F2D4A", "#7FAAF5"),
    "busy": ("#EEEAFF", "#5A50D6", "#2C2850", "#A9A2FF"),
}
STATUS_TONE = {
    "active": "good",
    "ok": "good",
    "published": "good",
    "completed": "good",
    "completed_with_problems": "warn",
    "running": "busy",
    "needs_login": "bad",
    "needs_attention": "bad",
    "error": "bad",
    "failed": "bad",
    "cooldown": "warn",
    "retrying": "warn",
    "paused": "warn",
    "unchecked": "idle",
    "disabled": "idle",
    "cancelled": "idle",
    "draft": "idle",
    "queued": "info",
    "claimed": "busy",
    "submitting": "busy",
    "submitted": "busy",
    "verifying": "busy",
    "checking": "busy",
}

_current = LIGHT


def current() -> Palette:
    return _current


def status_colors(status: str | None) -> tuple[QColor, QColor]:
    tone = _TONES[STATUS_TONE.get(status or "", "idle")]
    if _current.name == "dark":
        return QColor(tone[2]), QColor(tone[3])
    return QColor(tone[0]), QColor(tone[1])


def status_label(status: str | None) -> str:
    return (status or "").replace("_", " ")


def resolve_mode(mode: str) -> str:
    """ "light" or "dark" for a setting of system/light/dark."""
    if mode in ("light", "dark"):
        return mode
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hints is not None else Qt.ColorScheme.Unknown
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def apply_theme(app: QApplication, mode: str = "system") -> Palette:
    global _current
    _current = DARK if resolve_mode(mode) == "dark" else LIGHT
    p = _current
    style = app.style()
    if style is None or style.name().lower() != "fusion":
        app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: p.window,
        QPalette.ColorRole.WindowText: p.text,
        QPalette.ColorRole.Base: p.base,
        QPalette.ColorRole.AlternateBase: p.alt_base,
        QPalette.ColorRole.Text: p.text,
        QPalette.ColorRole.Button: p.base,
        QPalette.ColorRole.ButtonText: p.text,
        QPalette.ColorRole.Highlight: p.accent,
        QPalette.ColorRole.HighlightedText: p.accent_text,
        QPalette.ColorRole.ToolTipBase: p.base,
        QPalette.ColorRole.ToolTipText: p.text,
        QPalette.ColorRole.PlaceholderText: p.muted,
        QPalette.ColorRole.Link: p.accent,
        QPalette.ColorRole.Mid: p.border,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(p.muted))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(p.muted))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor(p.muted))
    app.setPalette(palette)
    app.setStyleSheet(style_sheet(p))
    return p


def style_sheet(p: Palette) -> str:
    return f"""
QWidget {{ font-size: 10pt; }}
QMainWindow, QDialog, QWizard {{ background: {p.window}; }}
QToolTip {{ background: {p.base}; color: {p.text}; border: 1px solid {p.border}; padding: 4px; }}

#Sidebar {{ background: {p.sidebar}; border: none; }}
#Sidebar QListView {{ background: transparent; border: none; outline: 0; }}
#Sidebar QListView::item {{
    color: {p.sidebar_text}; padding: 9px 12px; margin: 2px 8px; border-radius: 8px;
}}
#Sidebar QListView::item:hover {{ background: {p.sidebar_active}; }}
#Sidebar QListView::item:selected {{ background: {p.sidebar_active}; color: #FFFFFF; }}
#Brand {{ color: #FFFFFF; font-size: 13pt; font-weight: 600; }}
#BrandSub {{ color: {p.sidebar_text}; font-size: 8.5pt; }}
#EngineState {{ color: {p.sidebar_text}; font-size: 9pt; padding: 6px 16px 12px 16px; }}

#PanelTitle {{ font-size: 16pt; font-weight: 600; color: {p.text}; }}
#PanelSubtitle {{ color: {p.muted}; }}
#Card {{ background: {p.base}; border: 1px solid {p.border}; border-radius: 10px; }}
#CardTitle {{ font-weight: 600; color: {p.text}; font-size: 10.5pt; }}
#Metric {{ font-size: 20pt; font-weight: 600; color: {p.text}; }}
#MetricLabel {{ color: {p.muted}; }}
#Muted {{ color: {p.muted}; }}
#Hint {{ color: {p.muted}; font-size: 9pt; }}
#FieldError {{ color: {p.danger}; font-size: 9pt; }}
#FormError {{ color: {p.danger}; }}
#Banner {{
    background: {p.hover}; border: 1px solid {p.border}; border-radius: 8px; padding: 8px 12px;
}}
QLabel[level="error"] {{ color: {p.danger}; }}
QLabel[level="banner"] {{
    background: {p.hover}; border: 1px solid {p.border}; border-radius: 8px; padding: 8px 12px;
}}

QTableView {{
    background: {p.base}; alternate-background-color: {p.alt_base};
    border: 1px solid {p.border}; border-radius: 8px; gridline-color: transparent;
    selection-background-color: {p.hover}; selection-color: {p.text}; outline: 0;
}}
QTableView::item {{ padding: 0 6px; border: none; }}
QTableView::item:selected {{ background: {p.hover}; color: {p.text}; }}
QHeaderView::section {{
    background: {p.base}; color: {p.muted}; border: none;
    border-bottom: 1px solid {p.border}; padding: 6px 8px; font-weight: 600;
}}
QTableCornerButton::section {{ background: {p.base}; border: none; }}

QLineEdit, QPlainTextEdit, QTextEdit, QSpinBox, QDoubleSpinBox, QComboBox, QDateTimeEdit,
QTimeEdit {{
    background: {p.base}; border: 1px solid {p.border}; border-radius: 6px; padding: 5px 8px;
    selection-background-color: {p.accent}; selection-color: {p.accent_text};
}}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QSpinBox:focus, QComboBox:focus,
QDateTimeEdit:focus {{ border: 1px solid {p.accent}; }}
*[invalid="true"] {{ border: 1px solid {p.danger}; }}
QComboBox::drop-down {{ border: none; width: 20px; }}

QPushButton, QToolButton {{
    background: {p.base}; color: {p.text}; border: 1px solid {p.border};
    border-radius: 6px; padding: 5px 12px;
}}
QToolButton {{ padding: 5px 8px; }}
QPushButton:hover, QToolButton:hover {{ background: {p.hover}; }}
QPushButton:disabled, QToolButton:disabled {{ color: {p.muted}; }}
QPushButton[primary="true"] {{
    background: {p.accent}; color: {p.accent_text}; border: 1px solid {p.accent};
    font-weight: 600;
}}
QPushButton[primary="true"]:disabled {{ background: {p.border}; border-color: {p.border}; }}
QPushButton[danger="true"] {{ color: {p.danger}; }}
QPushButton[segment="true"] {{ border-radius: 0; }}
QPushButton[segment="true"]:checked {{
    background: {p.accent}; color: {p.accent_text}; border: 1px solid {p.accent};
}}
QToolButton::menu-indicator {{ image: none; }}

QToolBar {{ background: transparent; border: none; spacing: 6px; }}
QStatusBar {{ background: {p.base}; border-top: 1px solid {p.border}; color: {p.muted}; }}
QStatusBar::item {{ border: none; }}
QSplitter::handle {{ background: transparent; }}
QTabWidget::pane {{ border: 1px solid {p.border}; border-radius: 8px; background: {p.base}; }}
QTabBar::tab {{ padding: 6px 14px; color: {p.muted}; border: none; }}
QTabBar::tab:selected {{ color: {p.text}; border-bottom: 2px solid {p.accent}; }}
QProgressBar {{
    background: {p.alt_base}; border: 1px solid {p.border}; border-radius: 5px; height: 10px;
    text-align: center; color: {p.text};
}}
QProgressBar::chunk {{ background: {p.accent}; border-radius: 4px; }}
QGroupBox {{
    background: {p.base}; border: 1px solid {p.border}; border-radius: 10px;
    margin-top: 14px; padding: 14px 12px 10px 12px; font-weight: 600;
}}
QGroupBox::title {{ subcontrol-origin: margin; left: 12px; padding: 0 4px; color: {p.text}; }}
QScrollArea {{ background: transparent; border: none; }}
QMenu {{ background: {p.base}; border: 1px solid {p.border}; padding: 4px; }}
QMenu::item {{ padding: 6px 22px 6px 22px; border-radius: 4px; color: {p.text}; }}
QMenu::item:selected {{ background: {p.hover}; }}
QMenu::item:disabled {{ color: {p.muted}; }}
QMenu::separator {{ height: 1px; background: {p.border}; margin: 4px 8px; }}
"""
