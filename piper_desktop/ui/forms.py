"""Create/edit dialogs that validate as you type, with the domain's own field parsers.

Each field's widget is checked on every change by the parser the services use
(`domain/*.FIELDS`), so the dialog names what is wrong before saving, in the same words
the CLI and importers use. Saving runs the service call in the background; an error it
raises for a field is shown at that field and the dialog stays open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..domain import fields as f
from ..domain.errors import DomainError, ValidationError
from ..logs import mask
from .tasks import run_task

Choices = Sequence[tuple[str, Any]]


@dataclass
class FieldUI:
    """One field of a form.

    kind: text | password | multiline | int | float | bool | choice | zone | time | list
    """

    name: str
    label: str
    kind: str = "text"
    parse: f.Parser | None = None
    required: bool = False
    choices: Choices = field(default_factory=list)
    hint: str = ""
    placeholder: str = ""
    editable_choice: bool = False


def ui_fields(specs: dict[str, f.Field], layout: Sequence[FieldUI]) -> list[FieldUI]:
    """Attach the domain parser (and required flag) to each UI field by name."""
    result = []
    for item in layout:
        spec = specs.get(item.name)
        if spec is not None and item.parse is None:
            item.parse = spec.parse
            item.required = item.required or spec.required
        result.append(item)
    return result


def set_invalid(widget: QWidget, invalid: bool) -> None:
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


_ZONES: list[str] | None = None


def zone_names() -> list[str]:
    global _ZONES
    if _ZONES is None:
        from zoneinfo import available_timezones

        _ZONES = sorted(available_timezones() | {"UTC"})
    return _ZONES


class FieldEditor:
    """A widget for one field plus its error label; reads and writes raw values."""

    def __init__(self, spec: FieldUI, on_change: Callable[[], None]) -> None:
        self.spec = spec
        self.error = QLabel()
        self.error.setObjectName("FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        kind = spec.kind
        self.widget: QWidget
        if kind == "bool":
            box = QCheckBox(spec.hint or "")
            box.toggled.connect(lambda _v: on_change())
            self.widget = box
        elif kind == "choice":
            combo = QComboBox()
            combo.setEditable(spec.editable_choice)
            for label, value in spec.choices:
                combo.addItem(label, value)
            combo.currentIndexChanged.connect(lambda _i: on_change())
            if spec.editable_choice:
                combo.editTextChanged.connect(lambda _t: on_change())
            self.widget = combo
        elif kind == "zone":
            combo = QComboBox()
            combo.setEditable(True)
            combo.addItems(zone_names())
            completer = QCompleter(zone_names(), combo)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            combo.setCompleter(completer)
            combo.setCurrentText("")
            combo.editTextChanged.connect(lambda _t: on_change())
            self.widget = combo
        elif kind == "multiline":
            text = QPlainTextEdit()
            text.setPlaceholderText(spec.placeholder)
            text.setFixedHeight(84)
            text.textChanged.connect(on_change)
            self.widget = text
        else:
            line = QLineEdit()
            line.setPlaceholderText(spec.placeholder)
            if kind == "password":
                line.setEchoMode(QLineEdit.EchoMode.Password)
            line.textChanged.connect(lambda _t: on_change())
            self.widget = line
        self.widget.setObjectName(f"field_{spec.name}")

    def raw(self) -> Any:
        widget = self.widget
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, QComboBox):
            if self.spec.kind == "zone" or (
                self.spec.editable_choice and widget.currentText() != widget.currentData()
            ):
                if self.spec.editable_choice:
                    index = widget.findText(widget.currentText())
                    if index >= 0:
                        return widget.itemData(index)
                return widget.currentText().strip()
            return widget.currentData()
        if isinstance(widget, QPlainTextEdit):
            return widget.toPlainText()
        assert isinstance(widget, QLineEdit)
        return widget.text()

    def set_raw(self, value: Any) -> None:
        widget = self.widget
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QComboBox):
            if self.spec.kind == "zone":
                widget.setCurrentText(str(value or ""))
                return
            index = widget.findData(value)
            if index < 0 and self.spec.editable_choice:
                widget.setCurrentText("" if value is None else str(value))
            else:
                widget.setCurrentIndex(max(0, index))
        elif isinstance(widget, QPlainTextEdit):
            widget.setPlainText("" if value is None else str(value))
        else:
            assert isinstance(widget, QLineEdit)
            widget.setText(_as_text(value))

    def show_error(self, reason: str | None) -> None:
        if reason:
            self.error.setText(f"{self.spec.label}: {reason}")
            self.error.show()
        else:
            self.error.clear()
            self.error.hide()
        set_invalid(self.widget, bool(reason))

    def check(self) -> str | None:
        """The parser's reason this value is wrong, or None."""
        value = self.raw()
        if self.spec.kind in ("text", "password", "multiline", "int", "float", "zone", "time"):
            empty = not str(value).strip()
            if empty and self.spec.required:
                return "is required"
        if self.spec.parse is None:
            return None
        if self.spec.kind == "password" and not value:
            return None
        try:
            parsed = self.spec.parse(self.spec.name, value)
        except ValidationError as exc:
            return exc.reason
        if parsed is None and self.spec.required:
            return "is required"
        return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class FormDialog(QDialog):
    """A create/edit form. `submit(values)` runs in the background; `values` holds the
    raw value of every field (edit: only the fields that changed)."""

    def __init__(
        self,
        title: str,
        fields: Sequence[FieldUI],
        submit: Callable[[dict[str, Any]], Any],
        *,
        initial: dict[str, Any] | None = None,
        intro: str = "",
        submit_text: str = "Save",
        cross_check: Callable[[dict[str, Any]], ValidationError | None] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(520)
        self._submit = submit
        self._submit_text = submit_text
        self._cross_check = cross_check
        self.editing = initial is not None
        self.result_value: Any = None
        self.editors: dict[str, FieldEditor] = {}
        self._initial: dict[str, Any] = {}
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.validate)

        # heading, intro, fields, error, buttons: subclasses insert their own rows here
        self.outer = outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 18, 20, 16)
        heading = QLabel(title)
        heading.setObjectName("PanelTitle")
        outer.addWidget(heading)
        if intro:
            note = QLabel(intro)
            note.setObjectName("Muted")
            note.setWordWrap(True)
            outer.addWidget(note)

        body = QWidget()
        form = QFormLayout(body)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setVerticalSpacing(6)
        for spec in fields:
            editor = FieldEditor(spec, self._validate_soon)
            self.editors[spec.name] = editor
            holder = QVBoxLayout()
            holder.setSpacing(2)
            holder.addWidget(editor.widget)
            if spec.hint and spec.kind != "bool":
                hint = QLabel(spec.hint)
                hint.setObjectName("Hint")
                hint.setWordWrap(True)
                holder.addWidget(hint)
            holder.addWidget(editor.error)
            label = spec.label + (" *" if spec.required else "")
            form.addRow(label, holder)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll, 1)

        self.form_error = QLabel()
        self.form_error.setObjectName("FormError")
        self.form_error.setWordWrap(True)
        self.form_error.hide()
        outer.addWidget(self.form_error)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = QPushButton(submit_text)
        self.save_button.setObjectName("save")
        self.save_button.setProperty("primary", True)
        self.save_button.setDefault(True)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)

        if initial:
            for name, editor in self.editors.items():
                if name in initial and editor.spec.kind != "password":
                    editor.set_raw(initial[name])
            for name, editor in self.editors.items():
                self._initial[name] = editor.raw()
                if editor.spec.kind == "password":
                    editor.widget.setProperty("placeholderText", "unchanged")
        self.validate(show_required=False)
        height = min(720, 150 + 62 * len(fields))
        self.resize(560, height)

    def _validate_soon(self) -> None:
        self._timer.start()

    def validate(self, show_required: bool = True) -> bool:
        ok = True
        for editor in self.editors.values():
            reason = editor.check()
            if reason == "is required" and not show_required:
                editor.show_error(None)
                ok = False
                continue
            editor.show_error(reason)
            ok = ok and reason is None
        if ok and self._cross_check is not None:
            problem = self._cross_check(self.all_values())
            if problem is not None:
                ok = False
                self.show_field_error(problem.field, problem.reason)
        self.save_button.setEnabled(ok and not self._busy)
        return ok

    def all_values(self) -> dict[str, Any]:
        return {name: editor.raw() for name, editor in self.editors.items()}

    def values(self) -> dict[str, Any]:
        """What to send: every field on create; the changed ones on edit. Blank
        passwords are left out (unchanged)."""
        values = {}
        for name, editor in self.editors.items():
            raw = editor.raw()
            if editor.spec.kind == "password" and not raw:
                continue
            if self.editing and self._initial.get(name) == raw:
                continue
            if isinstance(raw, str) and not raw.strip() and not self.editing:
                continue
            values[name] = raw
        return values

    def show_field_error(self, name: str, reason: str) -> None:
        editor = self.editors.get(name)
        if editor is not None:
            editor.show_error(reason)
            editor.widget.setFocus()
        else:
            self.form_error.setText(f"{name}: {reason}")
            self.form_error.show()

    def _save(self) -> None:
        self.form_error.hide()
        if not self.validate():
            return
        values = self.values()
        if self.editing and not values:
            self.accept()
            return
        self._busy = True
        self.save_button.setEnabled(False)
        self.save_button.setText("Saving…")
        run_task(lambda: self._submit(values), self._saved, self._failed, owner=self)

    def _saved(self, result: Any) -> None:
        self._busy = False
        self.result_value = result
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.save_button.setText(self._submit_text)
        if isinstance(exc, ValidationError):
            self.show_field_error(exc.field, exc.reason)
        elif isinstance(exc, DomainError):
            self.form_error.setText(str(exc))
            self.form_error.show()
        else:
            self.form_error.setText(f"Could not save: {mask(str(exc)) or type(exc).__name__}")
            self.form_error.show()
        self.save_button.setEnabled(True)
