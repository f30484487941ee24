"""Variables of both exports in a table sortable by drift, and a histogram of the selected
variable's differences (after - before), computed off the UI thread.

Frozen weights (the big Const tensors of a frozen graph, ``Model.constants``) are rows of the
same table, compared as variables are, their names in italics and, as in the Variables panel,
a "Constant, read by" column (shown when there are any) naming the op that reads each."""

from __future__ import annotations

import math
from html import escape

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from smlens.core.diff.changes import ModelDiff
from smlens.core.diff.report.drift import DriftRow, drift_rows
from smlens.core.diff.report.histogram import DeltaHistogram, delta_histogram
from smlens.core.model import Model
from smlens.core.model.roles import is_training_state, role_caption
from smlens.core.model.text import grouped
from smlens.gui.base import theme
from smlens.gui.base.plots import pg
from smlens.gui.base.role_bar import ALL, RoleBar
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.base.widgets import placeholder_label
from smlens.gui.compare.style import MINUS, severity_brush

COLUMNS = ("Variable", "Status", "Type", "Max |Δ|", "Mean |Δ|", "Relative L2", "Changed")
TIPS = (
    "Resolved variable name",
    "identical, changed, added, removed, reshaped, or not compared (and why)",
    "dtype and shape (A → B when they differ)",
    f"Largest |after {MINUS} before| over the elements",
    f"Mean |after {MINUS} before| over the elements",
    f"‖after {MINUS} before‖ / ‖before‖; inf when A is all zeros and B is not",
    "Share of elements whose value changed",
)
READ_BY_COLUMN = len(COLUMNS)  # after the figures in the model; shown second
READ_BY_HEADER = "Constant, read by"  # the Variables panel's words
READ_BY_TIP = "Frozen weights: the op that reads the Const node (its key is the tensor name)"
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
DELTA_LABEL = f"after {MINUS} before"


def constant_readers(a: Model, b: Model, rows: list[DriftRow]) -> dict[int, str]:
    """id(row) -> the op that reads the row's constant ("MatMul hidden/MatMul"), for the
    rows that are frozen weights: A's constant for a pair or a removed one, B's for an
    added one. The models found their constants when the diff paired them."""
    by_key_a = {c.key: c.consumer for c in a.constants()}
    by_name = {
        "a": {c.name: c.consumer for c in a.constants()},
        "b": {c.name: c.consumer for c in b.constants()},
    }
    readers = {}
    for row in rows:
        d = row.delta
        if d is not None:
            if d.constant:
                readers[id(row)] = by_key_a.get(d.key_a, "")
        elif row.change is not None:
            side = by_name["b" if row.status == "added" else "a"]
            if row.change.path[1] in side:
                readers[id(row)] = side[row.change.path[1]]
    return readers


def read_by_text(reader: str | None) -> str:
    """The "Constant, read by" cell: the reading op of a frozen weight ("MatMul
    hidden/MatMul"), "" for a variable."""
    if reader is None:
        return ""
    return reader or "no op reads it"


def _number(x: float | None, percent: bool = False) -> str:
    if x is None:
        return ""
    if math.isinf(x):
        return "∞ (A all zeros)" if percent else "inf"  # a relative L2 over all-zero A
    return f"{x:.2%}" if percent else f"{x:.4g}"


class VariableDriftModel(QAbstractTableModel):
    """The drift rows, with the COLUMNS and the "Constant, read by" column (READ_BY_COLUMN)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[DriftRow] = []
        self.readers: dict[int, str] = {}  # id(row) -> constant_readers' text

    def set_rows(self, rows: list[DriftRow], readers: dict[int, str] | None = None) -> None:
        self.beginResetModel()
        self.rows = rows
        if readers is not None:
            self.readers = readers
        self.endResetModel()

    def reader(self, row: DriftRow) -> str | None:
        """The op that reads ``row``'s constant, or None when the row is a variable."""
        return self.readers.get(id(row))

    def rowCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent=None) -> int:
        return 0 if parent is not None and parent.isValid() else len(COLUMNS) + 1

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return READ_BY_HEADER if section == READ_BY_COLUMN else COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return READ_BY_TIP if section == READ_BY_COLUMN else TIPS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, column = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == SORT_ROLE:
            return self._sort_key(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and 3 <= column < READ_BY_COLUMN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and row.status == "identical":
            return QColor(theme.current().muted)
        if role == Qt.ItemDataRole.BackgroundRole and column == 1 and row.change is not None:
            return severity_brush(row.change.severity)
        if role == Qt.ItemDataRole.FontRole and column == 0 and self.reader(row) is not None:
            font = QFont()
            font.setItalic(True)  # a frozen weight, not a checkpoint variable
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(row, self.reader(row))
        return None

    def _sort_key(self, row: DriftRow, column: int):
        if column == READ_BY_COLUMN:
            return read_by_text(self.reader(row))
        return row.sort_key(column)

    def _text(self, row: DriftRow, column: int) -> str:
        d = row.delta
        if column == READ_BY_COLUMN:
            return read_by_text(self.reader(row))
        if column == 0:
            return row.name
        if column == 1:
            return row.status
        if column == 2:
            return row.type_text
        if d is None:
            return ""
        value = row.figures()[column - 3]
        if column == 6:
            return "" if value is None else f"{_number(value, True)} of {grouped(d.count)}"
        return _number(value, percent=column == 5)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column``; rows without a figure stay at the bottom in both orders."""
        self.layoutAboutToBeChanged.emit()
        known = [r for r in self.rows if self._sort_key(r, column) is not None]
        unknown = [r for r in self.rows if self._sort_key(r, column) is None]
        reverse = order == Qt.SortOrder.DescendingOrder
        known.sort(key=lambda r: self._sort_key(r, column), reverse=reverse)
        unknown.sort(key=lambda r: r.name)
        self.rows = known + unknown
        self.layoutChanged.emit()


def _tooltip(row: DriftRow, reader: str | None = None) -> str | None:
    """The change's reason or the delta's note, what the variable is for when it is no
    weight ("optimizer state (momentum) of the weight dense/kernel"), and for a frozen
    weight the op that reads it."""
    d = row.delta
    lines = [row.change.reason] if row.change is not None else []
    if reader is not None:
        lines.append(_constant_caption(reader))
    if not lines and d is not None and d.note:
        lines.append(d.note)
    slot_of, slot_name = (d.slot_of, d.slot_name) if d is not None else (None, None)
    caption = role_caption(row.role, slot_of, slot_name)
    if caption:
        lines.append(caption)
    return "\n".join(lines) or None


class VariableComparePanel(QWidget):
    """The role bar (weights by default), the drift table, and the histogram of the selected
    variable."""

    histogram_ready = Signal(object)  # DeltaHistogram

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.models: tuple[Model, Model] | None = None
        self.histogram: DeltaHistogram | None = None
        self.table_model = VariableDriftModel(self)
        self.all_rows: list[DriftRow] = []
        self.role_bar = RoleBar()
        self.role_bar.group_changed.connect(self._on_role_group_changed)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setWordWrap(False)
        self.table.setToolTip("Click a header to sort by that drift figure")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSortIndicatorShown(True)
        header.moveSection(READ_BY_COLUMN, 1)
        self.table.setColumnHidden(READ_BY_COLUMN, True)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.placeholder = placeholder_label()
        self.plot = pg.PlotWidget()
        self.plot.setToolTip(f"How many elements moved by how much: after {MINUS} before")
        self.plot.setLabel("bottom", DELTA_LABEL)
        self.plot.setLabel("left", "elements")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setMenuEnabled(False)
        self.plot.setMinimumHeight(160)
        accent = QColor(theme.current().accent)
        fill = QColor(accent)
        fill.setAlpha(110)
        self.curve = pg.PlotDataItem(stepMode="center", fillLevel=0, pen=accent, brush=fill)
        self.plot.addItem(self.curve)
        zero = pg.InfiniteLine(0, angle=90, pen=pg.mkPen(theme.current().muted, style=Qt.DashLine))
        self.plot.addItem(zero)

        lower = QWidget()
        box = QVBoxLayout(lower)
        box.setContentsMargins(6, 4, 6, 4)
        box.addWidget(self.caption)
        box.addWidget(self.plot, 1)
        box.addWidget(self.placeholder, 1)
        upper = QWidget()
        top = QVBoxLayout(upper)
        top.setContentsMargins(6, 4, 6, 0)
        top.setSpacing(2)
        top.addWidget(self.role_bar)
        top.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(lower)
        split.setSizes([360, 540])  # scaled to the height there is: the plot gets most
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._on_runner_finished)
        self._runner.failed.connect(self._on_runner_failed)
        self._clear_plot("Select a variable to see how its values moved.")

    def set_comparison(self, a: Model | None, b: Model | None, diff: ModelDiff | None) -> None:
        self._runner.cancel()
        self.models = (a, b) if a is not None and b is not None else None
        self.all_rows = drift_rows(diff) if diff is not None else []
        readers = constant_readers(a, b, self.all_rows) if self.models is not None else {}
        self.table.setColumnHidden(READ_BY_COLUMN, not readers)
        self.role_bar.set_roles([r.role for r in self.all_rows])
        self._show_rows(readers)
        self.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
        self._clear_plot("Select a variable to see how its values moved.")
        if self.table_model.rowCount():
            self.table.selectRow(0)

    def _show_rows(self, readers: dict[int, str] | None = None) -> None:
        """The rows of the chosen role group, in the table's current sort order; ``readers``
        (constant_readers) when the comparison is new."""
        shown = [r for r in self.all_rows if self.role_bar.accepts(r.role)]
        self.table_model.set_rows(shown, readers)
        header = self.table.horizontalHeader()
        if header.sortIndicatorSection() >= 0:
            self.table_model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())

    def _on_role_group_changed(self, _group: str) -> None:
        self._runner.cancel()
        self._show_rows()
        self._clear_plot("Select a variable to see how its values moved.")
        if self.table_model.rowCount():
            self.table.selectRow(0)

    def names(self) -> list[str]:
        return [r.name for r in self.table_model.rows]

    def select_variable(self, name: str) -> bool:
        """Select the row of ``name`` (showing every role when its own is not shown)."""
        shown = {id(r) for r in self.table_model.rows}
        hidden = [r for r in self.all_rows if id(r) not in shown]
        if any(name in (r.name, r.change.path[1] if r.change else None) for r in hidden):
            self.role_bar.choose(ALL)
        for i, row in enumerate(self.table_model.rows):
            if name in (row.name, row.change.path[1] if row.change else None):
                self.table.selectRow(i)
                self.table.scrollTo(self.table_model.index(i, 0))
                return True
        return False

    def _on_current_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if not current.isValid():
            return
        row = self.table_model.rows[current.row()]
        self._runner.cancel()
        d = row.delta
        if row.change is not None and d is None:
            self._clear_plot(f"{row.name}: {row.change.reason}")
        elif d is None or self.models is None:
            self._clear_plot(f"{row.name}: no values to compare")
        elif d.identical:
            how = "stored checksums match" if not d.read else "every element is equal"
            self._clear_plot(f"{row.name}: identical in A and B ({how})")
        elif d.identical is None and not is_training_state(row.role):
            self._clear_plot(f"{row.name}: values differ, not compared ({d.note})")
        else:
            self._clear_plot(f"{row.name}: computing the differences…")
            self._runner.start(delta_histogram, *self.models, d.key_a, d.key_b, row.name)

    def _clear_plot(self, caption: str) -> None:
        self.histogram = None
        self.curve.setData(x=np.array([0.0, 1.0]), y=np.array([0.0]))
        self.curve.hide()
        self.plot.hide()
        self.placeholder.show()
        self.placeholder.setText("No histogram: nothing to subtract")
        self.caption.setText(caption)

    def _on_runner_finished(self, hist: DeltaHistogram) -> None:
        self.histogram = hist
        index = self.table.selectionModel().currentIndex()
        row = self.table_model.rows[index.row()] if index.isValid() else None
        if hist.counts.size:
            self.curve.setData(x=hist.edges, y=hist.counts)
            self.curve.show()
            self.placeholder.hide()
            self.plot.show()
            self.plot.autoRange()
        else:
            self.placeholder.setText(hist.note or "No numeric differences")
        reader = self.table_model.reader(row) if row is not None else None
        self.caption.setText(_caption(hist, row, reader))
        self.histogram_ready.emit(hist)

    def _on_runner_failed(self, error: BaseException) -> None:
        self._clear_plot(f"Could not read the values: {error}")


def _constant_caption(reader: str) -> str:
    """ "constant (a frozen weight), read by MatMul hidden/MatMul"."""
    read = f", read by {reader}" if reader else ""
    return f"constant (a frozen weight){read}"


def _caption(h: DeltaHistogram, row: DriftRow | None = None, reader: str | None = None) -> str:
    """What moved, and what a variable that is no weight or a constant is for."""
    text = f"<b>{escape(h.name)}</b>"
    d = row.delta if row is not None else None
    if reader is not None:
        text += f", {escape(_constant_caption(reader))}"
    elif d is not None:
        what = role_caption(row.role, d.slot_of, d.slot_name)
        text += f" ({escape(what)})" if what else ""
    text += f": {grouped(h.changed)} of {grouped(h.count)} elements changed"
    if h.counts.size:
        text += f"; after {MINUS} before from {h.minimum:.4g} to {h.maximum:.4g}, mean {h.mean:.4g}"
    if h.note:
        text += f" ({h.note})"
    return text
