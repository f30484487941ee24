"""Changed functions (and main graphs), and the changed nodes of the selected one with each
differing attr on its own row."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from smlens.core.diff.changes import Change, ModelDiff
from smlens.gui.base.widgets import mono_font, muted_label
from smlens.gui.compare.style import MINUS, SEP, severity_brush, severity_color, severity_icon

FUNCTION_COLUMNS = (
    "Tag-set",
    "Function",
    "Change",
    "Nodes +",
    f"Nodes {MINUS}",
    "Nodes ~",
    "A",
    "B",
)
NODE_COLUMNS = ("Node", "Change", "What", "A", "B")
OWN = "(function)"  # rows about the function itself: its arguments and attrs


def function_changes(diff: ModelDiff) -> list[Change]:
    """Each changed, added or removed function, then each changed main graph; those whose
    only changes are annotations are left out (the Changes tab counts them)."""
    out = [c for tag_set in diff.groups.get("functions", []) for c in tag_set.children]
    return [c for c in out + list(diff.groups.get("graph", [])) if not c.annotation]


def node_counts(change: Change) -> dict[str, int]:
    """Nodes added, removed and changed, annotations left out."""
    counts = {"added": 0, "removed": 0, "changed": 0}
    for c in change.children:
        if c.annotation:
            continue
        if c.children or c.kind != "changed":  # a node (own leaves are "changed" leaves)
            counts[c.kind] += 1
    return counts


def node_rows(change: Change) -> list[tuple[str, str, str, str, str, Change]]:
    """(node, kind, what, A, B, change) per differing field of the function's nodes."""
    rows = []
    base = len(change.path)
    for c in change.children:
        if c.children:
            for leaf in (x for x in c.walk() if not x.children):
                what = _what(leaf.path[base + 1 :])
                rows.append(
                    (c.path[-1], leaf.kind, what, _text(leaf.before), _text(leaf.after), leaf)
                )
        elif c.kind == "changed":
            rows.append((OWN, c.kind, _what(c.path[base:]), _text(c.before), _text(c.after), c))
        else:
            rows.append((c.path[-1], c.kind, "node", _text(c.before), _text(c.after), c))
    return rows


def _what(rest: tuple[str, ...]) -> str:
    if len(rest) == 2 and rest[0] == "attrs":
        return f"attr {rest[1]}"
    return SEP.join(rest)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _table(columns: tuple[str, ...], tip: str) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.setToolTip(tip)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


class _Count(QTableWidgetItem):
    """A number that sorts as one."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        return int(self.text() or 0) < int(other.text() or 0)


class FunctionComparePanel(QWidget):
    """Functions on top; the selected one's node differences below."""

    function_selected = Signal(object)  # Change

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._mono = mono_font()
        self.functions = _table(
            FUNCTION_COLUMNS, "Functions matched across A and B by role and structure"
        )
        self.nodes = _table(NODE_COLUMNS, "Each differing op, input or attr of a node")
        self.nodes.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Interactive)
        self.functions.currentCellChanged.connect(self._on_function_cell_changed)
        self.caption = muted_label()
        lower = QWidget()
        box = QVBoxLayout(lower)
        box.setContentsMargins(0, 4, 0, 0)
        box.addWidget(self.caption)
        box.addWidget(self.nodes, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.functions)
        split.addWidget(lower)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self._changes: list[Change] = []

    def set_diff(self, diff: ModelDiff | None) -> None:
        self.functions.setSortingEnabled(False)
        self.functions.setRowCount(0)
        self._changes = function_changes(diff) if diff is not None else []
        for row, change in enumerate(self._changes):
            self.functions.insertRow(row)
            counts = node_counts(change)
            main = change.area == "graph"
            cells = [
                change.path[1],
                "(main graph)" if main else change.path[2],
                change.kind,
            ]
            items = [QTableWidgetItem(text) for text in cells]
            items += [_Count(str(counts[k]) if change.children else "") for k in counts]
            items += [
                QTableWidgetItem("" if main else _text(change.before)),
                QTableWidgetItem("" if main else _text(change.after)),
            ]
            for column, item in enumerate(items):
                item.setData(Qt.ItemDataRole.UserRole, row)
                item.setToolTip(change.reason)
                self.functions.setItem(row, column, item)
            items[1].setIcon(severity_icon(change.severity))
            if change.severity != "info":
                items[1].setForeground(severity_color(change.severity))
            for item in items[6:]:
                item.setFont(self._mono)
        self.functions.setSortingEnabled(True)
        self.functions.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # stable: engine order
        self.functions.resizeColumnsToContents()
        self._show_nodes(None)
        if self._changes:
            self.functions.selectRow(0)
        else:
            self.caption.setText("No function or main graph changed.")

    def function_names(self) -> list[str]:
        return [self.functions.item(r, 1).text() for r in range(self.functions.rowCount())]

    def current_change(self) -> Change | None:
        """The function (or main graph) change of the selected row."""
        item = self.functions.item(self.functions.currentRow(), 0)
        return self._changes[item.data(Qt.ItemDataRole.UserRole)] if item else None

    def select_function(self, label: str) -> bool:
        for r in range(self.functions.rowCount()):
            if self.functions.item(r, 1).text() == label:
                self.functions.selectRow(r)
                return True
        return False

    def node_table(self) -> list[tuple[str, ...]]:
        return [
            tuple(self.nodes.item(r, c).text() for c in range(self.nodes.columnCount()))
            for r in range(self.nodes.rowCount())
        ]

    def _on_function_cell_changed(self, row: int, column: int, prev_row: int, prev_col: int):
        item = self.functions.item(row, 0) if row >= 0 else None
        change = self._changes[item.data(Qt.ItemDataRole.UserRole)] if item else None
        self._show_nodes(change)
        if change is not None:
            self.function_selected.emit(change)

    def _show_nodes(self, change: Change | None) -> None:
        self.nodes.setSortingEnabled(False)
        self.nodes.setRowCount(0)
        if change is None:
            self.caption.clear()
            return
        rows = node_rows(change)
        name = "the main graph" if change.area == "graph" else change.path[2]
        self.caption.setText(f"{len(rows)} differences in {name}: {change.reason}")
        self.nodes.setRowCount(len(rows))
        for r, (node, kind, what, a, b, leaf) in enumerate(rows):
            for c, text in enumerate((node, kind, what, a, b)):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{text}\n\n{leaf.reason}" if c >= 3 else leaf.reason)
                if c >= 3:
                    item.setFont(self._mono)
                    if a and b:
                        item.setBackground(severity_brush(leaf.severity))
                self.nodes.setItem(r, c, item)
        self.nodes.setSortingEnabled(True)
        self.nodes.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.nodes.resizeColumnsToContents()
        self.nodes.setColumnWidth(3, min(self.nodes.columnWidth(3), 360))
