"""Name-scope hierarchy of an op graph, and the graph as shown with some scopes collapsed.

Stage three of the graph view (parse → graph → **name scopes** → layout → render), after
TensorBoard's graph plugin: nodes are grouped by their "/" prefixes into a tree of scopes,
and a collapsed scope is shown as one box. The hierarchy files every edge once under the
lowest scope holding both ends, and under each scope boundary it crosses, so building one
expanded box costs what that box shows, not the size of the whole graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from smlens.core.graph.build import OpGraph
from smlens.core.graph.fold import Folding
from smlens.core.graph.series import Series, find_series
from smlens.core.tasks import gc_paused

DEFAULT_LIMIT = 1000  # at most this many items are shown before the user expands anything
_FEEDBACK_OPS = frozenset({"NextIteration", "RefNextIteration"})
_DIGITS = re.compile(r"(\d+)")


def scope_id(path: str) -> str:
    """The item id of a scope: its path and a "/", which no node name ends with."""
    return path + "/"


def in_port_id(path: str) -> str:
    """The id of an expanded box's input port; "(" never occurs in TF node names."""
    return path + "/(in)"


def out_port_id(path: str) -> str:
    return path + "/(out)"


# A filed edge: (src item id, dst item id, index into OpGraph.edges), the items being direct
# children (or ports) of the scope it is filed under. Plain tuples: there is one per edge.
_Filed = tuple[str, str, int]


@dataclass(eq=False)
class Scope:
    """One name scope: the scopes and nodes directly inside it, and counts for its box."""

    name: str  # full path, "block_1/unit_2"; "" for the root
    parent: Scope | None = field(default=None, repr=False)
    children: list[Scope] = field(default_factory=list, repr=False)
    nodes: list[int] = field(default_factory=list, repr=False)  # node ids directly inside
    op_count: int = 0  # nodes anywhere below
    in_edges: int = 0  # edges entering from outside the scope
    out_edges: int = 0
    depth: int = 0
    # Filled by build_hierarchy: the scopes from the root down to this one, the edges whose
    # ends are both inside and in different items (or one item), and the edges crossing in
    # and out, filed by the item inside that they reach; then the folded edges, once shown.
    chain: tuple[Scope, ...] = field(default=(), repr=False)
    local: list[_Filed] = field(default_factory=list, repr=False)
    entering: list[_Filed] = field(default_factory=list, repr=False)
    leaving: list[_Filed] = field(default_factory=list, repr=False)
    folded: list[VisibleEdge] | None = field(default=None, repr=False)
    series: list[Series] = field(default_factory=list, repr=False)  # runs of alike children
    id: str = field(init=False, repr=False)  # item ids, made once: one per crossing edge
    in_id: str = field(init=False, repr=False)
    out_id: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.id = scope_id(self.name)
        self.in_id, self.out_id = in_port_id(self.name), out_port_id(self.name)

    @property
    def label(self) -> str:
        return self.name.rsplit("/", 1)[-1]


@dataclass
class Hierarchy:
    """The scope tree of an op graph, with every edge filed where boxes will show it."""

    root: Scope
    scopes: dict[str, Scope]  # path -> scope, root under ""
    node_scope: list[Scope]  # node id -> the scope holding it (a folded node: its host's)
    folding: Folding = field(default_factory=Folding)  # weights drawn inside their consumers
    series_of: dict[str, Series] = field(default_factory=dict)  # member scope path -> series
    series: dict[str, Series] = field(default_factory=dict)  # series path -> series

    def shown_scope(self, s: Scope, expanded) -> str:
        """The item id showing collapsed scope ``s``: its own, or its folded series'."""
        series = self.series_of.get(s.name)
        return series.id if series is not None and series.path not in expanded else s.id

    def release(self) -> None:
        """Break the tree's reference cycles (parents, chains, series), for a hierarchy no
        longer shown. Loading froze it out of the garbage collector's reach (gc_paused), so
        only reference counting can free it, and a cycle would keep it all, with every edge
        filed in it: 50 MB a reopen of a 14,000-op graph."""
        for scope in self.scopes.values():
            scope.parent, scope.chain, scope.children = None, (), []
            scope.series, scope.folded = [], None
        for series in self.series.values():
            series.members = []

    def node_names(self, graph: OpGraph, scope: Scope | None = None) -> list[str]:
        """Every node name below ``scope`` (default: all), depth first."""
        names = [graph.nodes[i].name for i in self.folding.host] if scope is None else []
        stack = [scope or self.root]
        while stack:
            s = stack.pop()
            names.extend(graph.nodes[i].name for i in s.nodes)
            stack.extend(reversed(s.children))
        return names

    def ancestors(self, graph: OpGraph, node: str) -> list[str]:
        """Paths of the scopes holding ``node``, outermost first, root left out."""
        return [s.name for s in self.node_scope[graph.index[node]].chain[1:]]


def _scope_paths(names: list[str]) -> set[str]:
    paths = {n.rpartition("/")[0] for n in names}
    for p in list(paths):
        while p:
            p = p.rpartition("/")[0]
            if p in paths:
                break
            paths.add(p)
    paths.add("")
    return paths


def natural_key(text: str) -> list:
    """Sort key that puts "block_2" before "block_10": digit runs compare as numbers.

    re.split with a group alternates text and digit runs, so the types at each position
    match between any two keys."""
    parts = _DIGITS.split(text)
    parts[1::2] = [int(p) for p in parts[1::2]]
    return parts


def _make_scopes(paths: set[str]) -> dict[str, Scope]:
    root = Scope("")
    root.chain = (root,)
    scopes = {"": root}
    for path in sorted(paths, key=lambda p: (p.count("/"), natural_key(p))):
        if path:
            parent = scopes[path.rpartition("/")[0]]
            scope = Scope(path, parent, depth=parent.depth + 1)
            scope.chain = (*parent.chain, scope)
            parent.children.append(scope)
            scopes[path] = scope
    return scopes


def build_hierarchy(graph: OpGraph, folding: Folding | None = None) -> Hierarchy:
    """Group nodes by their "/" prefixes; a node named like a scope goes inside that scope
    (TF1's "w" next to "w/read"), as TensorBoard does.

    With ``folding`` (fold.py), folded nodes are not items: they take the scope of the node
    they fold into, so search and trace reach them there, and their edges are that node's.

    The last step of loading a graph, so it freezes what loading built out of the garbage
    collector's reach (see gc_paused) before the user starts clicking.
    """
    folding = folding or Folding()
    host = folding.host
    with gc_paused(freeze=True):
        names = [n.name for n in graph.nodes]
        shown = [n for i, n in enumerate(names) if i not in host] if host else names
        paths = _scope_paths(shown)
        scopes = _make_scopes(paths)
        # A folded node's own scope may be gone: it takes its host's just below.
        top = scopes[""]
        node_scope = [
            scopes[n] if n in paths else scopes.get(n.rpartition("/")[0], top) for n in names
        ]
        for i, h in host.items():
            node_scope[i] = node_scope[h]
        for i, s in enumerate(node_scope):
            if i not in host:
                s.nodes.append(i)
        for s in sorted(scopes.values(), key=lambda s: -s.depth):
            s.op_count += len(s.nodes)
            if s.parent is not None:
                s.parent.op_count += s.op_count
        _file_edges(graph, node_scope, host)
        series_of, by_path = {}, {}
        for scope in scopes.values():
            scope.series = find_series(scope)
            for series in scope.series:
                by_path[series.path] = series
                series_of.update((m.name, series) for m in series.members)
    return Hierarchy(scopes[""], scopes, node_scope, folding, series_of, by_path)


def _file_edges(graph: OpGraph, node_scope: list[Scope], host: dict[int, int]) -> None:
    """File each edge under the lowest scope holding both ends, and under every scope
    boundary it crosses on the way (for that box's ports).

    A folded node's data edges are its host's. Not drawn: the edges inside a host, a shown
    variable's edge into a read folded elsewhere (a row there now), and a folded read's
    control edges (Keras orders every variable read before the function's final NoOp: drawn
    from the hosts, hundreds of edges run down the whole graph and scatter its layout)."""
    names = [n.name for n in graph.nodes]
    for k, (u, v, src_output, _) in enumerate(graph.edges):
        if host:
            hu, hv = host.get(u, u), host.get(v, v)
            if hu == hv or (hv != v and hu == u) or (src_output < 0 and hu != u):
                continue
            u, v = hu, hv
        su, sv = node_scope[u], node_scope[v]
        if su is sv:  # most edges: no boundary crossed
            su.local.append((names[u], names[v], k))
            continue
        cu, cv = su.chain, sv.chain
        d, limit = 1, min(len(cu), len(cv))
        while d < limit and cu[d] is cv[d]:
            d += 1
        src = cu[d].id if d < len(cu) else names[u]
        dst = cv[d].id if d < len(cv) else names[v]
        cu[d - 1].local.append((src, dst, k))
        for j in range(d, len(cu)):
            s = cu[j]
            s.out_edges += 1
            s.leaving.append((cu[j + 1].id if j + 1 < len(cu) else names[u], s.out_id, k))
        for j in range(d, len(cv)):
            s = cv[j]
            s.in_edges += 1
            s.entering.append((s.in_id, cv[j + 1].id if j + 1 < len(cv) else names[v], k))


# --- The graph as shown -------------------------------------------------------------------


class VisibleItem(NamedTuple):
    """One thing drawn: an op, an arg or ret, a scope (collapsed or expanded), or a port."""

    id: str  # node name; scope path + "/" for scopes; path + "/(in)" / "/(out)" for ports
    kind: str  # "op" | "arg" | "ret" | "scope" | "expanded" | "series" | "in" | "out"
    label: str
    name: str  # node name or scope path
    op: str = ""  # op type of a node
    op_count: int = 1  # nodes inside a scope
    box: str = ""  # path of the expanded scope this item is drawn in; "" for the top level


class VisibleEdge(NamedTuple):
    """Every edge between two items of one box, folded into one."""

    src: str
    dst: str
    count: int
    control: bool  # every edge behind it is a control edge
    dtype: str  # the dtype all its data edges carry; "" when they differ
    loop_back: bool  # one of its edges leaves a NextIteration: a TF1 loop's way back


@dataclass
class VisibleBox:
    """The inside of the top level or of one expanded scope: its items and their edges."""

    scope: str
    items: list[VisibleItem]
    edges: list[VisibleEdge]
    key: tuple = ()  # (scope, expanded scopes shown inside it): what its layout depends on


@dataclass
class VisibleGraph:
    boxes: dict[str, VisibleBox]  # the top level ("") and every expanded scope shown
    expanded: frozenset[str]

    @property
    def items(self) -> dict[str, VisibleItem]:
        return {it.id: it for box in self.boxes.values() for it in box.items}

    def item_count(self) -> int:
        return sum(len(b.items) for b in self.boxes.values())


def _fold(graph: OpGraph, filed: list[_Filed]) -> list[VisibleEdge]:
    groups: dict[tuple[str, str], list[int]] = {}
    for src, dst, k in filed:
        groups.setdefault((src, dst), []).append(k)
    folded = []
    for (src, dst), indexes in groups.items():
        edges = [graph.edges[k] for k in indexes]
        data = [e for e in edges if not e.control]
        dtypes = {graph.edge_dtype(e) for e in data}
        back = any(graph.nodes[e.src].op in _FEEDBACK_OPS for e in edges)
        dtype = dtypes.pop() if len(dtypes) == 1 else ""
        folded.append(VisibleEdge(src, dst, len(edges), not data, dtype, back))
    return folded


def _scope_item(s: Scope, expanded: frozenset[str], box: str) -> VisibleItem:
    kind = "expanded" if s.name in expanded else "scope"
    return VisibleItem(s.id, kind, s.label, s.name, "", s.op_count, box)


def _box(graph: OpGraph, s: Scope, expanded: frozenset[str]) -> VisibleBox:
    folded = [g for g in s.series if g.path not in expanded]
    members = {m.name: g for g in folded for m in g.members}
    items = [_scope_item(c, expanded, s.name) for c in s.children if c.name not in members]
    items.extend(
        VisibleItem(g.id, "series", g.title, g.path, "", g.op_count, s.name) for g in folded
    )
    for i in s.nodes:
        n = graph.nodes[i]
        label = n.name.rsplit("/", 1)[-1]
        items.append(VisibleItem(n.name, n.kind, label, n.name, n.op, 1, s.name))
    if s.entering:
        items.insert(0, VisibleItem(s.in_id, "in", "", s.name, "", 0, s.name))
    if s.leaving:
        items.append(VisibleItem(s.out_id, "out", "", s.name, "", 0, s.name))
    if s.folded is None:  # the same whichever scopes are expanded: kept
        s.folded = _fold(graph, s.local + s.entering + s.leaving)
    edges = s.folded
    if folded:
        edges = _merge(edges, {m.id: g.id for g in folded for m in g.members})
    key = (s.name, frozenset(g.path for g in s.series) - {g.path for g in folded})
    return VisibleBox(s.name, items, edges, key)


def _merge(edges: list[VisibleEdge], mapping: dict[str, str]) -> list[VisibleEdge]:
    """Folded edges with the items of ``mapping`` merged into one (a series box)."""
    merged: dict[tuple[str, str], VisibleEdge] = {}
    for e in edges:
        src, dst = mapping.get(e.src, e.src), mapping.get(e.dst, e.dst)
        if src == dst:
            continue
        old = merged.get((src, dst))
        if old is None:
            merged[(src, dst)] = e._replace(src=src, dst=dst)
        else:
            merged[(src, dst)] = VisibleEdge(
                src,
                dst,
                old.count + e.count,
                old.control and e.control,
                old.dtype if old.dtype == e.dtype else "",
                old.loop_back or e.loop_back,
            )
    return list(merged.values())


def visible_graph(graph: OpGraph, hierarchy: Hierarchy, expanded: set[str]) -> VisibleGraph:
    """The graph as shown: collapsed scopes as single boxes, edges folded per pair of items.

    An expanded scope inside a collapsed one is not shown; the top level always is.
    """
    shown = frozenset(expanded)
    boxes: dict[str, VisibleBox] = {}
    below: dict[str, frozenset[str]] = {}

    def visit(s: Scope) -> frozenset[str]:
        box = _box(graph, s, shown)
        boxes[s.name] = box
        inner: set[str] = set()
        for c in s.children:
            if c.name in shown and hierarchy.shown_scope(c, shown) == c.id:
                inner.add(c.name)
                inner |= visit(c)
        below[s.name] = frozenset(inner)
        box.key = (*box.key, below[s.name])
        return below[s.name]

    with gc_paused():
        visit(hierarchy.root)
    visit = None  # a recursive closure is a cycle: left, it would keep graph and hierarchy
    return VisibleGraph(boxes, shown | {""})


def default_expanded(
    hierarchy: Hierarchy, limit: int = DEFAULT_LIMIT, closed: frozenset[str] = frozenset()
) -> set[str]:
    """Scopes to open at first: a lone wrapper scope (Keras's ``resnet50_1``,
    ``functional_1``) always, as TensorBoard and Model Explorer open the top-level
    hierarchy; then whole levels, breadth first, while at most ``limit`` items (ports
    included) are shown.

    A small graph opens fully; a large one shows its top level, so the first paint costs
    what fits on a screen rather than the whole graph. Levels open whole, never a few
    scopes of one, so sibling layers look alike. Scopes in ``closed`` (and what they hold)
    stay shut: a TF1 graph's save and restore plumbing, each variable's initializer
    (core/graph/start.py's ``plumbing_scopes``), which would otherwise fill the first screen.
    """
    expanded: set[str] = set()
    scope = hierarchy.root
    while len(scope.children) == 1 and len(scope.nodes) <= _WRAPPER_NODES:
        scope = scope.children[0]
        if len(scope.children) + len(scope.nodes) > _WRAPPER_LIMIT:
            break
        expanded.add(scope.name)
    shown = sum(_grows(s) for s in (hierarchy.root, *(hierarchy.scopes[p] for p in expanded)))
    series = hierarchy.series_of  # a series stays one box: its members are not opened

    def inside(scopes) -> list[Scope]:
        return [
            c for s in scopes for c in s.children if c.name not in series and c.name not in closed
        ]

    level = [s for s in inside([hierarchy.root, *map(hierarchy.scopes.get, expanded)])]
    level = [s for s in level if s.name not in expanded]
    while level:
        grows = sum(_grows(s) for s in level)
        if shown + grows > max(limit, shown):
            break
        shown += grows
        expanded.update(s.name for s in level)
        level = inside(level)
    return expanded


_WRAPPER_NODES = 8  # a scope is a lone wrapper when beside it are at most this many nodes
_WRAPPER_LIMIT = 3000  # ... and it holds at most this many items


def _grows(s: Scope) -> int:
    """Items a scope adds when opened: its children (a series as one) and nodes, and its
    ports."""
    children = len(s.children) - sum(len(g.members) - 1 for g in s.series)
    return children + len(s.nodes) + (s.in_edges > 0) + (s.out_edges > 0)


def reveal(hierarchy: Hierarchy, graph: OpGraph, expanded: set[str], node: str) -> set[str]:
    """``expanded`` plus the scopes (and series) to open so that ``node`` is shown."""
    wanted = set(expanded)
    for path in hierarchy.ancestors(graph, node):
        wanted.add(path)
        series = hierarchy.series_of.get(path)
        if series is not None:
            wanted.add(series.path)
    return wanted


def expand_all(hierarchy: Hierarchy) -> set[str]:
    return {path for path in hierarchy.scopes if path} | set(hierarchy.series)
