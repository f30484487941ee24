"""A changed function as two graph views, A left and B right, with the changed nodes marked
and the selection and zoom kept in step.

The graph views are the main window's GraphPanel, used as they are: the nodes a change
touches are shown with the panel's match highlight (one colour: the scene has no per-node
colour hook yet), and a legend counts them as removed (A), added (B) and changed (both).
Selecting a node on one side selects and centres its counterpart on the other.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from smlens.core.diff.changes import Change, NodeMarks, node_marks
from smlens.core.model import Model
from smlens.gui.graph.panel import GraphPanel

SIDES = ("a", "b")


class FunctionSplitView(QWidget):
    """Old and new graph of one changed function (or main graph) side by side."""

    node_selected = Signal(str, str)  # side ("a" or "b"), node name
    layouts_applied = Signal()  # both sides show their graph

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.marks = NodeMarks()
        self.change: Change | None = None
        self.panels = {side: GraphPanel() for side in SIDES}
        self._applied: set[str] = set()
        self._syncing = False
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setProperty("role", "muted")
        split = QSplitter(Qt.Orientation.Horizontal)
        for side in SIDES:
            panel = self.panels[side]
            split.addWidget(panel)
            panel.canvas.item_clicked.connect(
                lambda item, pos, side=side: self._on_canvas_item_clicked(side, item, pos)
            )
            panel.canvas.zoom_changed.connect(
                lambda scale, side=side: self._on_canvas_zoom_changed(side, scale)
            )
            panel.layout_applied.connect(lambda side=side: self._on_panel_layout_applied(side))
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(split, 1)

    def show_function(self, a: Model, b: Model, change: Change) -> None:
        """Open the function of ``change`` (path functions/<tag-set>/<label>, before/after
        its names in A and B) or the main graph (path graph/<tag-set>) on both sides."""
        self.change = change
        self.marks = node_marks(change)
        self._applied.clear()
        tag_set = change.path[1]
        names = (change.before, change.after) if change.area == "functions" else (None, None)
        for side, model, name in zip(SIDES, (a, b), names, strict=True):
            panel = self.panels[side]
            panel.set_model(model)
            if name:
                panel.open_function(tag_set, name)
            else:
                panel.open_main_graph(tag_set)
        removed = sum(k == "removed" for k in self.marks.a.values())
        added = sum(k == "added" for k in self.marks.b.values())
        changed = len(self.marks.a_to_b)
        self.legend.setText(
            f"<b>A</b> left, <b>B</b> right · highlighted: {removed} removed in A, "
            f"{added} added in B, {changed} changed in both · click a node to find it on the "
            "other side"
        )

    def marked(self, side: str) -> set[str]:
        """The ids shown highlighted on ``side``."""
        return set(self.panels[side].scene.matches)

    def _on_panel_layout_applied(self, side: str) -> None:
        panel = self.panels[side]
        marks = self.marks.a if side == "a" else self.marks.b
        panel.scene.set_matches({i for i in map(panel.shown_id, marks) if i})
        self._applied.add(side)
        if self._applied == set(SIDES):
            self.layouts_applied.emit()

    def select(self, side: str, node: str) -> None:
        """Select ``node`` on ``side`` and its counterpart on the other side."""
        other = "b" if side == "a" else "a"
        if side == "a":
            counterpart = self.marks.a_to_b.get(node, node)
        else:
            back = {b: a for a, b in self.marks.a_to_b.items()}
            counterpart = back.get(node, node)
        self._syncing = True
        try:
            self.panels[side].select(node, center=True)
            if counterpart in self.panels[other].scene.index or self.panels[other].shown_id(
                counterpart
            ):
                self.panels[other].select(counterpart, center=True)
        finally:
            self._syncing = False
        self.node_selected.emit(side, node)

    def _on_canvas_item_clicked(self, side: str, item: str, _pos: QPointF) -> None:
        if item and not self._syncing:
            self.select(side, item)

    def _on_canvas_zoom_changed(self, side: str, scale: float) -> None:
        if self._syncing:
            return
        other = self.panels["b" if side == "a" else "a"].canvas
        if abs(other.scale_factor - scale) > 1e-6:
            self._syncing = True
            try:
                other.set_scale(scale)
            finally:
                self._syncing = False
