"""Op types of a meta graph with node counts; stateful, risky and custom ops marked."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyle,
    QVBoxLayout,
)

from smlens.core.analysis.ops import OpCount, op_counts
from smlens.core.model import Model
from smlens.core.model.text import grouped
from smlens.gui.base.panel import Panel
from smlens.gui.base.theme import current
from smlens.gui.base.widgets import (
    SORT_ROLE,
    PlaceholderStack,
    cell,
    filter_edit,
    muted_label,
    row_table,
)

COLUMNS = ("Op", "Main graph", "Functions", "Total", "Notes")
OP, MAIN, FUNCTIONS, TOTAL, NOTES = range(len(COLUMNS))
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
NO_GRAPH = "No graph: a bare checkpoint holds only variables, so there are no ops to list."


def notes(count: OpCount) -> list[str]:
    """What to know about an op type, the most serious first."""
    found = []
    if count.risky:
        found.append("risky: touches files or runs host code")
    if not count.registered:
        found.append("custom op: not in TensorFlow's registry")
    if count.stateful:
        found.append("stateful")
    return found


def _rank(count: OpCount) -> int:
    """Sort order of the notes column: risky, custom, stateful, plain."""
    return 0 if count.risky else 1 if not count.registered else 2 if count.stateful else 3


class OpPanel(Panel):
    """Op types with counts per meta graph (chosen with a tag-set selector)."""

    title = "Ops"
    part = "graph"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.counts: dict[str, OpCount] = {}
        self.table_model = QStandardItemModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)  # op names and notes: "risky", "custom", "stateful"
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

        self.tag_combo = QComboBox()
        self.tag_combo.currentIndexChanged.connect(self._on_tag_set_changed)
        self.tag_label = QLabel("Tag-set")
        self.filter_edit = filter_edit(
            "Filter ops (try: risky, custom, stateful)", self._on_filter_changed
        )
        self.summary_label = muted_label()
        top = QHBoxLayout()
        top.addWidget(self.tag_label)
        top.addWidget(self.tag_combo)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.summary_label)

        self.table = row_table(self.proxy)
        # Ctrl- and Shift-click select several op types, as in a plain table view.
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

        self.stack = PlaceholderStack(self.table, NO_GRAPH)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

    def show_model(self, model: Model | None) -> None:
        metas = model.meta_graphs if model else []
        self.tag_combo.blockSignals(True)
        self.tag_combo.clear()
        for mg in metas:
            self.tag_combo.addItem(", ".join(mg.tags) or "(no tags)", mg.tag_set)
        self.tag_combo.blockSignals(False)
        several = len(metas) > 1
        self.tag_label.setVisible(several)
        self.tag_combo.setVisible(several)
        self.stack.show_content(bool(metas))
        self._on_tag_set_changed()

    def select_tag_set(self, tag_set: str) -> None:
        """Show the ops of the meta graph with ``tag_set`` ("serve,gpu")."""
        self.tag_combo.setCurrentIndex(self.tag_combo.findData(tag_set))

    def _on_tag_set_changed(self, *_args) -> None:
        tag_set = self.tag_combo.currentData()
        mg = self.model.meta_graph(tag_set) if self.model and tag_set is not None else None
        self.counts = op_counts(mg) if mg else {}
        self.table_model.clear()
        self.table_model.setHorizontalHeaderLabels(COLUMNS)
        for col in range(len(COLUMNS)):
            align = RIGHT if col in (MAIN, FUNCTIONS, TOTAL) else Qt.AlignmentFlag.AlignLeft
            # setHeaderData, not horizontalHeaderItem(): clear() frees that item under
            # PySide6's wrapper, and the next clear() corrupts the heap
            self.table_model.setHeaderData(
                col, Qt.Orientation.Horizontal, align, Qt.ItemDataRole.TextAlignmentRole
            )
        for count in self.counts.values():
            self.table_model.appendRow(self._row(count))
        self.table.sortByColumn(TOTAL, Qt.SortOrder.DescendingOrder)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.resizeColumnsToContents()
        for col in range(len(COLUMNS) - 1):
            header.resizeSection(col, header.sectionSize(col) + 16)
        self._update_summary()

    def _row(self, count: OpCount) -> list[QStandardItem]:
        said = notes(count)
        cells = [
            cell(count.op),
            cell(grouped(count.main), count.main, RIGHT),
            cell(grouped(count.functions), count.functions, RIGHT),
            cell(grouped(count.total), count.total, RIGHT),
            cell("; ".join(said), f"{_rank(count)} {'; '.join(said)}"),
        ]
        style = self.style()
        theme = current()
        if count.risky:
            cells[OP].setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning))
            for item in cells:
                item.setBackground(QColor(theme.warn_bg))
        elif not count.registered:
            cells[OP].setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxQuestion))
        if not count.registered:
            font = cells[OP].font()
            font.setItalic(True)
            cells[OP].setFont(font)
        if count.stateful and not count.risky:
            cells[NOTES].setForeground(QColor(theme.muted))
        return cells

    def _on_filter_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_summary()

    def _update_summary(self) -> None:
        counts = self.counts.values()
        risky = sum(c.risky for c in counts)
        custom = sum(not c.registered for c in counts)
        parts = [f"{len(self.counts)} op types", f"{grouped(sum(c.total for c in counts))} nodes"]
        if risky:
            parts.append(f"{risky} risky")
        if custom:
            parts.append(f"{custom} custom")
        shown = self.proxy.rowCount()
        if shown != len(self.counts):
            parts.insert(0, f"{shown} shown")
        self.summary_label.setText(" · ".join(parts))


if __name__ == "__main__":
    from smlens.gui.base.preview import preview

    preview(OpPanel)
