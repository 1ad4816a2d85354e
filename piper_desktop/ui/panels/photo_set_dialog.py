"""Add a photo set: pick images, put them in order (drag, or Up/Down), choose the
cover and a title. The set is checked (each image probed) and stored off the GUI
thread; a refused image is named in one line and nothing is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...domain.errors import DomainError
from ...domain.photo_sets import PhotoSetService
from ...domain.photos import MAX_IMAGES
from ..context import AppContext
from ..tasks import run_task

THUMB = QSize(96, 128)
PATH_ROLE = Qt.ItemDataRole.UserRole


class PhotoSetDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Add photo set")
        self.images = QListWidget()
        self.images.setViewMode(QListWidget.ViewMode.IconMode)
        self.images.setIconSize(THUMB)
        self.images.setMovement(QListWidget.Movement.Snap)
        self.images.setGridSize(QSize(150, 170))  # room for "12. name ★ cover"
        self.images.setWordWrap(True)
        self.images.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.images.setMinimumSize(560, 200)
        self.images.model().rowsMoved.connect(self._renumber)
        self.title = QLineEdit()
        self.title.setPlaceholderText("Its name in the library (TikTok's photo title, up to 90)")
        self.cover = QSpinBox()
        self.cover.setMinimum(1)
        self.cover.valueChanged.connect(self._renumber)
        self.error = QLabel()
        self.error.setObjectName("Error")
        self.error.setWordWrap(True)
        buttons = QHBoxLayout()
        for text, slot in (
            ("Add images…", self.choose),
            ("Move left", lambda: self.move_image(-1)),
            ("Move right", lambda: self.move_image(1)),
            ("Remove", self.remove),
        ):
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        form = QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Cover (image number)", self.cover)
        self.box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.box.accepted.connect(self.save)
        self.box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"1 to {MAX_IMAGES} images (JPEG, PNG or WebP), in post order"))
        layout.addWidget(self.images)
        layout.addLayout(buttons)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.box)
        self._renumber()

    # --- the list ---------------------------------------------------------------------
    def choose(self) -> None:
        dialog = QFileDialog(self, "Choose images")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters(["Images (*.jpg *.jpeg *.png *.webp)", "All files (*)"])
        dialog.filesSelected.connect(self.add_images)
        dialog.open()

    def add_images(self, paths: list[str]) -> None:
        for path in paths:
            item = QListWidgetItem(self._thumb(path), Path(path).name)
            item.setData(PATH_ROLE, path)
            item.setToolTip(path)
            self.images.addItem(item)
        self._renumber()

    @staticmethod
    def _thumb(path: str) -> QIcon:
        pixmap = QPixmap(path)  # a preview only: the probe decides what the image is
        if pixmap.isNull():
            return QIcon()
        return QIcon(pixmap.scaled(THUMB, Qt.AspectRatioMode.KeepAspectRatio))

    def move_image(self, step: int) -> None:
        row = self.images.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.images.count():
            return
        item = self.images.takeItem(row)
        self.images.insertItem(target, item)
        self.images.setCurrentRow(target)
        self._renumber()

    def remove(self) -> None:
        row = self.images.currentRow()
        if row >= 0:
            self.images.takeItem(row)
            self._renumber()

    def paths(self) -> list[str]:
        return [str(self.images.item(i).data(PATH_ROLE)) for i in range(self.images.count())]

    def _renumber(self, *_: Any) -> None:
        count = self.images.count()
        self.cover.setMaximum(max(1, count))
        for i in range(count):
            item = self.images.item(i)
            name = Path(str(item.data(PATH_ROLE))).name
            mark = " ★ cover" if i + 1 == self.cover.value() else ""
            item.setText(f"{i + 1}. {name}{mark}")
        self.box.button(QDialogButtonBox.StandardButton.Ok).setEnabled(count > 0)

    # --- saving -----------------------------------------------------------------------
    def save(self) -> None:
        service = PhotoSetService(self.ctx.services.media.db)
        paths, title, cover = self.paths(), self.title.text().strip() or None, self.cover.value()
        self.box.setEnabled(False)

        def done(_: object) -> None:
            self.ctx.success(f"Added a photo set of {len(paths)} images")
            self.ctx.changed("media")
            self.accept()

        def failed(exc: BaseException) -> None:
            self.box.setEnabled(True)
            text = str(exc) if isinstance(exc, DomainError) else "could not add the photo set"
            self.error.setText(text)

        run_task(
            lambda: service.add(paths, title=title, cover_index=cover - 1),
            done,
            failed,
            owner=self,
        )
