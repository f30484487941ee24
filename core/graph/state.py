"""What the graph view shows, apart from the widgets that show it: the place and its history,
the open scopes, the selection, search matches and the trace, and the view kept per graph.

After napari's ``components/dims.py``: the state owns the values and tells observers when
one changes (plain callbacks, no Qt), and the panel only observes it and writes back through
it, so a test drives expansion, selection and Back without a window. TensorBoard keeps graph
expansion in a render-state object apart from the scene for the same reason.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smlens.core.graph.nav import GraphRef, History, LoadedGraph, Place, TraceView, ViewLayout
from smlens.core.graph.scopes import (
    default_expanded,
    expand_all,
    reveal,
    scope_id,
)

KEPT_GRAPHS = 6  # built graphs kept for Back and Forward


class Event:
    """One kind of change: callbacks connected to it are called with the new value."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[Any], None]] = []

    def connect(self, callback: Callable[[Any], None]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[Any], None]) -> None:
        self._callbacks.remove(callback)

    def emit(self, value: Any = None) -> None:
        for callback in list(self._callbacks):
            callback(value)


@dataclass
class GraphEvents:
    place: Event = field(default_factory=Event)  # Place | None: a graph to build or show
    loaded: Event = field(default_factory=Event)  # LoadedGraph: built, to be laid out
    layout_requested: Event = field(default_factory=Event)  # LayoutRequest
    view: Event = field(default_factory=Event)  # ViewLayout | None: the layout now shown
    selected: Event = field(default_factory=Event)  # str | None
    matches: Event = field(default_factory=Event)  # list[str]
    trace: Event = field(default_factory=Event)  # TraceView | None


@dataclass(frozen=True)
class LayoutRequest:
    """A layout to compute, and what to do with the viewport once it is shown."""

    loaded: LoadedGraph
    expanded: frozenset[str]
    anchor: str | None = None  # keep this item where it is on screen
    fit: bool = False  # fit the result to the view
    focus: str | None = None  # select this node and centre it
    restore: SavedView | None = None  # the view as it was left (Back, Forward)
    first: bool = False  # a graph's first layout: nav.lay_out_first may shut deep levels


@dataclass(frozen=True)
class SavedView:
    """How a graph was left: its open scopes, selection and the viewport (opaque here)."""

    expanded: frozenset[str]
    selected: str | None
    viewport: Any = None


def graph_key(ref: GraphRef) -> tuple[str, str]:
    return ref.tag_set, ref.function


class GraphState:
    """The graph view's state; every change goes through a method that emits its event."""

    def __init__(self) -> None:
        self.events = GraphEvents()
        self.history = History()
        self.view: ViewLayout | None = None
        self.selected: str | None = None  # node name, or scope path + "/"
        self.matches: list[str] = []
        self.trace: TraceView | None = None
        self.fold = True  # weights drawn inside their consumers
        self.pending: LayoutRequest | None = None  # asked for, not shown yet
        self.answered: LayoutRequest | None = None  # the request the view shown answers
        self._graphs: OrderedDict[tuple[str, str], LoadedGraph] = OrderedDict()
        self._saved: dict[tuple[str, str], SavedView] = {}

    # -- the graph shown -----------------------------------------------------------------

    @property
    def place(self) -> Place | None:
        return self.history.current

    @property
    def loaded(self) -> LoadedGraph | None:
        return self.view.loaded if self.view else None

    @property
    def expanded(self) -> frozenset[str]:
        """The scopes open in the layout shown (a requested layout counts once shown)."""
        return self.view.expanded if self.view else frozenset()

    def reset(self) -> None:
        """A new model: forget every graph, view and place."""
        dropped = [*self._graphs.values(), *([self.view.loaded] if self.view else [])]
        self._graphs.clear()
        self._saved.clear()
        self.history.clear()
        self.pending = self.answered = None
        self.view = None
        self._set_marks(None, [], None)
        self.events.view.emit(None)
        self.events.place.emit(None)
        self._release(dropped)

    def _release(self, dropped: list[LoadedGraph]) -> None:
        """Break the cycles of forgotten graphs (Hierarchy.release), save the one shown."""
        shown = self.view.loaded if self.view else None
        for loaded in {id(g): g for g in dropped if g is not shown}.values():
            loaded.hierarchy.release()

    def set_fold(self, fold: bool) -> None:
        """Fold weights into their consumers or show every node: rebuilds the graph shown."""
        if fold == self.fold:
            return
        self.fold = fold
        self.remember()
        self._graphs.clear()
        self.view = None
        if self.history.current is not None:
            self._arrive()

    def cached(self, ref: GraphRef) -> LoadedGraph | None:
        return self._graphs.get(graph_key(ref))

    def visit(self, place: Place, viewport: Any = None) -> None:
        """Go to ``place``; ``viewport`` is how the graph being left was shown."""
        self.remember(viewport)
        self.history.visit(place)
        self._arrive()

    def back(self, viewport: Any = None) -> None:
        self.remember(viewport)
        if self.history.back() is not None:
            self._arrive()

    def forward(self, viewport: Any = None) -> None:
        self.remember(viewport)
        if self.history.forward() is not None:
            self._arrive()

    def remember(self, viewport: Any = None) -> None:
        """Keep how the graph shown now is left, for coming back to it."""
        if self.view is not None:
            key = graph_key(self.view.loaded.ref)
            self._saved[key] = SavedView(self.view.expanded, self.selected, viewport)

    def saved(self, ref: GraphRef) -> SavedView | None:
        return self._saved.get(graph_key(ref))

    def _arrive(self) -> None:
        self._set_marks(None, [], None)
        place = self.history.current
        self.events.place.emit(place)
        loaded = self.cached(place.ref) if place else None
        if loaded is not None:
            self._graphs.move_to_end(graph_key(place.ref))
            self.graph_loaded(loaded)

    def graph_loaded(self, loaded: LoadedGraph) -> None:
        """A graph was built (or found built): lay it out as it was left, or as it opens."""
        self._graphs[graph_key(loaded.ref)] = loaded
        while len(self._graphs) > KEPT_GRAPHS:
            _, old = self._graphs.popitem(last=False)
            self._release([old])
        self.events.loaded.emit(loaded)
        saved = self.saved(loaded.ref)
        if saved is not None:
            self.request_layout(loaded, saved.expanded, restore=saved)
        else:
            expanded = default_expanded(loaded.hierarchy, closed=loaded.plumbing)
            self.request_layout(loaded, expanded, fit=True, first=True)

    # -- layouts -------------------------------------------------------------------------

    def request_layout(self, loaded: LoadedGraph, expanded, **options) -> LayoutRequest:
        self.pending = LayoutRequest(loaded, frozenset(expanded), **options)
        self.events.layout_requested.emit(self.pending)
        return self.pending

    def layout_done(self, view: ViewLayout) -> LayoutRequest | None:
        """The newest requested layout is ready: it is what is shown from now on. Returns
        the request it answers (None when it answers none, e.g. a stale one)."""
        request = self.pending
        if request is None or request.loaded is not view.loaded:
            return None
        self.pending = None
        self.answered = request
        first = self.view is None or self.view.loaded is not view.loaded
        self.view = view
        if first and request.restore is not None:
            self.selected = request.restore.selected
        self.events.view.emit(view)
        return request

    def expand(self, path: str) -> None:
        if self.view is not None and path not in self.view.expanded:
            self.request_layout(self.view.loaded, self.expanded | {path}, anchor=scope_id(path))

    def collapse(self, path: str) -> None:
        if self.view is not None and path in self.view.expanded:
            self.request_layout(self.view.loaded, self.expanded - {path}, anchor=scope_id(path))

    def expand_all(self) -> None:
        if self.view is not None:
            self.request_layout(self.view.loaded, expand_all(self.view.loaded.hierarchy), fit=True)

    def collapse_all(self) -> None:
        if self.view is not None:
            self.request_layout(self.view.loaded, frozenset(), fit=True)

    def reveal(self, node: str) -> bool:
        """Open the scopes holding ``node`` and select it; False for an unknown node."""
        if self.view is None or node not in self.view.loaded.graph.index:
            return False
        loaded = self.view.loaded
        wanted = reveal(loaded.hierarchy, loaded.graph, set(self.expanded), node)
        if wanted == self.expanded:
            self.select(node)
        else:
            self.request_layout(loaded, wanted, focus=node)
        return True

    # -- marks ---------------------------------------------------------------------------

    def select(self, name: str | None) -> None:
        self.selected = name
        self.events.selected.emit(name)

    def set_matches(self, names: list[str]) -> None:
        self.matches = list(names)
        self.events.matches.emit(self.matches)

    def set_trace(self, trace: TraceView | None) -> None:
        self.trace = trace
        self.events.trace.emit(trace)

    def _set_marks(self, selected, matches, trace) -> None:
        if self.selected is not None or selected is not None:
            self.select(selected)
        self.selected = selected
        if self.matches or matches:
            self.set_matches(matches)
        if self.trace is not None or trace is not None:
            self.set_trace(trace)
