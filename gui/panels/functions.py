"""The graph library's functions: size, call edges and which signature or concrete function
runs each; the selected one's callers, callees, inputs and outputs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from smlens.core.graph.calls import find_calls
from smlens.core.model import ArgDef, Function, MetaGraph, Model
from smlens.gui.base.formatting import grouped, short_dtype
from smlens.gui.base.panel import Panel
from smlens.gui.base.tables import SORT_ROLE, cell, row_table

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # index into FunctionPanel.rows
MAIN_GRAPH = "(main graph)"
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


@dataclass
class FunctionRow:
    """One library function of one meta graph, with its call edges and entry points."""

    tag_set: str
    function: Function
    callers: list[str] = field(default_factory=list)  # "" is the main graph
    callees: list[str] = field(default_factory=list)
    runs_for: list[str] = field(default_factory=list)  # "signature serving_default", ...

    @property
    def name(self) -> str:
        return self.function.name


def entry_points(mg: MetaGraph) -> dict[str, list[str]]:
    """Function name -> the signatures and object-graph functions that run it.

    A signature output such as "StatefulPartitionedCall:0" names a main-graph node whose
    ``f`` attr is the function; concrete functions are named in the object graph.
    """
    nodes = {node.name: node for node in mg.graph.nodes}
    found: dict[str, list[str]] = defaultdict(list)

    def add(tensor_names: set[str], label: str) -> None:
        for node_name in sorted({n.split(":")[0].lstrip("^") for n in tensor_names}):
            f = getattr(nodes.get(node_name), "attrs", {}).get("f")
            if getattr(f, "name", None) in mg.functions and label not in found[f.name]:
                found[f.name].append(label)

    for key, sig in mg.signatures.items():
        names = {info.name for info in sig.outputs.values() if info.name}
        add(
            names | {c.name for info in sig.outputs.values() for c in info.components},
            f"signature {key}",
        )
    if mg.saver is not None:
        add({mg.saver.save_tensor_name}, "saver: save")
        add({mg.saver.restore_op_name}, "saver: restore")
    graph = mg.object_graph
    if graph is not None:
        traces = {i for n in graph.nodes if n.kind == "function" for _, i in n.children}
        signature_maps = {n.id for n in graph.nodes if n.identifier == "signature_map"}
        in_maps = {i for n in graph.nodes if n.id in signature_maps for _, i in n.children}
        for node in graph.nodes:
            if node.id in traces or node.id in in_maps:
                continue  # a trace of a function listed itself, or a signature seen above
            for name in node.concrete_functions:
                found[name].append(node.path + ("()" if node.kind == "function" else ""))
    return dict(found)


def function_rows(model: Model | None) -> list[FunctionRow]:
    rows = []
    for mg in model.meta_graphs if model else []:
        callers, callees = defaultdict(set), defaultdict(set)
        for call in find_calls(mg.graph):
            callers[call.callee].add(call.caller)
            callees[call.caller].add(call.callee)
        entries = entry_points(mg)
        for name, fn in sorted(mg.functions.items()):
            rows.append(
                FunctionRow(
                    mg.tag_set,
                    fn,
                    sorted(callers[name]),
                    sorted(callees[name]),
                    entries.get(name, []),
                )
            )
    return rows


def describe_args(args: list[ArgDef]) -> list[str]:
    """ "name: float32" per argument; attr-typed ones name their type attr."""
    out = []
    for arg in args:
        kind = short_dtype(arg.dtype) if arg.dtype else arg.type_attr or arg.type_list_attr
        if arg.number_attr:
            kind = f"{arg.number_attr} x {kind}"
        out.append(f"{arg.name}: {kind or '?'}")
    return out


class FunctionPanel(Panel):
    """Library functions in a sortable, filterable table with a call-edge pane."""

    title = "Functions"
    part = "graph"

    graph_requested = Signal(str, str, str)  # tag-set, "function", name: draw it

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[FunctionRow] = []
        self.table_model = QStandardItemModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter functions, signatures, callers…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.count_label = QLabel()
        self.count_label.setProperty("role", "muted")
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
            heading = QLabel(text)
            heading.setProperty("role", "heading")
            column.addWidget(heading)
            column.addWidget(widget, 1)
        return pane

    def show_model(self, model: Model | None) -> None:
        self.rows = function_rows(model)
        several = len({row.tag_set for row in self.rows}) > 1
        headers = ["Function", "Tag-set", "Nodes", "Callers", "Callees", "Runs for"]
        if not several:
            headers.remove("Tag-set")
        self.table_model.clear()
        self.table_model.setHorizontalHeaderLabels(headers)
        for i, row in enumerate(self.rows):
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
            # PySide6's wrapper, and the next clear() corrupts the heap (see op_panel)
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
        return self.rows[self.table_model.item(source.row(), 0).data(ROW_ROLE)]

    def _source_index(self, row_number: int):
        for r in range(self.table_model.rowCount()):
            if self.table_model.item(r, 0).data(ROW_ROLE) == row_number:
                return self.table_model.index(r, 0)
        raise KeyError(row_number)

    def _on_filter_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_count()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), len(self.rows)
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
