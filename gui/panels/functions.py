"""The graph library's functions: size, call edges and which signature or concrete function
runs each; the selected one's callers, callees, inputs and outputs."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from smlens.core.graph.functions import FunctionRow, describe_args, function_rows
from smlens.core.model import Model
from smlens.core.model.text import grouped
from smlens.gui.base.panel import Panel
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.base.widgets import (
    SORT_ROLE,
    cell,
    filter_edit,
    heading_label,
    muted_label,
    row_table,
)

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # index into FunctionPanel.rows
MAIN_GRAPH = "(main graph)"
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def _compute_rows(model: Model, *, progress, cancelled) -> list[FunctionRow]:
    return function_rows(model)


class FunctionPanel(Panel):
    """Library functions in a sortable, filterable table with a call-edge pane."""

    title = "Functions"
    part = "graph"

    rows_ready = Signal()  # the table shows the current model's functions

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[FunctionRow] = []
        self._pending: Model | None = None  # a model whose rows are being computed
        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._on_rows_computed)
        self.table_model = QStandardItemModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

        self.filter_edit = filter_edit(
            "Filter functions, signatures, callers…", self._on_filter_changed
        )
        self.count_label = muted_label()
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.count_label)
        self.graph_button = QPushButton("Open graph")
        self.graph_button.setToolTip("Draw the selected function (or double-click it)")
        self.graph_button.clicked.connect(self._on_graph_clicked)
        top.addWidget(self.graph_button)

        self.table = row_table(self.proxy)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.table.doubleClicked.connect(self._on_graph_clicked)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self._build_details())
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([700, 380])
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

    def _build_details(self) -> QWidget:
        self.name_label = QLabel()
        self.name_label.setWordWrap(True)
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.signature_label = QLabel()
        self.signature_label.setWordWrap(True)
        self.signature_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.callers_list = QListWidget()
        self.callees_list = QListWidget()
        for widget in (self.callers_list, self.callees_list):
            widget.itemDoubleClicked.connect(self._on_call_activated)
            widget.setToolTip("Double-click to go to that function")
        pane = QWidget()
        column = QVBoxLayout(pane)
        column.setContentsMargins(6, 0, 0, 0)
        column.addWidget(self.name_label)
        column.addWidget(self.signature_label)
        for text, widget in (("Called by", self.callers_list), ("Calls", self.callees_list)):
            column.addWidget(heading_label(text))
            column.addWidget(widget, 1)
        return pane

    def show_model(self, model: Model | None) -> None:
        """Index the call edges off the UI thread (seconds on a 100k-op library), then fill;
        behind another tab, only once it comes into view (the graph opening meanwhile
        gets the whole of the GIL)."""
        self._runner.cancel()
        self._pending = model
        self._fill([])
        if model is not None and model.meta_graphs:
            self.count_label.setText("indexing call edges…")
            if self.on_screen:
                self._runner.start(_compute_rows, model)
        else:
            self._pending = None
            self.rows_ready.emit()

    def came_on_screen(self) -> None:
        if self._pending is not None and not self._runner.busy:
            self._runner.start(_compute_rows, self._pending)

    @property
    def rows(self) -> list[FunctionRow]:
        """The current model's rows; computed here and now if the task has not finished."""
        self._ensure_rows()
        return self._rows

    def _on_rows_computed(self, rows: list[FunctionRow]) -> None:
        self._pending = None
        self._fill(rows)
        self.rows_ready.emit()

    def _ensure_rows(self) -> None:
        """Rows now, for a caller that cannot wait (selecting a function by name)."""
        if self._pending is not None:
            model, self._pending = self._pending, None
            self._runner.cancel()
            self._fill(function_rows(model))
            self.rows_ready.emit()

    def _fill(self, rows: list[FunctionRow]) -> None:
        self._rows = rows
        several = len({row.tag_set for row in self._rows}) > 1
        headers = ["Function", "Tag-set", "Nodes", "Callers", "Callees", "Runs for"]
        if not several:
            headers.remove("Tag-set")
        self.table_model.clear()
        self.table_model.setHorizontalHeaderLabels(headers)
        for i, row in enumerate(self._rows):
            cells = [cell(row.name)]
            if several:
                cells.append(cell(row.tag_set))
            for number in (len(row.function.nodes), len(row.callers), len(row.callees)):
                cells.append(cell(grouped(number), number, RIGHT))
            cells.append(cell(", ".join(row.runs_for)))
            cells[0].setData(i, ROW_ROLE)
            cells[0].setToolTip(row.name)
            self.table_model.appendRow(cells)
        for col in range(len(headers)):
            # setHeaderData, not horizontalHeaderItem(): clear() frees that item under
            # PySide6's wrapper, and the next clear() corrupts the heap
            align = (
                RIGHT
                if headers[col] in ("Nodes", "Callers", "Callees")
                else Qt.AlignmentFlag.AlignLeft
            )
            self.table_model.setHeaderData(
                col, Qt.Orientation.Horizontal, align, Qt.ItemDataRole.TextAlignmentRole
            )
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnsToContents()
        header.resizeSection(0, min(header.sectionSize(0) + 12, 420))
        self._show_details(None)
        self._update_count()

    def select_function(self, name: str, tag_set: str | None = None) -> bool:
        """Select function ``name`` (of ``tag_set``, else the first match) and scroll to it."""
        for i, row in enumerate(self.rows):
            if row.name == name and tag_set in (None, row.tag_set):
                source = self._source_index(i)
                if not self.proxy.mapFromSource(source).isValid():
                    self.filter_edit.clear()
                index = self.proxy.mapFromSource(source)
                self.table.setCurrentIndex(index)
                self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
                return True
        return False

    def selected_row(self) -> FunctionRow | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        source = self.proxy.mapToSource(index)
        return self._rows[self.table_model.item(source.row(), 0).data(ROW_ROLE)]

    def _source_index(self, row_number: int):
        for r in range(self.table_model.rowCount()):
            if self.table_model.item(r, 0).data(ROW_ROLE) == row_number:
                return self.table_model.index(r, 0)
        raise KeyError(row_number)

    def _on_filter_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_count()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), len(self._rows)
        count = f"{total}" if shown == total else f"{shown} of {total}"
        self.count_label.setText(f"{count} functions")

    def _on_current_changed(self, *_indexes) -> None:
        self._show_details(self.selected_row())

    def _show_details(self, row: FunctionRow | None) -> None:
        self.callers_list.clear()
        self.callees_list.clear()
        if row is None:
            self.name_label.setText("Select a function to see its callers and callees.")
            self.signature_label.setText("")
            return
        fn = row.function
        runs = f"<br>runs for: {', '.join(row.runs_for)}" if row.runs_for else ""
        self.name_label.setText(f"<b>{fn.name}</b>{runs}")
        inputs = ", ".join(describe_args(fn.inputs)) or "none"
        outputs = ", ".join(describe_args(fn.outputs)) or "none"
        stateful = " · stateful" if fn.is_stateful else ""
        self.signature_label.setText(
            f"{grouped(len(fn.nodes))} nodes{stateful}<br>"
            f"<b>inputs</b> {inputs}<br><b>outputs</b> {outputs}"
        )
        for names, widget in ((row.callers, self.callers_list), (row.callees, self.callees_list)):
            if not names:
                widget.addItem(QListWidgetItem("none"))
                widget.item(0).setFlags(Qt.ItemFlag.NoItemFlags)
            for name in names:
                item = QListWidgetItem(name or MAIN_GRAPH)
                item.setData(SORT_ROLE, (name, row.tag_set))
                if not name:
                    item.setFlags(Qt.ItemFlag.NoItemFlags)  # the main graph is no function
                widget.addItem(item)

    def _on_graph_clicked(self, *_args) -> None:
        row = self.selected_row()
        if row is not None:
            self.graph_requested.emit(row.tag_set, "function", row.name)

    def _on_call_activated(self, item: QListWidgetItem) -> None:
        name, tag_set = item.data(SORT_ROLE) or ("", None)
        if name:
            self.select_function(name, tag_set)


if __name__ == "__main__":
    from smlens.gui.base.preview import preview

    preview(FunctionPanel)
