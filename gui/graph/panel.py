"""The graph panel: open a main graph or function, walk into callees, expand scopes, search,
trace, inspect nodes and reach a variable's values.

Building a graph and laying it out run on the thread pool (gui/tasks.py); a newer request
replaces an older one. What is expanded, selected and where the view was are kept per graph,
so Back returns to the same picture.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from functools import partial
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QSizePolicy,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from smlens.core.graph.nav import (
    GraphRef,
    History,
    LoadedGraph,
    Place,
    TraceView,
    ViewLayout,
    function_place,
    lay_out,
    load_graph,
    primary_callee,
    resolve_name,
    shown_item,
    signature_place,
    trace_view,
    unwrap,
)
from smlens.core.graph.query import search_nodes
from smlens.core.graph.scopes import default_expanded, expand_all, reveal, scope_id
from smlens.core.model import Model
from smlens.core.tasks import Cancelled
from smlens.gui.base.panel import Panel
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.base.theme import current
from smlens.gui.graph.canvas import GraphCanvas
from smlens.gui.graph.export import export_png, export_svg
from smlens.gui.graph.inspector import GraphInspector
from smlens.gui.graph.scene import GraphScene
from smlens.gui.graph.style import NodeMetrics, tensor_text, variable_texts
from smlens.gui.tensor.view import TensorView

KEPT_GRAPHS = 6  # built graphs kept for Back and Forward
SHOWN_MATCHES = 2000
SEARCH_DELAY_MS = 250
SEARCH_FIELDS = {
    "name, op, attr": ("name", "op", "attr"),
    "name": ("name",),
    "op": ("op",),
    "attr": ("attr",),
}


def _key(ref: GraphRef) -> tuple[str, str]:
    return ref.tag_set, ref.function


class GraphPanel(Panel):
    """Every NodeDef of a main graph or function, with scopes as boxes."""

    title = "Graph"
    part = "graph"

    variable_selected = Signal(str)  # checkpoint key: show it in the variables panel
    layout_applied = Signal()  # the scene shows the newest layout
    search_finished = Signal(int)  # number of matches
    trace_finished = Signal(int)  # number of nodes traced

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.metrics = NodeMetrics(self.font())
        self.history = History()
        self.view: ViewLayout | None = None
        self.selected: str | None = None  # node name, or scope path + "/"
        self.matches: list[str] = []
        self.trace: TraceView | None = None
        self._graphs: OrderedDict[tuple[str, str], LoadedGraph] = OrderedDict()
        self._states: dict[tuple[str, str], dict] = {}
        self._texts: dict[tuple[str, str], dict] = {}
        self._pending: dict = {}
        self._pending_name: str | None = None
        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._on_task_finished)
        self._runner.failed.connect(self._on_task_failed)
        self._runner.progressed.connect(self._on_task_progressed)
        self._runner.busy_changed.connect(self._on_busy_changed)
        self._search_runner = TaskRunner(self)
        self._search_runner.finished.connect(self._on_search_finished)
        self._search_runner.failed.connect(self._on_search_failed)
        self._trace_runner = TaskRunner(self)
        self._trace_runner.finished.connect(self._on_trace_finished)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.run_search)
        self._build()
        self._update_nav()

    # -- building ------------------------------------------------------------------------

    def _build(self) -> None:
        self.scene = GraphScene(self.metrics, self)
        self.scene.label_text = self._edge_label
        self.canvas = GraphCanvas(self.scene)
        self.canvas.setMinimumWidth(40)
        self.canvas.item_clicked.connect(self._on_item_clicked)
        self.canvas.item_double_clicked.connect(self._on_item_double_clicked)
        self.canvas.context_requested.connect(self._on_context_requested)
        self.canvas.zoom_changed.connect(self._on_zoom_changed)

        self.inspector = GraphInspector()
        self.inspector.node_activated.connect(self.jump_to)
        self.inspector.function_requested.connect(self._on_function_requested)
        self.inspector.values_requested.connect(self.show_values)
        self.inspector.variable_requested.connect(self._on_variable_requested)
        self.inspector.trace_requested.connect(self.trace_selected)
        self.inspector.setMinimumWidth(100)
        self.tensor_view = TensorView()
        self.tensor_view.hide()
        self.match_list = QListWidget()
        self.match_list.setUniformItemSizes(True)
        self.match_list.itemActivated.connect(self._on_match_activated)
        self.match_list.itemClicked.connect(self._on_match_activated)
        self.match_list.hide()

        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.match_list)
        side.addWidget(self.inspector)
        side.addWidget(self.tensor_view)
        side.setStretchFactor(1, 1)
        side.setStretchFactor(2, 2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([900, 330])

        self.placeholder = QLabel("Open a signature, a function or the main graph.")
        self.placeholder.setProperty("role", "muted")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self._build_nav_bar())
        layout.addWidget(self._build_search_bar())
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.placeholder, 1)
        layout.addLayout(self._build_status())
        self.splitter.hide()

    def _tool(self, text: str, tip: str, slot, shortcut: str | None = None) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip + (f" ({shortcut})" if shortcut else ""))
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        if shortcut:
            action = QAction(self)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
        return button

    def _build_nav_bar(self) -> QToolBar:
        self.back_button = self._tool("◀", "Back", self.go_back, "Alt+Left")
        self.forward_button = self._tool("▶", "Forward", self.go_forward, "Alt+Right")
        self.crumbs = QHBoxLayout()
        self.crumbs.setSpacing(0)
        self.open_combo = QComboBox()
        self.open_combo.setEditable(True)
        self.open_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.open_combo.setMinimumContentsLength(14)
        self.open_combo.setMinimumWidth(90)  # narrow docks: the panel must not widen the window
        self.open_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.open_combo.lineEdit().setPlaceholderText("Open a graph…")
        self.open_combo.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.open_combo.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.open_combo.activated.connect(self._on_open_activated)
        self.fit_button = self._tool("Fit", "Fit the graph to the view", self.canvas.fit_all, "F")
        self.expand_button = self._tool("Expand", "Open every name scope", self.expand_all)
        self.collapse_button = self._tool("Collapse", "Close every name scope", self.collapse_all)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setAutoRaise(True)
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("PNG image…").setData("png")
        menu.addAction("SVG drawing…").setData("svg")
        menu.triggered.connect(self._on_export_triggered)
        self.export_button.setMenu(menu)
        crumbs = QWidget()
        crumbs.setLayout(self.crumbs)
        self.crumbs.setContentsMargins(6, 0, 6, 0)
        bar = _tool_bar()
        for w in (self.back_button, self.forward_button, crumbs, _spacer(), self.open_combo):
            bar.addWidget(w)
        return bar

    def _build_search_bar(self) -> QToolBar:
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search name, op or attr (regex)")
        self.search_edit.setMinimumWidth(60)
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self._on_search_text_changed)
        self.search_edit.returnPressed.connect(self._on_search_return)
        self.search_fields = QComboBox()
        self.search_fields.addItems(list(SEARCH_FIELDS))
        self.search_fields.setMinimumWidth(60)
        self.search_fields.currentIndexChanged.connect(self._on_search_text_changed)
        self.match_label = QLabel()
        self.match_label.setProperty("role", "muted")
        self.clear_trace_button = self._tool(
            "Clear trace", "Stop highlighting the trace", self.clear_trace, "Esc"
        )
        # Tool bars, not rows: a narrow dock folds their ends into a » menu instead of
        # widening the window.
        bar = _tool_bar()
        bar.addWidget(self.search_edit)
        bar.addWidget(self.search_fields)
        bar.addWidget(self.match_label)
        self._clear_trace_action = bar.addWidget(self.clear_trace_button)
        self._clear_trace_action.setVisible(False)
        for w in (self.fit_button, self.expand_button, self.collapse_button, self.export_button):
            bar.addWidget(w)
        return bar

    def _build_status(self) -> QHBoxLayout:
        self.status_label = QLabel()
        self.status_label.setProperty("role", "muted")
        self.zoom_label = QLabel()
        self.zoom_label.setProperty("role", "muted")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(140)
        self.progress.setMaximumHeight(12)
        self.progress.setTextVisible(False)
        self.progress.hide()
        row = QHBoxLayout()
        row.addWidget(self.status_label, 1)
        row.addWidget(self.progress)
        row.addWidget(self.zoom_label)
        return row

    # -- the model -----------------------------------------------------------------------

    def show_model(self, model: Model | None) -> None:
        self._runner.cancel()
        self._search_runner.cancel()
        self._trace_runner.cancel()
        self._graphs.clear()
        self._states.clear()
        self._texts.clear()
        self.history.clear()
        self.view, self.selected, self.trace, self.matches = None, None, None, []
        self.scene.show_layout(None)
        self.inspector.clear()
        self.tensor_view.clear()
        self.tensor_view.hide()
        self.match_list.clear()
        self.match_list.hide()
        self.tensor_view.set_protected_folder(model.path if model else None)
        self._fill_open_combo(model)
        self._show_canvas(False)
        self.status_label.setText("")
        self._update_nav()
        if model is None:
            return
        name, self._pending_name = self._pending_name, None
        if name is not None:
            try:
                self.open_name(name)
            except KeyError as e:
                self.status_label.setText(str(e.args[0]))
        elif self.isVisible():
            self.open_default()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.model is not None and self.history.current is None and not self._runner.busy:
            self.open_default()

    def _fill_open_combo(self, model: Model | None) -> None:
        combo = self.open_combo
        combo.clear()
        self._open_places: list[Place] = []
        for mg in model.meta_graphs if model else []:
            tags = mg.tag_set or "no tags"
            self._add_open(f"main graph [{tags}]", Place((GraphRef(mg.tag_set),)))
            for key in sorted(mg.signatures):
                if key != "__saved_model_init_op":
                    self._add_open(f"signature {key} [{tags}]", partial(signature_place, mg, key))
            for name in sorted(mg.functions):
                self._add_open(name, Place((GraphRef(mg.tag_set, name),)))
        combo.setCurrentIndex(-1)

    def _add_open(self, text: str, place) -> None:
        self.open_combo.addItem(text)
        self._open_places.append(place)

    def open_default(self) -> None:
        """The serving signature if there is one, else the first signature, else the main graph."""
        model = self.model
        if model is None or not model.meta_graphs:
            return
        for mg in model.meta_graphs:
            keys = [k for k in mg.signatures if k != "__saved_model_init_op"]
            key = "serving_default" if "serving_default" in keys else (keys[0] if keys else None)
            if key is not None:
                try:
                    self.open_place(signature_place(mg, key))
                    return
                except KeyError:
                    continue
        self.open_place(Place((GraphRef(model.meta_graphs[0].tag_set),)))

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

    def open_place(self, place: Place) -> None:
        self._remember_state()
        self.history.visit(place)
        self._show_place(place)

    def go_back(self) -> None:
        self._remember_state()
        place = self.history.back()
        if place is not None:
            self._show_place(place)

    def go_forward(self) -> None:
        self._remember_state()
        place = self.history.forward()
        if place is not None:
            self._show_place(place)

    def open_callee(self, function: str) -> None:
        """Walk into ``function`` from the graph shown (a call node's callee)."""
        current = self.history.current
        if current is None or self.model is None:
            return
        mg = self.model.meta_graph(current.ref.tag_set)
        inner = unwrap(mg, GraphRef(current.ref.tag_set, function))
        place = current
        for ref in inner.trail:
            place = place.into(ref)
        self.open_place(place)

    def _show_place(self, place: Place) -> None:
        self._update_nav()
        ref = place.ref
        self.selected, self.trace, self.matches = None, None, []
        self.inspector.clear()
        self._clear_trace_action.setVisible(False)
        loaded = self._graphs.get(_key(ref))
        if loaded is not None:
            self._graphs.move_to_end(_key(ref))
            self._lay_out_current(loaded)
            return
        mg = self.model.meta_graph(ref.tag_set)
        self.status_label.setText(f"Building {ref.title}…")
        self._runner.start(load_graph, self.model, mg, ref)

    def _lay_out_current(self, loaded: LoadedGraph) -> None:
        state = self._states.get(_key(loaded.ref), {})
        expanded = state.get("expanded")
        if expanded is None:
            expanded = default_expanded(loaded.hierarchy)
        self._request_layout(loaded, set(expanded), restore=state)

    def _request_layout(self, loaded: LoadedGraph, expanded: set[str], **pending) -> None:
        self._pending = pending
        texts = self._texts_for(loaded)
        sizer = self.metrics.sizer(loaded.graph, loaded.hierarchy, texts)
        self._runner.start(lay_out, loaded, expanded, sizer)

    # -- task results --------------------------------------------------------------------

    def _texts_for(self, loaded: LoadedGraph) -> dict[str, tuple[str, str]]:
        key = _key(loaded.ref)
        if key not in self._texts:
            self._texts[key] = variable_texts(loaded.graph, self.model)
        return self._texts[key]

    def _on_task_finished(self, result) -> None:
        if isinstance(result, LoadedGraph):
            self._graphs[_key(result.ref)] = result
            while len(self._graphs) > KEPT_GRAPHS:
                self._graphs.popitem(last=False)
            self._lay_out_current(result)
        elif isinstance(result, ViewLayout):
            self._apply_layout(result)

    def _on_task_failed(self, error: Exception) -> None:
        if isinstance(error, Cancelled):
            return
        self.status_label.setText(f"Could not show the graph: {type(error).__name__}: {error}")

    def _on_task_progressed(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 100))

    def _on_busy_changed(self, busy: bool) -> None:
        self.progress.setVisible(busy)

    @property
    def busy(self) -> bool:
        return self._runner.busy or self._search_runner.busy or self._trace_runner.busy

    def _apply_layout(self, view: ViewLayout) -> None:
        pending, self._pending = self._pending, {}
        anchor = pending.get("anchor")
        before = self._viewport_pos(anchor) if anchor else None
        first = self.view is None or _key(self.view.loaded.ref) != _key(view.loaded.ref)
        self.view = view
        self.scene.show_layout(view, self._texts_for(view.loaded))
        self._show_canvas(True)
        restore = pending.get("restore") or {}
        if first:
            self.selected = restore.get("selected")
            if restore.get("view"):
                self.canvas.restore_state(restore["view"])
            else:
                self.canvas.fit_readable()
        elif pending.get("fit"):
            self.canvas.fit_readable()
        elif before is not None:
            self._keep_at(anchor, before)
        self._refresh_marks()
        focus = pending.get("focus")
        if focus:
            self.select(focus, center=True)
        elif self.selected:
            self.select(self.selected, center=False)
        self.canvas.minimap.refresh()
        self._update_status()
        self.layout_applied.emit()

    def _viewport_pos(self, item_id: str) -> QPointF | None:
        rect = self.scene.rect_of(item_id)
        return None if rect is None else QPointF(self.canvas.mapFromScene(rect.topLeft()))

    def _keep_at(self, item_id: str, before: QPointF) -> None:
        """Scroll so that ``item_id`` stays where it was on screen."""
        after = self._viewport_pos(item_id)
        if after is None:
            return
        delta = after - before
        h, v = self.canvas.horizontalScrollBar(), self.canvas.verticalScrollBar()
        h.setValue(h.value() + round(delta.x()))
        v.setValue(v.value() + round(delta.y()))

    def _show_canvas(self, shown: bool) -> None:
        self.splitter.setVisible(shown)
        self.placeholder.setVisible(not shown)

    def _update_status(self) -> None:
        view = self.view
        if view is None:
            return
        g = view.loaded.graph
        shown = len(self.scene.items)
        ops = sum(1 for n in g.nodes if n.kind == "op")
        self.status_label.setText(
            f"{ops:,} ops · {len(g.edges):,} edges · {len(view.loaded.hierarchy.scopes) - 1:,} "
            f"scopes · {shown:,} items shown"
            + (f" · {len(g.problems)} problems" if g.problems else "")
        )

    # -- scopes --------------------------------------------------------------------------

    @property
    def expanded(self) -> set[str]:
        return set(self.view.expanded) if self.view else set()

    def expand(self, path: str) -> None:
        if self.view is not None and path not in self.view.expanded:
            self._request_layout(self.view.loaded, self.expanded | {path}, anchor=scope_id(path))

    def collapse(self, path: str) -> None:
        if self.view is not None and path in self.view.expanded:
            self._request_layout(self.view.loaded, self.expanded - {path}, anchor=scope_id(path))

    def expand_all(self) -> None:
        if self.view is not None:
            self._request_layout(self.view.loaded, expand_all(self.view.loaded.hierarchy), fit=True)

    def collapse_all(self) -> None:
        if self.view is not None:
            self._request_layout(self.view.loaded, set(), fit=True)

    # -- selection -----------------------------------------------------------------------

    def shown_id(self, node: str) -> str | None:
        """The id of the shown item holding ``node`` (itself or a collapsed scope)."""
        if self.view is None or node not in self.view.loaded.graph.index:
            return node if self.view and node in self.scene.index else None
        return shown_item(self.view.loaded, self.view.expanded, self.view.loaded.graph.index[node])

    def select(self, name: str | None, center: bool = False) -> None:
        """Select a node (by name) or a scope (by its id, "path/"), and show it inspected."""
        self.selected = name
        if not name or self.view is None:
            self.scene.set_selected(None)
            self.inspector.clear()
            return
        loaded = self.view.loaded
        shown = self.shown_id(name) if not name.endswith("/") else name
        self.scene.set_selected(shown)
        if name.endswith("/"):
            self.inspector.show_scope(loaded.graph, loaded.hierarchy, name[:-1])
        elif name in loaded.graph.index:
            self.inspector.show_node(loaded.graph, name, self.model)
        if center and shown:
            self.canvas.center_on_item(shown)

    def jump_to(self, node: str) -> None:
        """Show ``node``: open the scopes holding it, centre it and select it."""
        if self.view is None or node not in self.view.loaded.graph.index:
            return
        loaded = self.view.loaded
        wanted = reveal(loaded.hierarchy, loaded.graph, self.expanded, node)
        if wanted == self.expanded:
            self.select(node, center=True)
        else:
            self._request_layout(loaded, wanted, focus=node)

    # -- search and trace ----------------------------------------------------------------

    def _on_search_text_changed(self, *_args) -> None:
        self._search_timer.start()

    def _on_search_return(self) -> None:
        self._search_timer.stop()
        if self.matches and self.search_edit.text() == getattr(self, "_searched", None):
            self._step_match()
        else:
            self.run_search()

    def run_search(self) -> None:
        self._search_timer.stop()
        text = self.search_edit.text().strip()
        self._searched = self.search_edit.text()
        if not text or self.view is None:
            self._show_matches([])
            return
        try:
            re.compile(text)
        except re.error as e:
            self.match_label.setText(f"bad regex: {e.msg}")
            self.match_label.setStyleSheet(f"color: {current().error_border}")
            return
        fields = SEARCH_FIELDS[self.search_fields.currentText()]
        self._search_runner.start(search_nodes, self.view.loaded.graph, text, fields)

    def _on_search_finished(self, names: list[str]) -> None:
        self._show_matches(names)

    def _on_search_failed(self, error: Exception) -> None:
        if not isinstance(error, Cancelled):
            self.match_label.setText(f"search failed: {error}")

    def _show_matches(self, names: list[str]) -> None:
        self.match_label.setStyleSheet("")
        self.matches = names
        self._match_step = -1
        self.match_list.clear()
        graph = self.view.loaded.graph if self.view else None
        for name in names[:SHOWN_MATCHES]:
            item = QListWidgetItem(f"{name}   ·  {graph.node(name).op}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(name)
            self.match_list.addItem(item)
        self.match_list.setVisible(bool(self.search_edit.text().strip()))
        shown = f" (first {SHOWN_MATCHES:,} listed)" if len(names) > SHOWN_MATCHES else ""
        self.match_label.setText(
            f"{len(names):,} matches{shown}" if self.search_edit.text() else ""
        )
        self._refresh_marks()
        self.search_finished.emit(len(names))

    def _step_match(self) -> None:
        if self.matches:
            self._match_step = (self._match_step + 1) % min(len(self.matches), SHOWN_MATCHES)
            self.match_list.setCurrentRow(self._match_step)
            self.jump_to(self.matches[self._match_step])

    def _on_match_activated(self, item: QListWidgetItem) -> None:
        self.jump_to(item.data(Qt.ItemDataRole.UserRole))

    def trace_selected(self, direction: str) -> None:
        node = self.selected
        if self.view is None or not node or node not in self.view.loaded.graph.index:
            return
        self._trace_runner.start(trace_view, self.view.loaded, self.view.expanded, node, direction)

    def _on_trace_finished(self, result: TraceView) -> None:
        self.trace = result
        self._clear_trace_action.setVisible(True)
        self.scene.set_traced(result.items, result.pairs)
        what = "inputs" if result.direction == "inputs" else "outputs"
        self.match_label.setText(
            f"{len(result.nodes):,} {what} of {result.origin.rsplit('/', 1)[-1]}"
        )
        self.trace_finished.emit(len(result.nodes))

    def clear_trace(self) -> None:
        self.trace = None
        self._clear_trace_action.setVisible(False)
        self.scene.set_traced(set(), set())

    def _refresh_marks(self) -> None:
        """Search matches and the trace mapped onto what is shown now."""
        if self.view is None:
            return
        graph = self.view.loaded.graph
        shown = {self.shown_id(n) for n in self.matches[:SHOWN_MATCHES] if n in graph.index}
        self.scene.set_matches({s for s in shown if s})
        if self.trace is not None:
            t = self.trace
            self._trace_runner.start(
                trace_view, self.view.loaded, self.view.expanded, t.origin, t.direction
            )
        else:
            self.scene.set_traced(set(), set())

    # -- values --------------------------------------------------------------------------

    def show_values(self) -> None:
        """Open the selected variable's (or big Const's) values in the tensor viewer."""
        var, d = self.inspector.variable, self.inspector.details
        checkpoint = getattr(self.model, "checkpoint", None)
        if var is not None and checkpoint is not None:
            self.tensor_view.show()
            self.tensor_view.show_tensor(var.name, partial(checkpoint.read, var.key))
        elif d is not None and d.value is not None:
            self.tensor_view.show()
            self.tensor_view.show_tensor(d.name, d.value.tensor.numpy)

    def _on_variable_requested(self, key: str) -> None:
        self.variable_selected.emit(key)

    def _on_function_requested(self, name: str) -> None:
        self.open_callee(name)

    # -- canvas events -------------------------------------------------------------------

    def _on_item_clicked(self, item_id: str, pos: QPointF) -> None:
        item = self.scene.item(item_id)
        if item is None:
            self.select(None)
            return
        if item.kind == "expanded" and self.scene.on_header(item_id, pos):
            rect = self.scene.rect_of(item_id)
            if pos.x() < rect.x() + 28:  # the ▾ mark
                self.collapse(item.name)
                return
        if item.kind == "scope":
            rect = self.scene.rect_of(item_id)
            if pos.x() < rect.x() + 24:  # the ▸ mark
                self.expand(item.name)
                return
        if item.kind in ("in", "out"):
            return
        self.select(item.id if item.kind in ("scope", "expanded") else item.name)

    def _on_item_double_clicked(self, item_id: str, pos: QPointF) -> None:
        item = self.scene.item(item_id)
        if item is None:
            self.canvas.fit_all()
            return
        if item.kind == "scope":
            self.expand(item.name)
        elif item.kind == "expanded" and self.scene.on_header(item_id, pos):
            self.collapse(item.name)
        elif item.kind == "op":
            callee = primary_callee(self.view.loaded.graph, item.name)
            if callee:
                self.open_callee(callee)

    def _on_context_requested(self, item_id: str, pos: QPointF, global_pos) -> None:
        menu = self._context_menu(self.scene.item(item_id))
        if menu is not None:
            menu.triggered.connect(self._on_context_triggered)
            menu.exec(global_pos)
            menu.deleteLater()

    def _context_menu(self, item) -> QMenu | None:
        menu = QMenu(self)
        if item is None:
            for text, data in (("Fit to view", ("fit",)), ("Expand all", ("expand_all",))):
                menu.addAction(text).setData(data)
            menu.addAction("Collapse all").setData(("collapse_all",))
            return menu
        if item.kind == "scope":
            menu.addAction("Expand").setData(("expand", item.name))
        if item.kind == "expanded":
            menu.addAction("Collapse").setData(("collapse", item.name))
        if item.kind in ("op", "arg", "ret"):
            self.select(item.name)
            menu.addAction("Trace inputs").setData(("trace", "inputs"))
            menu.addAction("Trace outputs").setData(("trace", "outputs"))
            for c in self.view.loaded.graph.node(item.name).callees:
                menu.addAction(f"Open {c.attr or 'function'}: {c.function}").setData(
                    ("open", c.function)
                )
        menu.addAction("Copy name").setData(("copy", item.name))
        return menu

    def _on_context_triggered(self, action: QAction) -> None:
        data = action.data() or ()
        verb, arg = (data[0], data[1] if len(data) > 1 else None) if data else ("", None)
        if verb == "fit":
            self.canvas.fit_all()
        elif verb == "expand_all":
            self.expand_all()
        elif verb == "collapse_all":
            self.collapse_all()
        elif verb == "expand":
            self.expand(arg)
        elif verb == "collapse":
            self.collapse(arg)
        elif verb == "trace":
            self.trace_selected(arg)
        elif verb == "open":
            self.open_callee(arg)
        elif verb == "copy":
            QGuiApplication.clipboard().setText(arg)

    def _on_zoom_changed(self, scale: float) -> None:
        self.zoom_label.setText(f"{scale * 100:.0f} %")

    # -- navigation bar ------------------------------------------------------------------

    def _update_nav(self) -> None:
        self.back_button.setEnabled(bool(self.history.back_stack))
        self.forward_button.setEnabled(bool(self.history.forward_stack))
        while self.crumbs.count():
            widget = self.crumbs.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        place = self.history.current
        if place is None:
            return
        for k, ref in enumerate(place.trail):
            if k:
                sep = QLabel(" ▸ ")
                sep.setProperty("role", "muted")
                self.crumbs.addWidget(sep)
            button = QToolButton()
            button.setAutoRaise(True)
            button.setText(_short(ref.title))
            button.setToolTip(ref.function or ref.title)
            button.setProperty("crumb", k)
            button.setMinimumWidth(28)  # clipped rather than widening the panel
            button.setEnabled(k < len(place.trail) - 1)
            if k == len(place.trail) - 1:
                font = button.font()
                font.setBold(True)
                button.setFont(font)
            button.clicked.connect(self._on_crumb_clicked)
            self.crumbs.addWidget(button)

    def breadcrumbs(self) -> list[str]:
        place = self.history.current
        return [ref.title for ref in place.trail] if place else []

    def _on_crumb_clicked(self) -> None:
        k = self.sender().property("crumb")
        place = self.history.current
        if place is not None and k is not None:
            self.open_place(Place(place.trail[: int(k) + 1]))

    def _on_open_activated(self, index: int) -> None:
        if not 0 <= index < len(getattr(self, "_open_places", [])):
            return
        place = self._open_places[index]
        self.open_place(place() if callable(place) else place)
        self.open_combo.setCurrentIndex(-1)

    def _remember_state(self) -> None:
        if self.view is None:
            return
        self._states[_key(self.view.loaded.ref)] = {
            "expanded": set(self.view.expanded),
            "selected": self.selected,
            "view": self.canvas.view_state(),
        }

    # -- labels and export ---------------------------------------------------------------

    def _edge_label(self, route) -> str:
        """An edge's dtype and shape when one tensor is behind it, else dtype and count."""
        if self.view is None or route.edge.control:
            return ""
        graph = self.view.loaded.graph
        e = route.edge
        src = graph.index.get(e.src)
        if src is not None:
            outputs = graph.outputs(src)
            ports = {
                graph.edges[k].src_output
                for k in graph.out_edges[src]
                if not graph.edges[k].control
            }
            if len(ports) == 1:
                k = ports.pop()
                if k < len(outputs):
                    text = tensor_text(outputs[k].dtype, outputs[k].shape)
                    return text if e.count == 1 else f"{e.count}x {text}"
        text = tensor_text(e.dtype, None)
        return f"{e.count}x {text}".strip() if e.count > 1 else text

    def _on_export_triggered(self, action: QAction) -> None:
        kind = action.data()
        title = self.history.current.ref.title if self.history.current else "graph"
        suggested = str(Path.home() / f"{_file_name(title)}.{kind}")
        dest, _ = QFileDialog.getSaveFileName(
            self, f"Export {kind.upper()}", suggested, f"*.{kind}"
        )
        if dest:
            self.export(dest)

    def export(self, dest: str | Path) -> None:
        """Write the graph as shown to ``dest`` (.png or .svg)."""
        title = self.history.current.ref.title if self.history.current else "graph"
        if str(dest).lower().endswith(".svg"):
            export_svg(self.scene, dest, title)
        else:
            export_png(self.scene, dest)
        self.status_label.setText(f"Exported {dest}")

    def visible_scene_rect(self) -> QRectF:
        return self.canvas.visible_scene_rect()


def _tool_bar() -> QToolBar:
    bar = QToolBar()
    bar.setMovable(False)
    bar.setFloatable(False)
    bar.setStyleSheet("QToolBar { border: none; padding: 0; spacing: 3px; }")
    return bar


def _spacer() -> QWidget:
    spacer = QWidget()
    spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    return spacer


def _short(text: str, limit: int = 36) -> str:
    return text if len(text) <= limit else text[: limit // 2 - 1] + "…" + text[-limit // 2 :]


def _file_name(title: str) -> str:
    return re.sub(r"[^\w.-]+", "_", title)[:80] or "graph"


if __name__ == "__main__":
    from smlens.gui.base.preview import preview

    preview(GraphPanel)
