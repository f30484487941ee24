"""The graph panel: open a main graph or function, walk into callees, expand scopes, search,
trace, inspect nodes and reach a variable's values.

A thin view over core/graph/state.py's GraphState, which owns the place, history, open
scopes, selection, matches and trace: the panel observes its events and writes back through
its methods. Building a graph and laying it out run on the thread pool (gui/base/tasks.py);
a newer request replaces an older one.
"""

from __future__ import annotations

from functools import partial
from html import escape
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QMenu,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from smlens.core.graph.nav import (
    GraphRef,
    Place,
    TraceView,
    ViewLayout,
    default_place,
    function_place,
    place_size,
    primary_callee,
    resolve_name,
    shown_item,
    signature_place,
    unwrap,
)
from smlens.core.graph.scopes import VisibleItem
from smlens.core.graph.start import start_view
from smlens.core.graph.state import GraphState
from smlens.core.model import Model
from smlens.core.model.text import counted
from smlens.gui.base.panel import Panel
from smlens.gui.graph.canvas import GraphCanvas
from smlens.gui.graph.export import ask_export_path, export_scene
from smlens.gui.graph.inspector import GraphInspector
from smlens.gui.graph.loader import GraphLoader
from smlens.gui.graph.navbar import GraphNavBar
from smlens.gui.graph.scene import GraphScene
from smlens.gui.graph.search import SHOWN_MATCHES, GraphSearch
from smlens.gui.graph.statusbar import GraphStatusBar
from smlens.gui.graph.style import NodeMetrics, edge_label
from smlens.gui.graph.toolbar import GraphToolbar, add_shortcut
from smlens.gui.tensor.view import TensorView

PLACEHOLDER = "Open a signature, a function or the main graph."
BUILD_ASK = 200_000  # a graph opened by itself (not asked for) is built only up to this size
EXPAND_ALL_ASK = 20_000  # Expand all asks first above this many items
HINT_SIDE_WIDTH = 150  # the inspector's side while it holds only its hint
SIDE_WIDTH = 300  # the side's width with a node in it, until the user drags the splitter


class GraphPanel(Panel):
    """Every NodeDef of a main graph or function, with scopes as boxes."""

    title = "Graph"
    part = "graph"

    variable_selected = Signal(str)  # checkpoint key: show it in the variables panel
    layout_applied = Signal()  # the scene shows the newest layout
    wants_focus = Signal()  # a graph was opened: give this panel the main area

    def __init__(self, parent: QWidget | None = None, state: GraphState | None = None):
        super().__init__(parent)
        self.metrics = NodeMetrics(self.font())
        self.state = state or GraphState()
        self._pending_name: str | None = None
        self._shown_first = True  # the layout shown is the first of its graph
        self._before: QPointF | None = None  # the anchor on screen before the layout asked
        self._expand_all_asked = False
        self._asked_place: Place | None = None  # a big graph waiting for "Build it"
        self.loader = GraphLoader(self.state, self.metrics, self)
        self.loader.layout_ready.connect(self._apply_layout)
        self.loader.failed.connect(self._on_failed)
        self.loader.building.connect(self._on_building)
        self._build()
        self.loader.progressed.connect(self.status_bar.show_progress)
        self.loader.busy_changed.connect(self.status_bar.show_busy)
        self.search = GraphSearch(self.state, self.toolbar, self.match_list, self.jump_to, self)
        events = self.state.events
        events.place.connect(self._on_place_changed)
        events.view.connect(self._on_view_changed)
        events.selected.connect(self._on_selected_changed)
        events.matches.connect(self._on_matches_changed)
        events.trace.connect(self._on_trace_changed)
        self._on_place_changed(None)

    # -- the state, as the tests and the window read it ------------------------------------

    @property
    def view(self) -> ViewLayout | None:
        return self.state.view

    @property
    def selected(self) -> str | None:
        return self.state.selected

    @property
    def expanded(self) -> set[str]:
        return set(self.state.expanded)

    @property
    def busy(self) -> bool:
        return self.loader.busy or self.search.busy

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        self.scene = GraphScene(self.metrics, self)
        self.scene.label_text = self._edge_label
        self.canvas = GraphCanvas(self.scene)
        self.canvas.setMinimumWidth(40)
        self.canvas.item_clicked.connect(self._on_item_clicked)
        self.canvas.item_double_clicked.connect(self._on_item_double_clicked)
        self.canvas.context_requested.connect(self._on_context_requested)

        self.inspector = GraphInspector()
        self.inspector.node_activated.connect(self.jump_to)
        self.inspector.function_requested.connect(self.open_callee)
        self.inspector.values_requested.connect(self.show_values)
        self.inspector.variable_requested.connect(self.variable_selected.emit)
        self.inspector.trace_requested.connect(self.trace_selected)
        self.inspector.setMinimumWidth(100)
        self.inspector.content_changed.connect(self._fit_side)
        self.tensor_view = TensorView()
        self.tensor_view.hide()
        self.match_list = QListWidget()
        self.match_list.setUniformItemSizes(True)
        self.match_list.hide()

        self.side = QSplitter(Qt.Orientation.Vertical)
        self.side.addWidget(self.match_list)
        self.side.addWidget(self.inspector)
        self.side.addWidget(self.tensor_view)
        self.side.setStretchFactor(1, 1)
        self.side.setStretchFactor(2, 2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([1000, HINT_SIDE_WIDTH])
        self.splitter.splitterMoved.connect(self._on_splitter_moved)
        self._side_width = SIDE_WIDTH

        self.nav_bar = GraphNavBar()
        self.nav_bar.back_requested.connect(self.go_back)
        self.nav_bar.forward_requested.connect(self.go_forward)
        self.nav_bar.place_requested.connect(self.open_place)
        self.toolbar = GraphToolbar()
        self.toolbar.fit_requested.connect(self.fit)
        self.toolbar.expand_all_requested.connect(self.expand_all)
        self.toolbar.collapse_all_requested.connect(self.collapse_all)
        self.toolbar.clear_trace_requested.connect(self.clear_trace)
        self.toolbar.export_requested.connect(self._on_export_requested)
        self.toolbar.details_toggled.connect(self.show_details)
        self.toolbar.fold_toggled.connect(self.state.set_fold)
        for keys, slot in (
            ("Alt+Left", self.go_back),
            ("Alt+Right", self.go_forward),
            ("F", self.fit),
            ("Esc", self.clear_trace),
            ("I", self.toolbar.details_button.toggle),
            ("+", lambda: self.canvas.zoom_by(1.25)),
            ("=", lambda: self.canvas.zoom_by(1.25)),
            ("-", lambda: self.canvas.zoom_by(0.8)),
            ("0", lambda: self.canvas.set_scale(1.0)),
            ("Ctrl+F", self.toolbar.search_edit.setFocus),
        ):
            add_shortcut(self, keys, slot)

        self.placeholder = QLabel(PLACEHOLDER)
        self.placeholder.linkActivated.connect(self._on_placeholder_link_activated)
        self.placeholder.setProperty("role", "muted")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self.nav_bar)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.placeholder, 1)
        self.status_bar = GraphStatusBar()
        self.canvas.zoom_changed.connect(self.status_bar.show_zoom)
        layout.addWidget(self.status_bar)
        self.splitter.hide()

    def show_details(self, shown: bool) -> None:
        """Show or collapse the inspector side, giving the canvas the whole width."""
        self.side.setVisible(shown)
        if self.toolbar.details_button.isChecked() != shown:
            self.toolbar.details_button.setChecked(shown)

    @property
    def side_has_content(self) -> bool:
        """A node or scope inspected, search matches listed, or values shown."""
        return (
            self.inspector.has_content
            or not self.match_list.isHidden()
            or not self.tensor_view.isHidden()
        )

    def _fit_side(self) -> None:
        """Room for what the side holds: a narrow strip for the inspector's hint, the
        user's width (or SIDE_WIDTH) once a node, matches or values arrive. The canvas
        keeps the rest."""
        sizes = self.splitter.sizes()
        total = sum(sizes)
        if total <= 0 or len(sizes) != 2:
            return
        width = self._side_width if self.side_has_content else HINT_SIDE_WIDTH
        width = min(width, total // 2)
        if sizes[1] != width:
            self.splitter.setSizes([total - width, width])

    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        if self.side_has_content:
            self._side_width = self.splitter.sizes()[1]

    def fit(self) -> None:
        """Fit the whole graph in the view (the Fit button, F, and the context menu)."""
        self.canvas.fit_all()

    # -- the model -----------------------------------------------------------------------

    def show_model(self, model: Model | None) -> None:
        self.search.cancel()
        self.loader.set_model(model)
        self.state.reset()
        self.inspector.clear()
        self.tensor_view.clear()
        self.tensor_view.hide()
        self._fit_side()
        self.tensor_view.set_protected_folder(model.path if model else None)
        self.nav_bar.fill(model)
        self.status_bar.show_message("")
        self._asked_place = None
        self.placeholder.setText(PLACEHOLDER)
        if model is None:
            return
        name, self._pending_name = self._pending_name, None
        if name is not None:
            try:
                self.open_name(name)
            except KeyError as e:
                self.status_bar.show_message(str(e.args[0]))
        elif self.isVisible():
            self.open_default()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.model is not None and self.state.history.current is None and not self.loader.busy:
            self.open_default()

    def open_default(self) -> None:
        """The graph default_place names; one past BUILD_ASK nodes waits for a click."""
        place = default_place(self.model) if self.model is not None else None
        if place is None:
            return
        size = place_size(self.model, place)
        if size <= BUILD_ASK:
            self.open_place(place, focus=False)
            return
        self._asked_place = place
        self.placeholder.setText(  # building one takes a minute and gigabytes: ask first
            f"{escape(place.ref.title)} holds {counted(size, 'node')}: building the graph takes "
            "a while and much memory. <a href='build'>Build it</a>"
        )

    def _on_placeholder_link_activated(self, _link: str) -> None:
        if self._asked_place is not None:
            self.open_place(self._asked_place, focus=False)

    # -- opening -------------------------------------------------------------------------

    def open_name(self, name: str) -> None:
        """Open what ``--view graph:NAME`` names; KeyError for an unknown name. Before a
        model is shown the name is kept for it."""
        if self.model is None:
            self._pending_name = name
            return
        self.open_place(resolve_name(self.model, name))

    def open_signature(self, tag_set: str, key: str) -> None:
        self.open_place(signature_place(self.model.meta_graph(tag_set), key))

    def open_function(self, tag_set: str, name: str) -> None:
        self.open_place(function_place(self.model.meta_graph(tag_set), name))

    def open_main_graph(self, tag_set: str) -> None:
        self.open_place(Place((GraphRef(tag_set),)))

    def open_place(self, place: Place, focus: bool = True) -> None:
        """Show ``place``; ``focus``: ask the window for room (a graph the user opened)."""
        self._asked_place = None
        self.placeholder.setText(PLACEHOLDER)
        self.state.visit(place, self.canvas.view_state())
        if focus:
            self.wants_focus.emit()

    def go_back(self) -> None:
        self.state.back(self.canvas.view_state())

    def go_forward(self) -> None:
        self.state.forward(self.canvas.view_state())

    def open_callee(self, function: str) -> None:
        """Walk into ``function`` from the graph shown (a call node's callee)."""
        current = self.state.history.current
        if current is None or self.model is None:
            return
        mg = self.model.meta_graph(current.ref.tag_set)
        inner = unwrap(mg, GraphRef(current.ref.tag_set, function))
        place = current
        for ref in inner.trail:
            place = place.into(ref)
        self.open_place(place)

    def _on_place_changed(self, place: Place | None) -> None:
        history = self.state.history
        self.nav_bar.show_place(place, bool(history.back_stack), bool(history.forward_stack))
        self.inspector.clear()

    def _on_building(self, title: str) -> None:
        self.status_bar.show_message(f"Building {title}…")

    def _on_failed(self, message: str) -> None:
        self.status_bar.show_message(message)

    def _apply_layout(self, view: ViewLayout) -> None:
        request = self.state.pending
        anchor = request.anchor if request else None
        before = self.canvas.viewport_pos(anchor) if anchor else None
        first = self.scene.view is None or self.scene.view.loaded is not view.loaded
        self._shown_first, self._before = first, before
        self.state.layout_done(view)

    def _on_view_changed(self, view: ViewLayout | None) -> None:
        self._expand_all_asked = False
        if view is None:
            self.scene.show_layout(None)
            self._show_canvas(False)
            return
        request = self.state.answered
        texts = self.loader.texts_for(view.loaded)
        self.scene.show_layout(view, texts, self.loader.scene_data_for(view))
        self._show_canvas(True)
        self.body.layout().activate()  # the canvas's real size, before fitting to it
        restore = request.restore if request else None
        if self._shown_first:
            if restore is not None and restore.viewport:
                self.canvas.restore_state(restore.viewport)
            else:
                self.show_start()
        elif request is not None and request.fit:
            self.show_start()
        elif request is not None and request.anchor and self._before is not None:
            self.canvas.keep_at(request.anchor, self._before)
        self._refresh_marks()
        if request is not None and request.focus:
            self.state.select(request.focus)
            self.canvas.center_on_item(self.shown_id(request.focus) or "")
        elif self.selected:
            self._on_selected_changed(self.selected)
        # Its own event-loop turn: drawing 140k items small is a stall of its own.
        QTimer.singleShot(0, self.canvas.minimap, self.canvas.minimap.refresh)
        self.status_bar.show_counts(view, len(self.scene.data.items))
        # The canvas says a zoom when it changes; a first screen at 100 % changed nothing.
        self.status_bar.show_zoom(self.canvas.scale_factor)
        self.layout_applied.emit()

    def show_start(self) -> None:
        """Show where the dataflow starts (the inputs, else the feeds, else the sources) at
        a readable zoom with the layers below; the whole graph when it fits readably."""
        view = self.view
        if view is None:
            return
        loaded = view.loaded
        ids = [shown_item(loaded, view.expanded, i) for i in loaded.starts.nodes]
        bounds = self.scene.data.leaf_bounds  # x0, y0, x1, y1, with a scope card's 3 px
        boxes = np.column_stack(
            [
                bounds[:, 0],
                bounds[:, 1],
                bounds[:, 2] - bounds[:, 0] - 3,
                bounds[:, 3] - bounds[:, 1] - 3,
            ]
        )
        port = self.canvas.viewport().rect()
        start = start_view(view.layout, ids, port.width(), port.height(), boxes=boxes)
        self.canvas.show_at(start.scale, QPointF(*start.center))

    def _show_canvas(self, shown: bool) -> None:
        self.splitter.setVisible(shown)
        if shown:
            QTimer.singleShot(0, self._fit_side)  # sizes exist once it is laid out
        self.placeholder.setVisible(not shown)

    # -- scopes --------------------------------------------------------------------------

    def expand(self, path: str) -> None:
        self.state.expand(path)

    def collapse(self, path: str) -> None:
        self.state.collapse(path)

    def expand_all(self) -> None:
        """Open every scope and series; on a huge graph, only when asked twice (the layout
        runs off the UI thread, and anything asked next cancels it)."""
        loaded = self.state.loaded
        if loaded is None:
            return
        h = loaded.hierarchy
        items = len(h.scopes) + len(loaded.graph.nodes) - len(h.folding)
        if items > EXPAND_ALL_ASK and not self._expand_all_asked:
            self._expand_all_asked = True
            self.status_bar.show_message(
                f"Expand all would draw {counted(items, 'item')}: press Expand again to go on."
            )
            return
        self._expand_all_asked = False
        self.state.expand_all()

    def collapse_all(self) -> None:
        self.state.collapse_all()

    # -- selection -----------------------------------------------------------------------

    def shown_id(self, node: str) -> str | None:
        """The id of the shown item holding ``node`` (itself or a collapsed scope)."""
        if self.view is None or node not in self.view.loaded.graph.index:
            return node if self.view and node in self.scene.data.index else None
        return shown_item(self.view.loaded, self.view.expanded, self.view.loaded.graph.index[node])

    def select(self, name: str | None, center: bool = False) -> None:
        """Select a node (by name) or a scope (by its id, "path/"), and show it inspected."""
        self.state.select(name)
        shown = self.shown_id(name) if name and not name.endswith("/") else name
        if center and shown:
            self.canvas.center_on_item(shown)

    def _on_selected_changed(self, name: str | None) -> None:
        if not name or self.view is None:
            self.scene.set_selected(None)
            self.inspector.clear()
            return
        loaded = self.view.loaded
        self.scene.set_selected(self.shown_id(name) if not name.endswith("/") else name)
        if name.endswith("/"):
            self.inspector.show_scope(loaded.graph, loaded.hierarchy, name[:-1])
        elif name in loaded.graph.index:
            self.inspector.show_node(loaded.graph, name, self.model, loaded.rows(name))

    def jump_to(self, node: str) -> None:
        """Show ``node``: open the scopes holding it, centre it and select it."""
        expanded = self.state.expanded
        if self.state.reveal(node) and self.state.expanded == expanded and not self.state.pending:
            self.canvas.center_on_item(self.shown_id(node) or "")

    # -- search and trace ----------------------------------------------------------------

    def run_search(self) -> None:
        self.search.run_search()

    def trace_selected(self, direction: str) -> None:
        self.search.trace(self.selected, direction)

    def clear_trace(self) -> None:
        self.state.set_trace(None)

    def _on_matches_changed(self, _names: list[str]) -> None:
        self._refresh_marks(retrace=False)
        self._fit_side()

    def _on_trace_changed(self, result: TraceView | None) -> None:
        if result is None:
            self.scene.set_traced(set(), set())
        else:
            self.scene.set_traced(result.items, result.pairs)

    def _refresh_marks(self, retrace: bool = True) -> None:
        """Search matches and the trace mapped onto what is shown now."""
        if self.view is None:
            return
        graph = self.view.loaded.graph
        matches = self.state.matches[:SHOWN_MATCHES]
        shown = {self.shown_id(n) for n in matches if n in graph.index}
        self.scene.set_matches({s for s in shown if s})
        if retrace:
            self.search.retrace()

    # -- values --------------------------------------------------------------------------

    def show_values(self) -> None:
        """Open the selected variable's (or big Const's) values in the tensor viewer."""
        var, d = self.inspector.variable, self.inspector.details
        checkpoint = getattr(self.model, "checkpoint", None)
        if var is not None and checkpoint is not None:
            self.show_variable(var.name, var.key)
        elif d is not None and d.value is not None:
            self.tensor_view.show()
            self._fit_side()
            self.tensor_view.show_tensor(d.name, d.value.tensor.numpy)

    def show_variable(self, name: str, key: str) -> None:
        """Open the checkpoint's values of ``key`` in the tensor viewer beside the graph."""
        checkpoint = getattr(self.model, "checkpoint", None)
        if checkpoint is None:
            return
        self.show_details(True)
        self.tensor_view.show()
        self._fit_side()
        self.tensor_view.show_tensor(name, partial(checkpoint.read, key))

    # -- canvas events -------------------------------------------------------------------

    def _on_item_clicked(self, item_id: str, pos: QPointF) -> None:
        item = self.scene.item(item_id)
        if item is None:
            self.select(None)
            return
        row = self.scene.weight_at(item_id, pos)
        if row is not None:  # a folded weight: inspect it and show its values
            self.select(row.node)
            if row.key:
                self.show_variable(row.node, row.key)
            else:
                self.show_values()
            return
        if item.kind == "expanded" and self.scene.on_header(item_id, pos):
            rect = self.scene.rect_of(item_id)
            if pos.x() < rect.x() + 28:  # the ▾ mark
                self.collapse(item.name)
                return
        if item.kind in ("scope", "series"):
            rect = self.scene.rect_of(item_id)
            if pos.x() < rect.x() + 24:  # the ▸ mark
                self.expand(item.name)
                return
        if item.kind in ("in", "out"):
            return
        self.select(item.id if item.kind in ("scope", "expanded", "series") else item.name)

    def _on_item_double_clicked(self, item_id: str, pos: QPointF) -> None:
        item = self.scene.item(item_id)
        if item is None:
            self.fit()
            return
        if item.kind in ("scope", "series"):
            self.expand(item.name)
        elif item.kind == "expanded" and self.scene.on_header(item_id, pos):
            self.collapse(item.name)
        elif item.kind == "op":
            callee = primary_callee(self.view.loaded.graph, item.name)
            if callee:
                self.open_callee(callee)

    def _on_context_requested(self, item_id: str, pos: QPointF, global_pos) -> None:
        item = self.scene.item(item_id)
        if item is not None and item.kind in ("op", "arg", "ret"):
            self.select(item.name)
        menu = self.context_menu(item)
        menu.exec(global_pos)
        menu.deleteLater()

    def context_menu(self, item: VisibleItem | None) -> QMenu:
        """What a right click offers on ``item``, or on empty canvas (None)."""
        menu = QMenu(self)

        def add(text: str, slot) -> None:
            menu.addAction(text).triggered.connect(lambda _checked=False: slot())

        if item is None:
            add("Fit to view", self.fit)
            add("Expand all", self.expand_all)
            add("Collapse all", self.collapse_all)
            return menu
        if item.kind in ("scope", "series"):
            add("Expand", partial(self.expand, item.name))
        if item.kind == "expanded":
            add("Collapse", partial(self.collapse, item.name))
        if item.kind in ("op", "arg", "ret"):
            add("Trace inputs", partial(self.trace_selected, "inputs"))
            add("Trace outputs", partial(self.trace_selected, "outputs"))
            graph = self.view.loaded.graph if self.view else None
            if graph is not None and item.name in graph.index:
                for c in graph.node(item.name).callees:
                    add(
                        f"Open {c.attr or 'function'}: {c.function}",
                        partial(self.open_callee, c.function),
                    )
        add("Copy name", lambda: QGuiApplication.clipboard().setText(item.name))
        return menu

    def breadcrumbs(self) -> list[str]:
        place = self.state.history.current
        return [ref.title for ref in place.trail] if place else []

    # -- labels and export ---------------------------------------------------------------

    def _edge_label(self, route) -> str:
        return edge_label(self.view.loaded.graph, route) if self.view else ""

    def _on_export_requested(self, kind: str) -> None:
        dest = ask_export_path(self, self._title(), kind)
        if dest:
            self.export(dest)

    def export(self, dest: str | Path) -> None:
        """Write the graph as shown to ``dest`` (.png or .svg)."""
        export_scene(self.scene, dest, self._title())
        self.status_bar.show_message(f"Exported {dest}")

    def _title(self) -> str:
        return self.state.history.current.ref.title if self.state.history.current else "graph"

    def visible_scene_rect(self) -> QRectF:
        return self.canvas.visible_scene_rect()


if __name__ == "__main__":
    from smlens.gui.base.preview import preview

    preview(GraphPanel)
