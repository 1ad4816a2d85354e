"""The media library: add files or whole folders (buttons or drag and drop), see a
thumbnail, set each video's default caption and hashtags, ask for AI caption ideas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...domain import media as med
from ...domain.errors import DomainError
from ...domain.mediafile import VIDEO_SUFFIXES
from .. import formatting as fmt
from ..context import AppContext
from ..forms import FieldUI, FormDialog, ui_fields
from ..icons import icon
from ..table_model import Column
from ..table_panel import TablePanel
from ..tasks import Progress, run_task
from ..thumbnails import HEIGHT, WIDTH, ThumbnailCache

FORM = [
    FieldUI("title", "Title"),
    FieldUI("default_caption", "Default caption", "multiline", hint="Up to 2,200 characters"),
    FieldUI("hashtags", "Hashtags", placeholder="#fitness #morning (spaces or commas)"),
    FieldUI("notes", "Notes", "multiline", hint="Also given to the caption assistant"),
]


class MediaDialog(FormDialog):
    """The media form plus caption ideas from the assistant (never posted on their own)."""

    def __init__(self, panel: MediaPanel, row: dict[str, Any]) -> None:
        services = panel.ctx.services
        media_id = row["id"]
        super().__init__(
            f"Edit {row.get('title') or 'video'}",
            ui_fields(med.FIELDS, [FieldUI(**f.__dict__) for f in FORM]),
            lambda values: services.media.edit(media_id, values),
            initial={k: row.get(k) for k in med.FIELDS},
            intro=row.get("path", ""),
            parent=panel,
        )
        self.panel = panel
        self.media_id = media_id
        ideas = QWidget()
        layout = QVBoxLayout(ideas)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.suggest_button = QPushButton(icon("wand"), "Suggest captions")
        self.suggest_button.setObjectName("suggest_captions")
        self.suggest_button.clicked.connect(self.suggest)
        head.addWidget(self.suggest_button)
        self.ideas_note = QLabel("Ideas from the caption assistant; pick one to use it.")
        self.ideas_note.setObjectName("Hint")
        head.addWidget(self.ideas_note, 1)
        layout.addLayout(head)
        self.ideas = QListWidget()
        self.ideas.setObjectName("caption_ideas")
        self.ideas.setWordWrap(True)
        self.ideas.setMaximumHeight(120)
        self.ideas.hide()
        self.ideas.itemActivated.connect(self.use_idea)
        self.ideas.itemClicked.connect(self.use_idea)
        layout.addWidget(self.ideas)
        self.outer.insertWidget(self.outer.count() - 2, ideas)
        self.resize(620, 640)

    def suggest(self) -> None:
        from ...clients.captions import caption_suggestions

        services = self.panel.ctx.services
        media_id = self.media_id
        self.suggest_button.setEnabled(False)
        self.ideas_note.setText("Asking the caption assistant…")
        run_task(
            lambda: caption_suggestions(services, media_id, n=3),
            self._ideas,
            self._no_ideas,
            owner=self,
        )

    def _ideas(self, suggestions: list[str]) -> None:
        self.suggest_button.setEnabled(True)
        self.ideas.clear()
        for text in suggestions:
            QListWidgetItem(text, self.ideas)
        self.ideas.setVisible(bool(suggestions))
        self.ideas_note.setText(
            "Click an idea to use it as the caption." if suggestions else "No ideas came back."
        )

    def _no_ideas(self, exc: BaseException) -> None:
        self.suggest_button.setEnabled(True)
        self.ideas_note.setText(f"No suggestions: {exc}")

    def use_idea(self, item: QListWidgetItem) -> None:
        self.editors["default_caption"].set_raw(item.text())


class MediaPanel(TablePanel):
    title = "Media library"
    noun = "video"
    table_name = "media"
    icon_name = "media"
    empty_hint = "No videos yet. Drop video files or folders here, or use Add files."

    def __init__(self, ctx: AppContext) -> None:
        self.thumbs = ThumbnailCache(lambda media_id: self.model.patch(media_id, {}))
        columns = [
            Column(
                "thumb", "", WIDTH + 16, sort=None, decoration=self.thumbs.icon, fmt=lambda r: ""
            ),
            Column("title", "Title", 220),
            Column(
                "duration_sec",
                "Length",
                70,
                fmt=lambda r: fmt.duration(r.get("duration_sec")),
                align="right",
            ),
            Column("size", "Size", 80, fmt=lambda r: fmt.size(r.get("size")), align="right"),
            Column(
                "hashtags",
                "Hashtags",
                180,
                fmt=lambda r: fmt.hashtags(r.get("hashtags")),
                sort=None,
            ),
            Column("default_caption", "Default caption", 280, sort=None, stretch=True),
            Column("jobs_count", "Jobs", 60, align="right"),
            Column("created_at", "Added", 120, fmt=lambda r: fmt.when(r.get("created_at"))),
        ]
        super().__init__(ctx, columns)
        self.view.setIconSize(QSize(WIDTH, HEIGHT))
        self.view.verticalHeader().setDefaultSectionSize(HEIGHT + 12)
        self.setAcceptDrops(True)

    def depends_on(self) -> tuple[str, ...]:
        return ("jobs",)

    def build_actions(self) -> None:
        self.add_action(
            "Add folder…", self.choose_folder, icon_name="folder", header=True, context=False
        )
        self.add_action(
            "Add files…",
            self.choose_files,
            icon_name="add",
            shortcut=QKeySequence.StandardKey.New,
            header=True,
            primary=True,
            context=False,
        )
        self.add_action(
            "Add photo set…", self.add_photo_set, icon_name="add", header=True, context=False
        )
        self.add_action("Edit…", self.edit_selected, icon_name="edit", needs="one", toolbar=True)
        self.add_action("Show in folder", self.reveal, icon_name="folder", needs="one")
        self.add_separator()
        self.add_action(
            "Remove from library…",
            self.delete_selected,
            icon_name="delete",
            needs="any",
            shortcut=QKeySequence.StandardKey.Delete,
        )
        hint = QLabel("Drop videos or folders anywhere here")
        hint.setObjectName("Hint")
        self.toolbar.insertWidget(0, hint)

    def activated(self, row: dict[str, Any]) -> None:
        self.edit(row)

    # --- adding files ----------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.add_paths(paths)

    def choose_files(self) -> None:
        dialog = QFileDialog(self, "Add videos")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        patterns = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES))
        dialog.setNameFilters([f"Videos ({patterns})", "All files (*)"])
        dialog.filesSelected.connect(self.add_paths)
        dialog.open()

    def choose_folder(self) -> None:
        dialog = QFileDialog(self, "Add a folder of videos")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(lambda path: self.add_paths([path]))
        dialog.open()

    def add_paths(self, paths: list[str]) -> None:
        services = self.ctx.services
        progress = Progress(lambda text: self.ctx.info(text), owner=self)

        def add() -> tuple[int, int, list[str]]:
            files = services.media.expand_paths(list(paths))
            created = refreshed = 0
            problems: list[str] = []
            for number, file in enumerate(files, start=1):
                progress.report(f"Adding videos: {number} of {len(files)} ({file.name})")
                try:
                    _item, new = services.media.add(file)
                except DomainError as exc:
                    problems.append(f"{file.name}: {exc}")
                    continue
                created += new
                refreshed += not new
            return created, refreshed, problems

        def done(result: tuple[int, int, list[str]]) -> None:
            created, refreshed, problems = result
            text = f"Added {fmt.count(created, 'video')}"
            if refreshed:
                text += f", {refreshed} already in the library"
            if problems:
                self.ctx.error(text + f"; {len(problems)} skipped: " + "; ".join(problems[:3]))
            else:
                self.ctx.success(text)
            self.ctx.changed("media")
            progress.deleteLater()

        run_task(add, done, lambda exc: self.ctx.error(f"Could not add videos: {exc}"), owner=self)

    def add_photo_set(self) -> QWidget:
        from .photo_set_dialog import PhotoSetDialog

        dialog = PhotoSetDialog(self.ctx, self)
        dialog.open()
        return dialog

    # --- edit / remove -----------------------------------------------------------------------
    def edit_selected(self) -> None:
        row = self.current_row()
        if row is not None:
            self.edit(row)

    def edit(self, row: dict[str, Any]) -> MediaDialog:
        dialog = MediaDialog(self, row)
        self.open_form(dialog, "media", "Saved the video's details")
        return dialog

    def reveal(self) -> None:
        from PySide6.QtCore import QUrl

        row = self.current_row()
        if row is not None:
            self.ctx.open_url(QUrl.fromLocalFile(str(Path(row["path"]).parent)).toString())

    def delete_selected(self) -> None:
        self.confirm_delete(
            title="Remove videos",
            question=lambda n: f"Remove {fmt.count(n, 'video')} from the library?",
            remove_one=self.ctx.services.media.remove,
            success="Removed {result} video(s)",
            changed=("media",),
            detail="The files stay on disk. Videos that have jobs cannot be removed.",
            yes_text="Remove",
            error_prefix="Cannot remove: ",
        )
