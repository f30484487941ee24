"""Where the graph view goes: which graph a name opens, the trail that led there, and history.

Plain data for gui/graph/panel.py, tested without a window: a signature opens the function
its wrapper calls (TF2 exports wrap each signature in a lone StatefulPartitionedCall, which
is all Netron shows), with the wrapper kept in the trail so Back and the breadcrumbs reach it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smlens.core.formats.convert import node_count
from smlens.core.graph.build import OpGraph, build_graph, find_function_for_signature
from smlens.core.graph.calls import node_callees
from smlens.core.graph.fold import WeightRow, fold_weights, weight_rows
from smlens.core.graph.layout import Layout, LayoutCache, Size, default_size, layout_graph
from smlens.core.graph.scopes import Hierarchy, VisibleGraph, build_hierarchy, visible_graph
from smlens.core.graph.start import Starts, plumbing_scopes, start_nodes
from smlens.core.model import MetaGraph, Model, Variable
from smlens.core.model.text import tag_set_text
from smlens.core.tasks import CancelCheck, Progress, gc_paused

# A function made only of these around one call is a wrapper: opening it opens the callee.
_WRAPPER_OPS = frozenset({"Identity", "IdentityN", "NoOp", "Const"})
_CALL_OPS = frozenset({"PartitionedCall", "StatefulPartitionedCall"})
# Weight rows drawn inside one node at most: a TF1 ParseExample folds 40 constants, a node
# taller than the screen. The rest are counted in the last row; the inspector lists all.
DRAWN_ROWS = 10
# Which callee double-clicking a node opens when it has several: the loop body before cond.
_CALLEE_ORDER = ("f", "", "body", "then_branch", "branches", "else_branch", "cond")


@dataclass(frozen=True)
class GraphRef:
    """One graph to show: a meta graph's main graph (function "") or a library function."""

    tag_set: str
    function: str = ""
    label: str = ""  # how the trail names it: "serving_default"; defaults to the function

    @property
    def title(self) -> str:
        if self.label:
            return self.label
        return self.function or f"main graph {tag_set_text(self.tag_set)}"

    def same_graph(self, other: GraphRef) -> bool:
        return (self.tag_set, self.function) == (other.tag_set, other.function)


@dataclass(frozen=True)
class Place:
    """A graph and the trail of graphs that led to it, outermost first (the breadcrumbs)."""

    trail: tuple[GraphRef, ...]

    @property
    def ref(self) -> GraphRef:
        return self.trail[-1]

    def into(self, ref: GraphRef) -> Place:
        """The place one step deeper; a graph already on the trail cuts it back there."""
        for k, r in enumerate(self.trail):
            if r.same_graph(ref):
                return Place(self.trail[: k + 1])
        return Place((*self.trail, ref))


@dataclass
class History:
    """Back and forward over visited places, as a browser keeps them."""

    back_stack: list[Place] = field(default_factory=list)
    forward_stack: list[Place] = field(default_factory=list)
    current: Place | None = None

    def visit(self, place: Place) -> None:
        if self.current is not None and place == self.current:
            return
        if self.current is not None:
            self.back_stack.append(self.current)
        self.current = place
        self.forward_stack.clear()

    def back(self) -> Place | None:
        if not self.back_stack:
            return None
        self.forward_stack.append(self.current)
        self.current = self.back_stack.pop()
        return self.current

    def forward(self) -> Place | None:
        if not self.forward_stack:
            return None
        self.back_stack.append(self.current)
        self.current = self.forward_stack.pop()
        return self.current

    def clear(self) -> None:
        self.back_stack.clear()
        self.forward_stack.clear()
        self.current = None


# --- What a name opens --------------------------------------------------------------------


def wrapped_callee(meta_graph: MetaGraph, function: str) -> str | None:
    """The one function ``function`` calls when it is only a wrapper around that call."""
    fn = meta_graph.functions.get(function)
    if fn is None:
        return None
    calls = []
    for n in fn.nodes:  # stops at the second call: a real function can have 140,000 nodes
        if n.op not in _WRAPPER_OPS:
            calls.append(n)
            if len(calls) > 1:
                return None
    if len(calls) != 1 or calls[0].op not in _CALL_OPS:
        return None
    found = [c.function for c in node_callees(calls[0], meta_graph.functions) if c.attr == "f"]
    return found[0] if found and found[0] in meta_graph.functions else None


def unwrap(meta_graph: MetaGraph, ref: GraphRef) -> Place:
    """``ref`` and the functions its wrappers lead to, outermost first."""
    trail = [ref]
    seen = {ref.function}
    while trail[-1].function:
        inner = wrapped_callee(meta_graph, trail[-1].function)
        if inner is None or inner in seen:
            break
        seen.add(inner)
        trail.append(GraphRef(ref.tag_set, inner))
    return Place(tuple(trail))


def signature_place(meta_graph: MetaGraph, key: str) -> Place:
    """What a signature runs: its wrapper function and the function inside it (TF2), or
    the main graph (TF1 signatures read the main graph)."""
    function = find_function_for_signature(meta_graph, key)
    return unwrap(meta_graph, GraphRef(meta_graph.tag_set, function, key))


def function_place(meta_graph: MetaGraph, name: str) -> Place:
    """A library function by name; a wrapper opens what it wraps."""
    if name not in meta_graph.functions:
        raise KeyError(name)
    return unwrap(meta_graph, GraphRef(meta_graph.tag_set, name))


def _object_functions(meta_graph: MetaGraph) -> dict[str, str]:
    """Object-graph function paths ("serve", "model.call") -> their first concrete function."""
    og = meta_graph.object_graph
    found: dict[str, str] = {}
    if og is None:
        return found
    for node in og.nodes:
        if node.kind in ("function", "bare_concrete_function") and node.concrete_functions:
            found.setdefault(node.path, node.concrete_functions[0])
    return found


def default_place(model: Model) -> Place | None:
    """What the graph panel opens by itself: the serving signature if there is one, else
    the first signature, else the main graph; None for a model without graphs."""
    for mg in model.meta_graphs:
        keys = list(mg.callable_signatures)
        key = "serving_default" if "serving_default" in keys else (keys[0] if keys else None)
        if key is not None:
            try:
                return signature_place(mg, key)
            except KeyError:
                continue
    return Place((GraphRef(model.meta_graphs[0].tag_set),)) if model.meta_graphs else None


def place_size(model: Model, place: Place) -> int:
    """How many nodes the graph at ``place`` holds, counted without building it (nor
    converting a lazy main graph's nodes)."""
    mg = model.meta_graph(place.ref.tag_set)
    if place.ref.function:
        return len(mg.functions[place.ref.function].nodes)
    return node_count(mg.graph)


def resolve_name(model: Model, name: str) -> Place:
    """What ``--view graph:NAME`` opens: a signature key, a library function, an object-graph
    function path, or "main" (optionally "main:TAGS"); KeyError says what exists."""
    metas = model.meta_graphs
    if not metas:
        raise KeyError("the model holds no graph")
    if name in ("", "main") or name.startswith("main:"):
        tags = name.partition(":")[2]
        mg = model.meta_graph(tags) if tags else metas[0]
        return Place((GraphRef(mg.tag_set),))
    for mg in metas:
        if name in mg.signatures:
            return signature_place(mg, name)
    for mg in metas:
        if name in mg.functions:
            return function_place(mg, name)
    for mg in metas:
        concrete = _object_functions(mg).get(name)
        if concrete in mg.functions:
            return unwrap(mg, GraphRef(mg.tag_set, concrete, name))
    choices = [k for mg in metas for k in mg.signatures] + ["main"]
    raise KeyError(f"no signature, function or graph named {name!r}; try: {', '.join(choices)}")


def primary_callee(graph: OpGraph, node: str) -> str | None:
    """The function double-clicking ``node`` opens: a call's f, a loop's body, a then-branch."""
    callees = graph.node(node).callees
    if not callees:
        return None
    ranked = sorted(
        callees, key=lambda c: _CALLEE_ORDER.index(c.attr) if c.attr in _CALLEE_ORDER else 99
    )
    return ranked[0].function


# --- Loading and laying out, off the UI thread --------------------------------------------


@dataclass
class LoadedGraph:
    """An op graph with its scope tree, and the box layouts solved so far for it."""

    ref: GraphRef
    graph: OpGraph
    hierarchy: Hierarchy
    cache: LayoutCache = field(default_factory=LayoutCache, repr=False)
    op_count: int = 0  # NodeDefs, args and rets left out: counted by the loader
    variables: dict[str, Variable] = field(default_factory=dict, repr=False)  # by key
    starts: Starts = field(default_factory=Starts)  # where its dataflow starts: the first screen
    plumbing: frozenset[str] = frozenset()  # scopes a first screen keeps shut (plumbing_scopes)
    _rows: dict[int, list[WeightRow]] = field(default_factory=dict, repr=False)
    _drawn: dict[str, list[WeightRow]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.op_count:
            self.op_count = sum(1 for n in self.graph.nodes if n.kind == "op")

    def rows(self, node: str) -> list[WeightRow]:
        """The weight rows drawn inside ``node`` (made when first asked: the sizer asks
        for shown nodes only)."""
        i = self.graph.index.get(node)
        if i is None or i not in self.hierarchy.folding.weights:
            return []
        found = self._rows.get(i)
        if found is None:
            found = self._rows[i] = weight_rows(
                self.graph, self.hierarchy.folding, i, self.variables
            )
        return found

    def drawn_rows(self, node: str) -> list[WeightRow]:
        """The rows drawn inside ``node``: all of them up to DRAWN_ROWS; past that the
        variables first, and a last row counting the rest (a click on it selects ``node``,
        whose inspector lists every weight)."""
        found = self._drawn.get(node)
        if found is None:
            rows = self.rows(node)
            if len(rows) > DRAWN_ROWS:
                kept = sorted(rows, key=lambda r: r.key is None)[: DRAWN_ROWS - 1]
                more = WeightRow(f"+{len(rows) - len(kept)} more", "in the inspector", None, node)
                rows = [*kept, more]
            found = self._drawn[node] = rows
        return found


def load_graph(
    model: Model | None,
    meta_graph: MetaGraph,
    ref: GraphRef,
    fold: bool = True,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> LoadedGraph:
    """Build the op graph of ``ref`` and its name-scope hierarchy (seconds at 100k ops),
    with weights folded into their consumers unless ``fold`` is False. Every whole-graph
    pass the view needs (op counts too) runs here, off the UI thread."""
    if progress is not None:
        progress(0.0, "building the graph")
    graph = build_graph(model, meta_graph, ref.function or None)
    if progress is not None:
        progress(0.4, "folding weights")
    folding = fold_weights(graph) if fold else None
    if progress is not None:
        progress(0.5, "grouping name scopes")
    ops = sum(1 for n in graph.nodes if n.kind == "op")
    variables = {v.key: v for v in model.variables} if model is not None else {}
    starts = start_nodes(graph, meta_graph, ref.label)
    hierarchy = build_hierarchy(graph, folding)
    return LoadedGraph(
        ref,
        graph,
        hierarchy,
        op_count=ops,
        variables=variables,
        starts=starts,
        plumbing=plumbing_scopes(graph, hierarchy),
    )


@dataclass
class ViewLayout:
    """The graph as shown with ``expanded`` open, laid out."""

    loaded: LoadedGraph
    expanded: frozenset[str]
    visible: VisibleGraph
    layout: Layout


def lay_out(
    loaded: LoadedGraph,
    expanded: set[str],
    size: Size = default_size,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> ViewLayout:
    """Visible graph and layout of ``loaded`` with ``expanded`` scopes open, reusing the
    boxes solved before; raises layout.Cancelled when a newer request came in."""
    with gc_paused():  # a collector pass in this thread would hold the GIL: a UI stall
        visible = visible_graph(loaded.graph, loaded.hierarchy, expanded)
        layout = layout_graph(visible, size, loaded.cache, progress, cancelled)
    return ViewLayout(loaded, frozenset(expanded), visible, layout)


FIRST_WIDTH = 4000.0  # scene pixels: about four screens at the readable zoom


def lay_out_first(
    loaded: LoadedGraph,
    expanded: set[str],
    size: Size = default_size,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> ViewLayout:
    """A graph's first layout: ``expanded`` (default_expanded's whole levels), with its
    deepest levels shut again while the result is wider than FIRST_WIDTH, down to the
    scopes of the top level.

    The item budget alone opens a TF1 Estimator export four levels deep: its feature
    columns and tf.Transform pipelines side by side make it 11,000 pixels wide, and the
    first screen is a band of long edges. Shut one level at a time, it opens on input,
    parsing, transform, the DNN and linear parts and the head, as TensorBoard does, with
    one click to open any. A Keras stack is tall, not wide, and keeps every level."""
    view = lay_out(loaded, expanded, size, progress, cancelled)
    depths = sorted({_depth(path) for path in expanded}, reverse=True)
    for deepest in depths[:-1]:
        if view.layout.width <= FIRST_WIDTH:
            break
        shallower = {path for path in expanded if _depth(path) < deepest}
        view = lay_out(loaded, shallower, size, progress, cancelled)
    return view


def _depth(path: str) -> int:
    return path.count("/") + 1


# --- Shown items of a trace ---------------------------------------------------------------


def shown_item(loaded: LoadedGraph, expanded: frozenset[str] | set[str], node_id: int) -> str:
    """The id of the item showing node ``node_id``: itself (or the node it folds into), or
    its outermost collapsed scope."""
    h = loaded.hierarchy
    node_id = h.folding.shown(node_id)
    for s in h.node_scope[node_id].chain[1:]:
        if s.name not in expanded:
            return h.shown_scope(s, expanded)
        series = h.series_of.get(s.name)
        if series is not None and series.path not in expanded:
            return series.id
    return loaded.graph.nodes[node_id].name


@dataclass
class TraceView:
    """A trace as the view shows it: shown items and the shown edges between them."""

    origin: str
    direction: str
    nodes: set[str]  # every node traced, origin left out
    items: set[str]  # shown items holding them (ports included)
    pairs: set[tuple[str, str]]  # (src, dst) of the folded edges to highlight


def trace_view(
    loaded: LoadedGraph,
    expanded: frozenset[str] | set[str],
    node: str,
    direction: str = "inputs",
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> TraceView:
    """Trace ``node``'s inputs or outputs transitively (query.trace) and map the nodes
    and the edges among them onto what is shown with ``expanded`` open."""
    from smlens.core.graph.query import trace

    graph, hierarchy = loaded.graph, loaded.hierarchy
    names = trace(graph, node, direction)
    ids = {graph.index[n] for n in names} | {graph.index[node]}
    edges = {k for v in ids for k in graph.in_edges[v] if graph.edges[k].src in ids}
    items = {shown_item(loaded, expanded, i) for i in ids}
    pairs: set[tuple[str, str]] = set()
    for path in ("", *expanded):
        scope = hierarchy.scopes.get(path)
        if scope is None or any(s.name not in expanded for s in scope.chain[1:]):
            continue  # inside a collapsed scope: not shown
        merged = {m.id: g.id for g in scope.series if g.path not in expanded for m in g.members}
        for src, dst, k in (*scope.local, *scope.entering, *scope.leaving):
            if k in edges:
                pairs.add((merged.get(src, src), merged.get(dst, dst)))
    for src, dst in pairs:
        items.update((src, dst))
    return TraceView(node, direction, set(names), items, pairs)
