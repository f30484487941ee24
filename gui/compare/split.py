"""A changed function as two graph views, A left and B right, with the changed nodes coloured
and the selection, zoom and viewport kept in step.

The graph views are the main window's GraphPanel, used as they are. Nodes are coloured
through the scene's mark hook, as Model Explorer's split panes do: removed (A) red, added
(B) green, changed (both) amber; a collapsed scope takes its nodes' kind ("changed" when
they differ). Selecting a node on one side selects and centres its counterpart on the
other; panning or zooming one side puts the counterpart of the node nearest its centre at
the same place on the other.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from smlens.core.diff.changes import Change
from smlens.core.diff.report.counterparts import Counterparts, NodeMarks, counterparts, node_marks
from smlens.core.errors import SmlensError
from smlens.core.model import Model, Node
from smlens.gui.compare.style import mark_colors
from smlens.gui.graph.panel import GraphPanel

SIDES = ("a", "b")
LEGEND = (("removed", "removed from A"), ("added", "added in B"), ("changed", "changed in both"))


def shown_marks(marks: dict[str, str], shown_id: Callable[[str], str | None]) -> dict[str, str]:
    """Node marks moved onto the items that show them: a node's own item, or the collapsed
    scope or op holding it, which is "changed" when its nodes fared differently."""
    shown: dict[str, str] = {}
    for node, kind in marks.items():
        item = shown_id(node)
        if item:
            shown[item] = kind if shown.get(item, kind) == kind else "changed"
    return shown


def _nodes(model: Model, tag_set: str, function: str | None) -> list[Node]:
    """The nodes of ``function`` (None: the main graph) in ``model``; [] when missing."""
    try:
        mg = model.meta_graph(tag_set)
    except SmlensError:
        return []
    if function is None:
        return mg.graph.nodes
    fn = mg.functions.get(function)
    return fn.nodes if fn else []


def _other(side: str) -> str:
    return "b" if side == "a" else "a"


class FunctionSplitView(QWidget):
    """Old and new graph of one changed function (or main graph) side by side."""

    node_selected = Signal(str, str)  # side ("a" or "b"), node name
    layouts_applied = Signal()  # both sides show their graph, marked

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.marks = NodeMarks()
        self.change: Change | None = None
        self.panels = {side: GraphPanel() for side in SIDES}
        self.pairs = Counterparts()
        self._applied: set[str] = set()
        self._aligned = False
        self._syncing = False
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        split = QSplitter(Qt.Orientation.Horizontal)
        for side in SIDES:
            panel = self.panels[side]
            split.addWidget(panel)
            canvas = panel.canvas
            canvas.item_clicked.connect(
                lambda item, pos, side=side: self._on_canvas_item_clicked(side, item, pos)
            )
            canvas.zoom_changed.connect(
                lambda scale, side=side: self._on_canvas_zoom_changed(side, scale)
            )
            for bar in (canvas.horizontalScrollBar(), canvas.verticalScrollBar()):
                bar.valueChanged.connect(lambda _value, side=side: self.follow(side))
            panel.layout_applied.connect(lambda side=side: self._on_panel_layout_applied(side))
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 0)
        layout.addWidget(self.legend)
        layout.addWidget(split, 1)

    def show_function(self, a: Model, b: Model, change: Change) -> None:
        """Open the function of ``change`` (path functions/<tag-set>/<label>, before/after
        its names in A and B) or the main graph (path graph/<tag-set>) on both sides."""
        self.change = change
        self.marks = node_marks(change)
        self._applied.clear()
        self._aligned = False
        tag_set = change.path[1]
        names = (change.before, change.after) if change.area == "functions" else (None, None)
        nodes = [_nodes(m, tag_set, n) for m, n in zip((a, b), names, strict=True)]
        self.pairs = counterparts(*nodes, self.marks)
        for side, model, name in zip(SIDES, (a, b), names, strict=True):
            panel = self.panels[side]
            panel.set_model(model)
            if name:
                panel.open_function(tag_set, name)
            else:
                panel.open_main_graph(tag_set)
        self._show_legend()

    def _show_legend(self) -> None:
        counts = {
            "removed": sum(k == "removed" for k in self.marks.a.values()),
            "added": sum(k == "added" for k in self.marks.b.values()),
            "changed": len(self.marks.a_to_b),
        }
        colors = mark_colors()
        parts = [
            f'<span style="color:{colors[kind].name()}">&#9632;</span> {counts[kind]:,} {text}'
            for kind, text in LEGEND
        ]
        self.legend.setText(
            "<b>A</b> left, <b>B</b> right &nbsp;·&nbsp; "
            + " &nbsp; ".join(parts)
            + " &nbsp;·&nbsp; click a node to find it on the other side"
        )

    def marked(self, side: str) -> dict[str, str]:
        """The shown items coloured on ``side``: id -> "added", "removed" or "changed"."""
        return dict(self.panels[side].scene.marks)

    def counterpart(self, side: str, name: str) -> str | None:
        """The id the other side shows for node or scope ``name`` of ``side`` (the node
        itself, or the collapsed scope holding it); None when it has no such item."""
        other, twin = self.panels[_other(side)], self.pairs.of(side, name)
        return twin if twin in other.scene.data.index else other.shown_id(twin)

    def _on_panel_layout_applied(self, side: str) -> None:
        panel = self.panels[side]
        marks = self.marks.a if side == "a" else self.marks.b
        panel.scene.set_marks(shown_marks(marks, panel.shown_id), mark_colors())
        panel.canvas.minimap.refresh()  # drawn with the layout, before the marks
        self._applied.add(side)
        if self._applied != set(SIDES):
            return
        if not self._aligned:  # B opens at A's zoom, on the same nodes
            self._aligned = True
            self._syncing = True
            try:
                self.panels["b"].canvas.set_scale(self.panels["a"].canvas.scale_factor)
            finally:
                self._syncing = False
            self.follow("a")
        self.layouts_applied.emit()

    def select(self, side: str, node: str) -> None:
        """Select ``node`` on ``side`` and its counterpart on the other side."""
        twin = self.pairs.of(side, node)
        other = self.panels[_other(side)]
        self._syncing = True
        try:
            self.panels[side].select(node, center=True)
            if twin in other.scene.data.index or other.shown_id(twin):
                other.select(twin, center=True)
        finally:
            self._syncing = False
        self.node_selected.emit(side, node)

    def follow(self, side: str) -> str | None:
        """Move the other side's view to match ``side``'s: of the items nearest its centre,
        the first the other side shows too is put at the same place on screen there.
        Returns the id it lined up on the other side (None: nothing in common nearby)."""
        if self._syncing or self._applied != set(SIDES):
            return None
        source, target = self.panels[side], self.panels[_other(side)]
        centre = source.canvas.visible_scene_rect().center()
        for item_id in source.scene.nearest_items(centre):
            twin = self.counterpart(side, item_id)
            place = source.canvas.viewport_pos(item_id)
            if twin and place is not None:
                self._syncing = True
                try:
                    target.canvas.keep_at(twin, place)
                finally:
                    self._syncing = False
                return twin
        return None

    def _on_canvas_item_clicked(self, side: str, item: str, _pos: QPointF) -> None:
        if item and not self._syncing:
            self.select(side, item)

    def _on_canvas_zoom_changed(self, side: str, scale: float) -> None:
        if self._syncing:
            return
        other = self.panels[_other(side)].canvas
        if abs(other.scale_factor - scale) > 1e-6:
            self._syncing = True
            try:
                other.set_scale(scale)
            finally:
                self._syncing = False
        self.follow(side)


def main() -> None:
    """``python -m smlens.gui.compare.split A B [TEXT]``: the first changed function (whose
    path holds TEXT, if given) of A against B, side by side."""
    import sys

    from smlens.core.diff.model_diff import diff_models
    from smlens.core.errors import SmlensError
    from smlens.core.formats.reader import open_model
    from smlens.gui.base.preview import application

    def fail(message: str) -> None:
        print(message, file=sys.stderr)
        sys.exit(2)

    app = application()
    if len(sys.argv) not in (3, 4):
        fail("usage: python -m smlens.gui.compare.split A B [TEXT]")
    try:
        a, b = open_model(sys.argv[1]), open_model(sys.argv[2])
    except SmlensError as e:
        fail(f"smlens: error: {e}")
    diff = diff_models(a, b, values=False)
    wanted = sys.argv[3] if len(sys.argv) == 4 else ""
    found = [
        c
        for area in ("functions", "graph")
        for group in diff.groups.get(area, [])
        for c in ([group] if area == "graph" else group.children)
        if c.area == "graph" or (isinstance(c.before, str) and isinstance(c.after, str))
        if wanted in "/".join(c.path)
    ]
    if not found:
        fail(f"smlens: error: {sys.argv[2]}: no changed function or graph to show")
    view = FunctionSplitView()
    view.setWindowTitle(f"{'/'.join(found[0].path)}: {sys.argv[1]} | {sys.argv[2]}")
    view.resize(1500, 850)
    view.show()
    view.show_function(a, b, found[0])
    sys.exit(app.exec())


if __name__ == "__main__":
    main()
