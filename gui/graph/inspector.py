"""The node inspector: what core/graph/query.py's node_details says of the selected node
or scope.

Attrs the export stripped are filled from the OpDef and shown as defaults; a Const shows
its values; a ReadVariableOp (or a captured resource argument) names its variable and
opens its values. Asking for more (a peer node, a callee, values) is a signal.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from smlens.core.graph.build import OpGraph
from smlens.core.graph.query import NodeDetails, PortDetail, node_details
from smlens.core.graph.scopes import Hierarchy
from smlens.core.model import Model, Variable
from smlens.gui.base.theme import current
from smlens.gui.graph.style import tensor_text

TARGET_ROLE = Qt.ItemDataRole.UserRole  # ("node", name) | ("function", name) on a row
TOP_OPS = 8


class GraphInspector(QWidget):
    """Details of one node or scope of the graph shown."""

    node_activated = Signal(str)  # a peer node's name: go there
    function_requested = Signal(str)  # a callee: open it
    values_requested = Signal()  # show the selected variable's or Const's values
    variable_requested = Signal(str)  # checkpoint key: show it in the variables panel
    trace_requested = Signal(str)  # "inputs" | "outputs"
    content_changed = Signal(bool)  # a node or scope is shown (True), or only the hint

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.details: NodeDetails | None = None
        self.variable: Variable | None = None
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Field", "Value"])
        self.tree.setUniformRowHeights(True)
        self.tree.setRootIsDecorated(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.tree.header().setStretchLastSection(True)
        self.tree.setColumnWidth(0, 150)
        self.tree.itemDoubleClicked.connect(self._on_item_activated)
        self.values_button = QPushButton("Show values")
        self.values_button.clicked.connect(self._on_values_clicked)
        self.variable_button = QPushButton("In variables")
        self.variable_button.setToolTip("Select this variable in the Variables panel")
        self.variable_button.clicked.connect(self._on_variable_clicked)
        self.inputs_button = QPushButton("Trace inputs")
        self.inputs_button.clicked.connect(self._on_trace_inputs_clicked)
        self.outputs_button = QPushButton("Trace outputs")
        self.outputs_button.clicked.connect(self._on_trace_outputs_clicked)
        buttons = QGridLayout()
        buttons.setHorizontalSpacing(4)
        buttons.setVerticalSpacing(2)
        buttons.addWidget(self.inputs_button, 0, 0)
        buttons.addWidget(self.outputs_button, 0, 1)
        buttons.addWidget(self.values_button, 1, 0)
        buttons.addWidget(self.variable_button, 1, 1)
        buttons.setColumnStretch(2, 1)
        self.buttons = QWidget()
        self.buttons.setLayout(buttons)
        buttons.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.buttons)
        layout.addWidget(self.tree, 1)
        layout.addStretch(0)  # the hint stays on top while the table is hidden
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.clear()

    # -- showing -------------------------------------------------------------------------

    def clear(self, text: str = "Select a node to see its details.") -> None:
        self.details, self.variable = None, None
        self.tree.clear()
        self.title.setText(f"<span style='color:{current().muted}'>{text}</span>")
        self._set_buttons(trace=False)
        self._show_content(False)

    @property
    def has_content(self) -> bool:
        """A node or a scope is shown; else only the hint, and no empty table."""
        return not self.tree.isHidden()

    def _show_content(self, shown: bool) -> None:
        self.tree.setHidden(not shown)
        self.buttons.setHidden(not shown)
        self.content_changed.emit(shown)

    def show_node(
        self, graph: OpGraph, name: str, model: Model | None, weights: list | None = None
    ) -> NodeDetails:
        """``weights``: the rows folded into the node (fold.WeightRow), each a link to the
        folded variable or constant, whose values it can show."""
        d = node_details(graph, name)
        self.details = d
        self.variable = _variable(model, d.variable_key)
        self.tree.clear()
        self.title.setText(
            f"<b>{d.op}</b> &nbsp;<span style='color:{current().muted}'>{d.name}</span>"
        )
        node = self._section("Node")
        self._row(node, "op", d.op)
        self._row(node, "name", d.name)
        self._row(
            node,
            "kind",
            {"op": "operation", "arg": "function argument", "ret": "function result"}[d.kind],
        )
        if d.device:
            self._row(node, "device", d.device)
        for original in d.original_names:
            self._row(node, "traced from", original)
        if self.variable is not None:
            self._variable_section(self.variable, d.variable_key)
        if weights:
            section = self._section("Weights")
            for w in weights:
                row = self._row(section, w.label, f"{w.text}  ↗")
                row.setData(1, TARGET_ROLE, ("node", w.node))
                row.setForeground(1, QColor(current().accent))
                row.setToolTip(1, f"{w.node}: double-click to inspect it and show its values")
        if d.callees:
            calls = self._section("Calls")
            for c in d.callees:
                row = self._row(calls, c.attr or "op", f"{c.function}  ↗")
                row.setData(1, TARGET_ROLE, ("function", c.function))
                row.setToolTip(1, "Double-click to open this function")
        self._ports("Inputs", d.inputs, inputs=True)
        self._ports("Outputs", d.outputs, inputs=False)
        for label, names in (
            ("Control inputs", d.control_inputs),
            ("Control outputs", d.control_outputs),
        ):
            if names:
                section = self._section(label)
                for n in names:
                    self._link(section, "", n)
        if d.value is not None:
            self._value_section(d)
        if d.attrs:
            attrs = self._section("Attributes")
            for a in d.attrs:
                row = self._row(attrs, a.name, a.text + ("   (default)" if a.is_default else ""))
                if a.is_default:
                    row.setForeground(1, QColor(current().muted))
                    font = row.font(1)
                    font.setItalic(True)
                    row.setFont(1, font)
                    row.setToolTip(1, "Not in the export: the OpDef's default value")
        self.tree.expandAll()
        self._set_buttons(trace=True)
        self._show_content(True)
        return d

    def show_scope(self, graph: OpGraph, hierarchy: Hierarchy, path: str) -> None:
        scope = hierarchy.scopes[path]
        self.details, self.variable = None, None
        self.tree.clear()
        self.title.setText(
            f"<b>name scope</b> &nbsp;<span style='color:{current().muted}'>{path}</span>"
        )
        section = self._section("Scope")
        self._row(section, "path", path)
        self._row(section, "ops inside", f"{scope.op_count:,}")
        self._row(section, "direct scopes", f"{len(scope.children):,}")
        self._row(section, "edges in", f"{scope.in_edges:,}")
        self._row(section, "edges out", f"{scope.out_edges:,}")
        names = hierarchy.node_names(graph, scope)
        ops = Counter(graph.nodes[graph.index[n]].op for n in names)
        top = self._section("Most common ops")
        for op, n in ops.most_common(TOP_OPS):
            self._row(top, op, f"{n:,}")
        self.tree.expandAll()
        self._set_buttons(trace=False)
        self._show_content(True)

    def _variable_section(self, var: Variable, key: str) -> None:
        section = self._section("Variable")
        self._row(section, "name", var.name)
        self._row(section, "shape", f"{tensor_text(var.dtype, var.shape)}  {var.shape}")
        self._row(section, "checkpoint key", key)
        if var.trainable is not None:
            self._row(section, "trainable", "yes" if var.trainable else "no")

    def _value_section(self, d: NodeDetails) -> None:
        v = d.value
        section = self._section("Value")
        self._row(section, "tensor", tensor_text(v.dtype, v.shape))
        if v.problem:
            self._row(section, "problem", v.problem)
        elif v.values is not None:
            text = np.array2string(np.asarray(v.values), threshold=64, max_line_width=100)
            row = self._row(section, "values", text.replace("\n", " "))
            row.setFont(1, self._mono)
            row.setToolTip(1, text)
        else:
            self._row(section, "values", "large: use Show values")

    def _ports(self, label: str, ports: list[PortDetail], inputs: bool) -> None:
        if not ports:
            return
        section = self._section(label)
        for p in ports:
            row = self._row(section, p.arg, tensor_text(p.dtype, p.shape) or "?")
            row.setFont(1, self._mono)
            for peer in p.peers:
                self._link(row, "from" if inputs else "to", peer)

    def _link(self, parent: QTreeWidgetItem, label: str, peer: str) -> QTreeWidgetItem:
        row = self._row(parent, label, peer)
        row.setData(1, TARGET_ROLE, ("node", peer.rsplit(":", 1)[0] if inputs_port(peer) else peer))
        row.setForeground(1, QColor(current().accent))
        row.setToolTip(1, "Double-click to go to this node")
        return row

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([title, ""])
        font = QFont(item.font(0))
        font.setBold(True)
        item.setFont(0, font)
        item.setFirstColumnSpanned(False)
        self.tree.addTopLevelItem(item)
        return item

    def _row(self, parent: QTreeWidgetItem, key: str, value: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([key, value])
        item.setToolTip(1, value)
        parent.addChild(item)
        return item

    def _set_buttons(self, trace: bool) -> None:
        d = self.details
        self.inputs_button.setEnabled(trace)
        self.outputs_button.setEnabled(trace)
        has_values = self.variable is not None or (d is not None and d.value is not None)
        self.values_button.setEnabled(has_values)
        self.variable_button.setEnabled(self.variable is not None)

    def rows(self, section: str) -> dict[str, str]:
        """Field -> value of one section's rows (tests, copy)."""
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.text(0) == section:
                return {top.child(j).text(0): top.child(j).text(1) for j in range(top.childCount())}
        return {}

    # -- events --------------------------------------------------------------------------

    def _on_item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        target = item.data(1, TARGET_ROLE)
        if not target:
            return
        kind, name = target
        if kind == "function":
            self.function_requested.emit(name)
        else:
            self.node_activated.emit(name)

    def _on_values_clicked(self) -> None:
        self.values_requested.emit()

    def _on_variable_clicked(self) -> None:
        if self.details is not None and self.details.variable_key:
            self.variable_requested.emit(self.details.variable_key)

    def _on_trace_inputs_clicked(self) -> None:
        self.trace_requested.emit("inputs")

    def _on_trace_outputs_clicked(self) -> None:
        self.trace_requested.emit("outputs")


def inputs_port(peer: str) -> bool:
    """ "node:0" names an output tensor; a bare name is a node."""
    head, _, tail = peer.rpartition(":")
    return bool(head) and tail.isdigit()


def _variable(model: Model | None, key: str | None) -> Variable | None:
    if model is None or not key:
        return None
    return next((v for v in model.variables if v.key == key), None)
