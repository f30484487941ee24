"""The TF2 object graph: the trackable tree a SavedModel restores, from the root down."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QHeaderView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from smlens.core.model import MetaGraph, Model, ObjectGraph, ObjectNode
from smlens.core.model.text import short_dtype
from smlens.gui.base.panel import Panel
from smlens.gui.base.theme import current
from smlens.gui.base.widgets import PlaceholderStack

COLUMNS = ("Name", "Kind", "Identifier", "DType", "Shape", "Details")
NAME, KIND, IDENTIFIER, DTYPE, SHAPE, DETAILS = range(len(COLUMNS))
NODE_ROLE = Qt.ItemDataRole.UserRole  # the ObjectNode id
LINK_ROLE = Qt.ItemDataRole.UserRole + 1  # True on a second path to a node shown elsewhere

# SavedObject kinds (saved_object_graph.proto): badge letter, colour, label.
KINDS = {
    "user_object": ("O", "#5b7083", "object"),
    "variable": ("V", "#2e8b57", "variable"),
    "function": ("F", "#7b4fb5", "function"),
    "bare_concrete_function": ("C", "#a46dd6", "concrete function"),
    "asset": ("A", "#d9822b", "asset"),
    "constant": ("K", "#8b6b4a", "constant"),
    "resource": ("R", "#238b8b", "resource"),
    "captured_tensor": ("T", "#c0392b", "captured tensor"),
    "": ("?", "#8a8a8a", "unknown"),
}

PLACEHOLDER = (
    "This model has no object graph.\n\n"
    "Only TF2 SavedModels store one (the trackable objects that tf.saved_model.load "
    "rebuilds). TF1 SavedModels, checkpoints, MetaGraphs and frozen graphs have none; "
    "their variables are in the Variables panel."
)


@cache
def kind_icon(kind: str) -> QIcon:
    """A small rounded badge with the kind's letter (drawn, so both themes read it)."""
    letter, color, _ = KINDS.get(kind, KINDS[""])
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawRoundedRect(QRectF(2, 2, 28, 28), 7, 7)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(19)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRectF(0, 0, 32, 32), Qt.AlignmentFlag.AlignCenter, letter)
    painter.end()
    return QIcon(pixmap)


def variable_keys(model: Model) -> dict[int, str]:
    """Object node id -> the checkpoint key of that variable's value."""
    keys: dict[int, str] = {}
    for var in model.variables:
        if var.object_id is None:
            continue
        if var.object_id not in keys or var.key.endswith("/.ATTRIBUTES/VARIABLE_VALUE"):
            keys[var.object_id] = var.key
    return keys


class ObjectPanel(Panel):
    """The object graph as a tree. Selecting a variable emits its checkpoint key."""

    title = "Object graph"
    part = "object_graph"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        self.tree.itemActivated.connect(self._on_item_activated)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

        self.stack = PlaceholderStack(self.tree, PLACEHOLDER, max_width=520)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.stack)

        self._items: dict[int, QTreeWidgetItem] = {}  # node id -> its expanded (first) row
        self._keys: dict[int, str] = {}
        self._copies: dict[str, str] = {}
        self._meta: MetaGraph | None = None

    def show_model(self, model: Model | None) -> None:
        self.tree.clear()
        self._items = {}
        meta = _object_meta_graph(model)
        if meta is None:
            self.stack.show_content(False)
            return
        self.stack.show_content()
        self._keys = variable_keys(model)
        self._copies = {  # checkpoint key -> the object path of the same tensor's other node
            v.key: g[0].object_path if v is not g[0] else g[1].object_path
            for g in model.variable_groups()
            if len(g) > 1
            for v in g
        }
        self._meta = meta
        graph = meta.object_graph
        root = self._add(None, "(root)", graph.nodes[0], link=False)
        self._add_children(root, graph, graph.nodes[0], seen={0})
        root.setExpanded(True)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Widths from every row's text, expanded or not (resizeColumnToContents only
        measures the visible rows)."""
        metrics = self.tree.fontMetrics()
        widths = [metrics.horizontalAdvance(title) + 24 for title in COLUMNS]
        caps = (320, 160, 240, 110, 120, 400)
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        depth = {id(item): 1 for item in stack}
        while stack:
            item = stack.pop()
            level = depth[id(item)]
            for col in range(len(COLUMNS)):
                extra = 24 + (self.tree.indentation() * level + 24 if col == NAME else 0)
                widths[col] = max(widths[col], metrics.horizontalAdvance(item.text(col)) + extra)
            for i in range(item.childCount()):
                depth[id(item.child(i))] = level + 1
                stack.append(item.child(i))
        for col, (width, cap) in enumerate(zip(widths, caps, strict=True)):
            self.tree.setColumnWidth(col, min(width, cap))

    def item_for(self, node_id: int) -> QTreeWidgetItem | None:
        """The row where node ``node_id`` is expanded (the first path to it)."""
        return self._items.get(node_id)

    def _add_children(self, parent: QTreeWidgetItem, graph: ObjectGraph, node, seen) -> None:
        for name, child in graph.children_of(node.id):
            # A node reached by a second path (Keras lists every variable twice) is a link.
            link = child.id in seen
            item = self._add(parent, name, child, link)
            if not link:
                seen.add(child.id)
                self._add_children(item, graph, child, seen)

    def _add(self, parent, name: str, node: ObjectNode, link: bool) -> QTreeWidgetItem:
        _, _, kind_label = KINDS.get(node.kind, KINDS[""])
        var = node.variable
        texts = [
            name,
            kind_label,
            node.identifier or node.registered_name,
            short_dtype(var.dtype) if var else "",
            str(var.shape) if var else "",
            self._details(node),
        ]
        item = QTreeWidgetItem(texts)
        item.setIcon(NAME, kind_icon(node.kind))
        item.setData(NAME, NODE_ROLE, node.id)
        item.setData(NAME, LINK_ROLE, link)
        tip = [f"path: {node.path or '(root)'}", f"node id: {node.id}"]
        if node.concrete_functions:
            tip.append("concrete functions: " + ", ".join(node.concrete_functions))
        if node.id in self._keys:
            tip.append(f"checkpoint key: {self._keys[node.id]}")
            same = self._copies.get(self._keys[node.id])
            if same:
                tip.append(f"the same tensor as {same} (Keras exports store each variable twice)")
        if link:
            item.setText(NAME, f"{name}  → {node.path}")
            font = item.font(NAME)
            font.setItalic(True)
            item.setFont(NAME, font)
            for col in range(len(COLUMNS)):
                item.setForeground(col, QColor(current().muted))
            tip.insert(0, f"also reached as {node.path}; double-click to go there")
        else:
            self._items[node.id] = item
        item.setToolTip(NAME, "\n".join(tip))
        if parent is None:
            self.tree.addTopLevelItem(item)
        else:
            parent.addChild(item)
        return item

    def _details(self, node: ObjectNode) -> str:
        if node.variable is not None:
            return node.variable.name
        if node.concrete_functions:
            return ", ".join(node.concrete_functions)
        if node.asset_index is not None and self._meta is not None:
            files = self._meta.asset_files
            if 0 <= node.asset_index < len(files):
                return files[node.asset_index].filename
        return ""

    def _on_current_changed(self, item: QTreeWidgetItem | None, _previous) -> None:
        if item is None:
            return
        key = self._keys.get(item.data(NAME, NODE_ROLE))
        if key is not None:
            self.variable_selected.emit(key)

    def _on_item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        if not item.data(NAME, LINK_ROLE):
            return
        target = self._items.get(item.data(NAME, NODE_ROLE))
        if target is not None:
            self.tree.setCurrentItem(target)
            self.tree.scrollToItem(target)


def _object_meta_graph(model: Model | None) -> MetaGraph | None:
    if model is None:
        return None
    return next((mg for mg in model.meta_graphs if mg.object_graph and mg.object_graph.nodes), None)


if __name__ == "__main__":
    from smlens.gui.base.preview import preview

    preview(ObjectPanel)
