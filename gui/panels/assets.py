"""Files under assets/ and assets.extra/, with a preview of the selected one; TF Serving's
warmup file previews as its records (signature, inputs, dtypes, shapes) and their problems,
and a record can be sent to the Run panel as its inputs.

Files are only read, off the UI thread (vocabularies can be large); nothing is written.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.assets import (
    HEX_BYTES,
    FilePreview,
    asset_root,
    asset_users,
    outside_asset,
    preview_file,
)
from smlens.core.analysis.warmup import (
    WarmupReport,
    preview_warmup,
    record_summary,
    render_warmup,
)
from smlens.core.formats.warmup import WARMUP_FILE
from smlens.core.model import Model
from smlens.core.model.text import counted, grouped, human_bytes
from smlens.gui.base.panel import Panel
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.base.widgets import (
    SORT_ROLE,
    PlaceholderStack,
    cell,
    mono_font,
    muted_label,
    row_table,
)

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
NO_ASSETS = "No assets: this model ships no files under assets/ or assets.extra/."


class AssetPanel(Panel):
    """Asset files with sizes; a text or hex preview of the selected one."""

    title = "Assets"
    part = "assets"

    preview_loaded = Signal()
    run_inputs_requested = Signal(object, int)  # a WarmupFile, the record to run with

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table_model = QStandardItemModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = row_table(self.proxy, word_wrap=True)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)

        self.info_label = muted_label()
        self.info_label.setWordWrap(True)
        self.preview_anyway = QPushButton("Preview anyway")
        self.preview_anyway.setToolTip("Read this file although it is outside the model folder")
        self.preview_anyway.clicked.connect(self._on_preview_anyway_clicked)
        self.preview_anyway.hide()
        self.record_combo = QComboBox()
        self.record_combo.setToolTip("A record of the warmup file")
        self.use_record_button = QPushButton("Use as Run inputs")
        self.use_record_button.setToolTip("Open the Run panel with this record as the inputs")
        self.use_record_button.clicked.connect(self._on_use_record_clicked)
        self.record_combo.currentIndexChanged.connect(self._on_record_changed)
        info_row = QHBoxLayout()
        info_row.setContentsMargins(0, 0, 0, 0)
        info_row.addWidget(self.info_label, 1)
        info_row.addWidget(self.preview_anyway, 0)
        info_row.addWidget(self.record_combo, 0)
        info_row.addWidget(self.use_record_button, 0)
        self.preview_edit = QPlainTextEdit()
        self.preview_edit.setReadOnly(True)
        self.preview_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview_edit.setFont(mono_font())
        preview = QWidget()
        column = QVBoxLayout(preview)
        column.setContentsMargins(0, 4, 0, 0)
        column.addLayout(info_row)
        column.addWidget(self.preview_edit, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(preview)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        self.stack = PlaceholderStack(splitter, NO_ASSETS)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.stack)

        self.preview: FilePreview | None = None
        self.warmup: WarmupReport | None = None
        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._on_preview_ready)
        self._runner.failed.connect(self._on_preview_failed)

    def show_model(self, model: Model | None) -> None:
        self._runner.cancel()
        self.table_model.clear()
        self.table_model.setHorizontalHeaderLabels(["File", "Size", "Folder", "Used by"])
        # setHeaderData, not horizontalHeaderItem(): see OpPanel._on_tag_set_changed
        self.table_model.setHeaderData(
            1, Qt.Orientation.Horizontal, RIGHT, Qt.ItemDataRole.TextAlignmentRole
        )
        for col in (0, 2, 3):
            self.table_model.setHeaderData(
                col,
                Qt.Orientation.Horizontal,
                Qt.AlignmentFlag.AlignLeft,
                Qt.ItemDataRole.TextAlignmentRole,
            )
        assets = model.assets if model else []
        users = asset_users(model) if model else {}
        for asset in assets:
            name = asset.path.split("/", 1)[-1]
            folder = "assets.extra" if asset.extra else "assets"
            cells = [
                cell(name),
                cell(human_bytes(asset.size), asset.size, RIGHT),
                cell(folder),
                cell(", ".join(users.get(name, []))),
            ]
            cells[0].setData(asset.path, SORT_ROLE + 1)
            cells[0].setToolTip(asset.path)
            self.table_model.appendRow(cells)
        self.stack.show_content(bool(assets))
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnsToContents()
        for col in range(3):
            self.table.setColumnWidth(col, self.table.columnWidth(col) + 16)
        self._clear_preview("Select a file to preview it.")
        if assets:
            self.table.selectRow(0)

    def selected_path(self) -> str | None:
        """The selected asset, relative to the model folder ("assets/vocab.txt")."""
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.proxy.index(index.row(), 0).data(SORT_ROLE + 1)

    def _clear_preview(self, message: str) -> None:
        self.preview = None
        self.warmup = None
        self.info_label.setText(message)
        self.preview_edit.clear()
        self.preview_anyway.hide()
        self.record_combo.clear()
        self.record_combo.hide()
        self.use_record_button.hide()

    def _on_current_changed(self, *_indexes) -> None:
        rel = self.selected_path()
        if rel is None or self.model is None:
            return
        reason = outside_asset(self.model, rel)
        if reason is not None:  # /etc/passwd behind a symlink is not shown unasked
            self._clear_preview(f"{rel} {reason}: not previewed.")
            self.preview_anyway.show()
            return
        self._clear_preview(f"Reading {rel}…")
        if rel == WARMUP_FILE:
            self._runner.start(preview_warmup, self.model)
            return
        root = asset_root(self.model)
        self._runner.start(partial(preview_file, root=root), root / rel)

    def _on_preview_anyway_clicked(self) -> None:
        rel = self.selected_path()
        if rel is None or self.model is None:
            return
        self._clear_preview(f"Reading {rel}…")
        self._runner.start(preview_file, asset_root(self.model) / rel)

    def _on_preview_ready(self, preview: FilePreview | WarmupReport) -> None:
        if isinstance(preview, WarmupReport):
            self._show_warmup(preview)
            return
        self.preview = preview
        rel = self.selected_path()
        size = human_bytes(preview.size)
        if preview.binary:
            shown = min(preview.size, HEX_BYTES)
            info = f"{rel} · binary · {size} · first {grouped(shown)} bytes"
        else:
            more = (
                f", first {grouped(preview.shown_lines)} shown"
                if (preview.line_count or 0) > preview.shown_lines
                else ""
            )
            info = f"{rel} · {grouped(preview.line_count or 0)} lines{more} · {size}"
        self.info_label.setText(info)
        self.preview_edit.setPlainText(preview.text)
        self.preview_loaded.emit()

    def _show_warmup(self, report: WarmupReport) -> None:
        """The warmup file's records, checked against the signatures they name."""
        self.warmup = report
        fit = (
            "every record fits its signature"
            if not report.problems
            else f"{counted(len(report.problems), 'problem')}: TF Serving would fail to load it"
        )
        records = counted(len(report.records), "warmup record")
        self.info_label.setText(f"{WARMUP_FILE} · {records} · {fit}")
        self.preview_edit.setPlainText(render_warmup(report))
        self.record_combo.blockSignals(True)
        for record in report.records:
            named = ", ".join(record.signatures) or record.kind
            self.record_combo.addItem(f"record {record.index} · {named}", record.index)
            self.record_combo.setItemData(
                self.record_combo.count() - 1, record_summary(record), Qt.ItemDataRole.ToolTipRole
            )
        self.record_combo.blockSignals(False)
        self.record_combo.setVisible(bool(report.records))
        self.use_record_button.setVisible(bool(report.records))
        self._on_record_changed()
        self.preview_loaded.emit()

    def _on_record_changed(self, _index: int = 0) -> None:
        """Only a record that names a signature can be run."""
        index = self.record_combo.currentData()
        records = self.warmup.records if self.warmup else ()
        usable = index is not None and bool(records[index].signatures)
        self.use_record_button.setEnabled(usable)

    def _on_use_record_clicked(self) -> None:
        index = self.record_combo.currentData()
        if self.warmup is not None and index is not None:
            self.run_inputs_requested.emit(self.warmup.file, index)

    def _on_preview_failed(self, error: object) -> None:
        self._clear_preview(f"Cannot read the file: {error}")


if __name__ == "__main__":
    from smlens.gui.base.preview import preview

    preview(AssetPanel)
