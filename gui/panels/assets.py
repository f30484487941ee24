"""Files under assets/ and assets.extra/, with a preview of the selected one.

Files are only read, off the UI thread (vocabularies can be large); nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QFontDatabase, QStandardItemModel
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from smlens.core.model import Model
from smlens.gui.base.formatting import grouped, human_bytes
from smlens.gui.base.panel import Panel
from smlens.gui.base.tables import SORT_ROLE, cell, row_table
from smlens.gui.base.tasks import TaskRunner

PREVIEW_LINES = 500
HEAD_BYTES = 64 * 1024
HEX_BYTES = 1024
CHUNK = 1 << 20
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
NO_ASSETS = "No assets: this model ships no files under assets/ or assets.extra/."


@dataclass(frozen=True)
class FilePreview:
    size: int
    binary: bool
    text: str  # numbered first lines, or a hex dump of the first bytes
    line_count: int | None  # lines in the whole file (text files)
    shown_lines: int


def hex_dump(data: bytes, width: int = 16) -> str:
    """Offset, hex bytes and printable ASCII per row, as ``hexdump -C`` prints them."""
    rows = []
    for offset in range(0, len(data), width):
        chunk = data[offset : offset + width]
        hexes = " ".join(f"{b:02x}" for b in chunk).ljust(width * 3 - 1)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        rows.append(f"{offset:08x}  {hexes}  |{text}|")
    return "\n".join(rows)


def is_binary(head: bytes) -> bool:
    """NUL bytes or invalid UTF-8 (a character cut at the end of ``head`` is fine)."""
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start < len(head) - 3
    return False


def count_lines(path: Path, cancelled=lambda: False) -> int | None:
    """Lines in the file (a last line without newline counts); None when cancelled."""
    count, last = 0, b"\n"
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            if cancelled():
                return None
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def preview_file(path: str | Path, max_lines: int = PREVIEW_LINES, *, progress, cancelled):
    """The first lines of a text file (numbered from 0, as a vocabulary's ids are), or a
    hex dump of a binary one."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(HEAD_BYTES)
    if is_binary(head):
        return FilePreview(size, True, hex_dump(head[:HEX_BYTES]), None, 0)
    progress(0.2, "counting lines")
    total = count_lines(path, cancelled)
    lines = head.decode("utf-8", "replace").splitlines()
    if size > len(head) and lines:
        lines.pop()  # the last line read may be cut off
    lines = lines[:max_lines]
    width = len(str(max(len(lines) - 1, 0)))
    text = "\n".join(f"{i:>{width}}  {line}" for i, line in enumerate(lines))
    return FilePreview(size, False, text, total, len(lines))


def asset_users(model: Model) -> dict[str, list[str]]:
    """Asset file name -> the graph tensors (asset_file_def) and object paths fed with it."""
    users: dict[str, list[str]] = {}
    for mg in model.meta_graphs:
        for asset in mg.asset_files:
            users.setdefault(asset.filename, []).append(asset.tensor_name)
        if not mg.asset_files:
            for tensor, filename in _collection_assets(mg):
                users.setdefault(filename, []).append(tensor)
        graph = mg.object_graph
        for node in graph.nodes if graph else []:
            if node.asset_index is not None and 0 <= node.asset_index < len(mg.asset_files):
                users[mg.asset_files[node.asset_index].filename].append(node.path)
    return {name: list(dict.fromkeys(found)) for name, found in users.items()}


def _collection_assets(mg) -> list[tuple[str, str]]:
    """(tensor, file name) from the TF1 ``asset_filepaths`` collection, whose tensors are
    Consts holding the path the asset had at export time (builder_impl.py)."""
    collection = mg.collections.get("asset_filepaths")
    if collection is None or collection.kind != "node_list":
        return []
    nodes = {n.name: n for n in mg.graph.nodes}
    found = []
    for tensor in dict.fromkeys(collection.values):
        node = nodes.get(tensor.split(":")[0])
        value = node.attrs.get("value") if node is not None and node.op == "Const" else None
        try:
            raw = value.numpy().item() if value is not None else None
        except (ValueError, TypeError, AttributeError):
            raw = None
        if isinstance(raw, bytes):
            found.append((tensor, raw.decode("utf-8", "replace").replace("\\", "/").split("/")[-1]))
    return found


class AssetPanel(Panel):
    """Asset files with sizes; a text or hex preview of the selected one."""

    title = "Assets"
    part = "assets"

    preview_loaded = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table_model = QStandardItemModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = row_table(self.proxy, word_wrap=True)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)

        self.info_label = QLabel()
        self.info_label.setProperty("role", "muted")
        self.preview_edit = QPlainTextEdit()
        self.preview_edit.setReadOnly(True)
        self.preview_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        preview = QWidget()
        column = QVBoxLayout(preview)
        column.setContentsMargins(0, 4, 0, 0)
        column.addWidget(self.info_label)
        column.addWidget(self.preview_edit, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(preview)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        self.placeholder = QLabel(NO_ASSETS)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setProperty("role", "muted")
        self.stack = QStackedWidget()
        self.stack.addWidget(splitter)
        self.stack.addWidget(self.placeholder)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.stack)

        self.preview: FilePreview | None = None
        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._on_preview_ready)
        self._runner.failed.connect(self._on_preview_failed)

    def show_model(self, model: Model | None) -> None:
        self._runner.cancel()
        self.table_model.clear()
        self.table_model.setHorizontalHeaderLabels(["File", "Size", "Folder", "Used by"])
        # setHeaderData, not horizontalHeaderItem(): see op_panel
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
        self.stack.setCurrentIndex(0 if assets else 1)
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
        self.info_label.setText(message)
        self.preview_edit.clear()

    def _on_current_changed(self, *_indexes) -> None:
        rel = self.selected_path()
        if rel is None or self.model is None:
            return
        self._clear_preview(f"Reading {rel}…")
        folder = Path(self.model.path)
        self._runner.start(preview_file, folder / rel)

    def _on_preview_ready(self, preview: FilePreview) -> None:
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

    def _on_preview_failed(self, error: object) -> None:
        self._clear_preview(f"Cannot read the file: {error}")


if __name__ == "__main__":
    from smlens.gui.base.preview import preview

    preview(AssetPanel)
