"""Layered layout of the graph as shown: a position for every item, a polyline for every edge.

Stage four of the graph view (parse → graph → name scopes → **layout** → render). Why a
layered (Sugiyama) layout: a model's dataflow reads top to bottom, and layering keeps every
edge pointing down except the few that close a cycle (a TF1 loop's NextIteration → Merge),
which are marked ``feedback`` for the view to draw differently; it is what TensorBoard and
Netron draw, so the picture is the one users know. Why igraph: its C implementation lays
out a 14,000-node DAG in 0.3 s and 100,000 in 1.9 s on this project's machine, where
grandalf (pure Python) is far slower; here a 14,000-op function in one box takes ~0.25 s
from layering to pixels (benchmarks/bench_graph.py). Why box by box: each expanded scope is
laid out on its own, children first, and takes its inside's size in its parent's layout, so
the cost follows what is shown, and a cached box is reused when a sibling is expanded.

Layering is computed here, not by igraph: "as late as possible" puts each node just above its
first consumer, so the Consts and variable reads of a 10,000-layer function do not all sit in
the top row with edges running down the whole graph. igraph then orders each layer to reduce
crossings and routes long edges through dummy points; pixel positions come from those orders
with each item's real width (the least total move from igraph's positions that keeps items
apart, per layer).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import NamedTuple

import igraph

from smlens.core.graph.scopes import (
    VisibleBox,
    VisibleEdge,
    VisibleGraph,
    VisibleItem,
    in_port_id,
    out_port_id,
)
from smlens.core.tasks import CancelCheck, Cancelled, Progress, gc_paused

CHAR_WIDTH = 7.0  # default size function: pixels per label character
NODE_HEIGHT = 26.0
NODE_PADDING = 10.0  # left and right of the label
MIN_WIDTH = 40.0
PORT_SIZE = 8.0
GAP_X = 16.0  # between neighbours in a layer
DUMMY_GAP = 6.0  # between two edges passing through a layer
GAP_Y = 36.0  # between layers
BOX_PADDING = 12.0  # inside an expanded scope, around its items
BOX_HEADER = 24.0  # above an expanded scope's items, for its name
HEADER_EXTRA = 70.0  # an expanded scope's header: its name's width plus the mark and count
BALANCE_SWEEPS = 2  # down and up passes centring items over their neighbours
BALANCE_LIMIT = 10_000  # items and edge points in a box above which that costs too long
# Balanced rows are kept unless they make the box this much wider: in one flat box of
# 14,000 ops, pulls along long edges spread it from 6,500 px to 39,000 px.
BALANCE_WIDER = 1.25

Point = tuple[float, float]
Size = Callable[[VisibleItem], tuple[float, float]]


def default_size(item: VisibleItem) -> tuple[float, float]:
    """Width from the label's length, fixed height; the view may pass one from its fonts."""
    if item.kind in ("in", "out"):
        return PORT_SIZE, PORT_SIZE
    text = f"{item.label} ({item.op_count})" if item.kind in ("scope", "series") else item.label
    return max(MIN_WIDTH, CHAR_WIDTH * len(text) + 2 * NODE_PADDING), NODE_HEIGHT


class Rect(NamedTuple):
    x: float  # left
    y: float  # top
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h


class Route(NamedTuple):
    """How one folded edge is drawn: a polyline from its source to its target."""

    edge: VisibleEdge  # src, dst, count, control, dtype
    points: list[Point]  # from the source's border to the target's border
    feedback: bool  # drawn upwards: the edge closes a cycle
    box: str  # the expanded scope it is drawn in; "" for the top level


@dataclass
class BoxLayout:
    """One box laid out on its own, in coordinates relative to its content's top-left."""

    width: float
    height: float
    rects: dict[str, Rect]
    routes: list[Route]
    children: dict[str, str] = field(default_factory=dict)  # expanded item id -> scope path


@dataclass
class Layout:
    """The whole visible graph in pixels; an expanded scope's rect encloses its items."""

    rects: dict[str, Rect]
    routes: list[Route]
    width: float
    height: float
    items: dict[str, VisibleItem]


class LayoutCache:
    """Box layouts by (scope, expanded scopes inside it), for one graph and size function."""

    def __init__(self, max_boxes: int = 20_000):
        self.max_boxes = max_boxes
        self._boxes: dict[tuple, BoxLayout] = {}
        self.templates: dict[tuple, _Template] = {}  # see layout_box

    def get(self, key: tuple) -> BoxLayout | None:
        return self._boxes.get(key)

    def put(self, key: tuple, box: BoxLayout) -> None:
        if len(self._boxes) >= self.max_boxes:
            self._boxes.pop(next(iter(self._boxes)))  # the oldest
        if len(self.templates) >= self.max_boxes:
            self.templates.clear()
        self._boxes[key] = box

    def __len__(self) -> int:
        return len(self._boxes)


def outer_size(inner: BoxLayout) -> tuple[float, float]:
    """The size an expanded scope takes in its parent's layout."""
    return inner.width + 2 * BOX_PADDING, inner.height + BOX_HEADER + 2 * BOX_PADDING


def layout_graph(
    visible: VisibleGraph,
    size: Size = default_size,
    cache: LayoutCache | None = None,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> Layout:
    """Lay out every box of ``visible``, innermost first, reusing cached boxes.

    ``cancelled()`` is polled between boxes, which raises Cancelled.
    """
    cache = cache if cache is not None else LayoutCache()
    order = sorted(visible.boxes, key=lambda path: -path.count("/") - bool(path))
    done: dict[str, BoxLayout] = {}
    with gc_paused():
        for k, path in enumerate(order):
            box = visible.boxes[path]
            laid = cache.get(box.key)
            if laid is None:
                if cancelled is not None and cancelled():
                    raise Cancelled(path)
                laid = layout_box(box, size, done, cache.templates)
                cache.put(box.key, laid)
            done[path] = laid
            if progress is not None and k % 200 == 0:
                progress(k / len(order), "laying out")
        rects: dict[str, Rect] = {}
        routes: list[Route] = []
        _flatten(done, "", 0.0, 0.0, rects, routes)
    if progress is not None:
        progress(1.0, "laid out")
    top = done[""]
    return Layout(rects, routes, top.width, top.height, visible.items)


def _flatten(done, path: str, ox: float, oy: float, rects: dict, routes: list) -> None:
    box = done[path]
    for item_id, r in box.rects.items():
        rects[item_id] = Rect(r.x + ox, r.y + oy, r.w, r.h)
    for route in box.routes:
        points = [(x + ox, y + oy) for x, y in route.points]
        routes.append(route._replace(points=points))
    for item_id, child in box.children.items():
        r = rects[item_id]
        dx = (r.w - outer_size(done[child])[0]) / 2  # a box widened for its header
        x, y = r.x + dx + BOX_PADDING, r.y + BOX_HEADER + BOX_PADDING
        _flatten(done, child, x, y, rects, routes)


# --- One box ------------------------------------------------------------------------------


class _Template(NamedTuple):
    """A box's layout by item and edge position, shared by boxes of the same shape."""

    width: float
    height: float
    rects: list[Rect]
    routes: list[tuple[int, list[Point], bool]]  # (edge position, points, feedback)


def layout_box(
    box: VisibleBox, size: Size, inner: dict[str, BoxLayout], templates: dict | None = None
) -> BoxLayout:
    """Lay out one box's items; ``inner`` holds the layouts of its expanded children.

    A box's layout depends only on its items' kinds and sizes, where its expanded children
    have their ports, and its edges. Repeated blocks (layer_1 ... layer_n of a model) share
    that shape, so with ``templates`` each shape is solved once and reused.
    """
    items = box.items
    index = {it.id: i for i, it in enumerate(items)}
    sizes, ports = _measure(items, size, inner)
    edges = tuple((index[e.src], index[e.dst], e.loop_back) for e in box.edges)
    kinds = tuple(it.kind for it in items)
    shape = (kinds, tuple(sizes), tuple(ports), edges)
    template = templates.get(shape) if templates is not None else None
    if template is None:
        template = _solve(kinds, sizes, ports, edges)
        if templates is not None:
            templates[shape] = template
    rects = {it.id: r for it, r in zip(items, template.rects, strict=True)}
    routes = [Route(box.edges[k], points, back, box.scope) for k, points, back in template.routes]
    children = {it.id: it.name for it in items if it.kind == "expanded"}
    return BoxLayout(template.width, template.height, rects, routes, children)


def _measure(items, size: Size, inner: dict[str, BoxLayout]):
    """Each item's size, and the x (from its left) where edges leave and enter it: its
    centre, or for an expanded scope the ports its inside edges end at."""
    sizes, ports = [], []
    for it in items:
        if it.kind != "expanded":
            w, h = size(it)
            sizes.append((w, h))
            ports.append((w / 2, w / 2))
            continue
        laid = inner[it.name]
        w, h = outer_size(laid)
        # Never narrower than its header (name and op count): the inside is centred.
        wide = max(w, size(it)[0] + HEADER_EXTRA)
        dx = (wide - w) / 2
        out_port = laid.rects.get(out_port_id(it.name))
        in_port = laid.rects.get(in_port_id(it.name))
        sizes.append((wide, h))
        ports.append(
            (
                dx + BOX_PADDING + out_port.cx if out_port else wide / 2,
                dx + BOX_PADDING + in_port.cx if in_port else wide / 2,
            )
        )
    return sizes, ports


def _solve(kinds, sizes, ports, edges) -> _Template:
    n = len(kinds)
    keep = [k for k, (u, v, _) in enumerate(edges) if u != v]
    pairs = [(edges[k][0], edges[k][1]) for k in keep]
    oriented, flipped, order = _orient(n, pairs, [edges[k][2] for k in keep])
    layers = _layers(kinds, oriented, order)
    xs, dummies = _order_layers(n, oriented, layers)
    geometry = _Geometry(layers, xs, sizes, dummies, oriented)
    routes = []
    for j, k in enumerate(keep):
        u, v = oriented[j]
        anchors = (geometry.rects[u].x + ports[u][0], geometry.rects[v].x + ports[v][1])
        points = geometry.route(j, oriented[j], anchors)
        if flipped[j]:
            points.reverse()
        routes.append((k, points, flipped[j]))
    return _Template(geometry.width, geometry.height, geometry.rects, routes)


def _topological(n: int, edges: list[tuple[int, int]]) -> list[int] | None:
    """Kahn's order of the vertices, or None when the edges hold a cycle.

    Plain Python: most boxes have a handful of items, where building an igraph Graph costs
    more than the sort.
    """
    indegree = [0] * n
    succ: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges:
        succ[u].append(v)
        indegree[v] += 1
    order = [v for v in range(n) if not indegree[v]]
    for u in order:  # grows while it is walked
        for v in succ[u]:
            indegree[v] -= 1
            if not indegree[v]:
                order.append(v)
    return order if len(order) == n else None


def _orient(
    n: int, edges: list[tuple[int, int]], loop_back: list[bool]
) -> tuple[list[tuple[int, int]], list[bool], list[int]]:
    """Edges turned so that they form a DAG, which of them were turned (feedback), and a
    topological order of the result.

    A TF1 loop's NextIteration edges are turned first; any cycle left is broken with the
    Eades, Lin and Smyth feedback arc set heuristic (linear time).
    """
    first = [(v, u) if back else (u, v) for (u, v), back in zip(edges, loop_back, strict=True)]
    order = _topological(n, first)
    if order is not None:
        return first, list(loop_back), order
    turn = set(igraph.Graph(n=n, edges=first, directed=True).feedback_arc_set(method="eades"))
    oriented = [(v, u) if k in turn else (u, v) for k, (u, v) in enumerate(first)]
    order = _topological(n, oriented)
    if order is None:  # not expected of Eades' set; never hand igraph a cycle regardless
        turn = {k for k, (u, v) in enumerate(first) if u > v}
        oriented = [(v, u) if k in turn else (u, v) for k, (u, v) in enumerate(first)]
        order = _topological(n, oriented)
    flipped = [(k in turn) != back for k, back in enumerate(loop_back)]
    return oriented, flipped, order


def _layers(kinds: tuple[str, ...], oriented: list[tuple[int, int]], order: list[int]):
    """Layer per item: as late as possible, with inputs on top and outputs at the bottom.

    Nodes that feed nothing are pulled up under their last input instead of sinking to the
    bottom row. Layers come out numbered without gaps.
    """
    n = len(kinds)
    succ: list[list[int]] = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    for u, v in oriented:
        succ[u].append(v)
        pred[v].append(u)
    height = [0] * n
    for v in reversed(order):
        height[v] = max((height[s] + 1 for s in succ[v]), default=0)
    top = max(height, default=0)
    layer = [top - h + 1 for h in height]
    for v in order:
        kind = kinds[v]
        if kind in ("in", "arg") and not pred[v]:
            layer[v] = 0
        elif not succ[v] and kind not in ("out", "ret"):
            layer[v] = max((layer[p] + 1 for p in pred[v]), default=1)
    rank = {x: r for r, x in enumerate(sorted(set(layer)))}
    return [rank[x] for x in layer]


def _order_layers(n: int, oriented: list[tuple[int, int]], layers: list[int]):
    """x per item in igraph units, and per edge a dummy point (x, layer) in every layer it
    crosses, from igraph's crossing reduction.

    igraph 1.0 reads past a buffer when a weakly connected component other than the first
    has an edge spanning several layers (valgrind shows it; it crashed the process now and
    then), so each component is given to igraph alone and they are put side by side.
    """
    xs = [0.0] * n
    dummies: list[list[tuple[float, int]]] = [[] for _ in oriented]
    offset = 0.0
    for verts, edge_ids in _components(n, oriented):
        rows = sorted({layers[v] for v in verts})
        rank = {row: r for r, row in enumerate(rows)}
        local = {v: i for i, v in enumerate(verts)}
        sub_edges = [(local[oriented[k][0]], local[oriented[k][1]]) for k in edge_ids]
        sub_layers = [rank[layers[v]] for v in verts]
        if len(rows) == len(verts) and all(
            sub_layers[v] - sub_layers[u] == 1 for u, v in sub_edges
        ):
            coords, routing = [(0.0, 0.0)] * len(verts), [[] for _ in edge_ids]
        else:
            g = igraph.Graph(n=len(verts), edges=sub_edges, directed=True)
            placed = g.layout_sugiyama(layers=sub_layers, maxiter=30 if len(verts) > 2000 else 100)
            coords, routing = placed.coords, placed.edge_routing
        right = offset
        for i, v in enumerate(verts):
            xs[v] = coords[i][0] + offset
            right = max(right, xs[v])
        for j, k in enumerate(edge_ids):
            u, v = oriented[k]
            known = {rows[round(y)]: x + offset for x, y in routing[j]}
            dummies[k] = _through_every_layer(layers[u], xs[u], layers[v], xs[v], known)
            right = max(right, *(x for x, _ in dummies[k])) if dummies[k] else right
        offset = right + 1.0
    return xs, dummies


def _components(n: int, edges: list[tuple[int, int]]) -> list[tuple[list[int], list[int]]]:
    """Weakly connected components: (vertices, edge positions) each, by union-find."""
    parent = list(range(n))

    def root(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for u, v in edges:
        parent[root(u)] = root(v)
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for v in range(n):
        groups.setdefault(root(v), ([], []))[0].append(v)
    for k, (u, _) in enumerate(edges):
        groups[root(u)][1].append(k)
    return list(groups.values())


def _through_every_layer(lu: int, xu: float, lv: int, xv: float, known: dict[int, float]):
    """Dummy points of an edge from layer lu to lv: igraph's where it gave one, else on the
    straight line between its neighbours (layers where the edge's component has no item)."""
    stops = [(lu, xu), *sorted(known.items()), (lv, xv)]
    points = []
    for (l0, x0), (l1, x1) in pairwise(stops):
        if l0 != lu:
            points.append((x0, l0))
        for layer in range(l0 + 1, l1):
            points.append((x0 + (x1 - x0) * (layer - l0) / (l1 - l0), layer))
    return points


class _Geometry:
    """Pixel positions from igraph's layer orders: rows as tall as their tallest item,
    items in a row kept in igraph's order and apart by their widths."""

    def __init__(
        self,
        layers: list[int],
        xs: list[float],
        sizes,
        dummies: list[list],
        edges: list[tuple[int, int]] = (),
    ):
        n = len(xs)
        self.layers = layers
        rows = max(layers, default=0) + 1
        widths = [w for w, _ in sizes]
        unit = 0.6 * sorted(widths)[n // 2] + GAP_X if n else GAP_X
        entries: list[list[tuple[float, float, object]]] = [[] for _ in range(rows)]
        for i in range(n):
            entries[layers[i]].append((xs[i] * unit, widths[i], i))
        for j, points in enumerate(dummies):
            for x, layer in points:
                entries[layer].append((x * unit, 0.0, (j, layer)))
        for row in entries:
            if len(row) > 1:
                row.sort(key=lambda e: e[0])
        at = {key: cx for row in entries for (_, _, key), cx in zip(row, _spread(row), strict=True)}
        if edges and len(at) <= BALANCE_LIMIT:
            balanced = dict(at)
            _balance(entries, balanced, edges, layers)
            if _extent(entries, balanced) <= BALANCE_WIDER * _extent(entries, at):
                at = balanced
        centers = [at[i] for i in range(n)]
        self.dummy_x: dict[tuple[int, int], float] = {
            k: x for k, x in at.items() if k.__class__ is tuple
        }
        lefts = [c - w / 2 for c, w in zip(centers, widths, strict=True)]
        left = min(lefts, default=0.0)
        left = min(left, *self.dummy_x.values()) if self.dummy_x else left
        right = max((x + w for x, w in zip(lefts, widths, strict=True)), default=0.0)
        right = max(right, *self.dummy_x.values()) if self.dummy_x else right
        self.width = right - left
        for key in self.dummy_x:
            self.dummy_x[key] -= left
        self.row_height = [0.0] * rows
        for i, (_, h) in enumerate(sizes):
            self.row_height[layers[i]] = max(self.row_height[layers[i]], h)
        self.row_top = []
        y = 0.0
        for h in self.row_height:
            self.row_top.append(y)
            y += h + GAP_Y
        self.height = max(0.0, y - GAP_Y)
        self.rects = [
            Rect(
                lefts[i] - left,
                self.row_top[layers[i]] + (self.row_height[layers[i]] - h) / 2,
                w,
                h,
            )
            for i, (w, h) in enumerate(sizes)
        ]

    def route(self, j: int, edge: tuple[int, int], anchors: tuple[float, float]) -> list[Point]:
        """Polyline of oriented edge ``j``: down out of its upper item, through its dummy
        points (straight down through each row they cross), into its lower item."""
        u, v = edge
        lu, lv = self.layers[u], self.layers[v]
        top, height = self.row_top, self.row_height
        points = [(anchors[0], self.rects[u].bottom), (anchors[0], top[lu] + height[lu])]
        for row in range(lu + 1, lv):
            x = self.dummy_x.get((j, row))
            if x is not None:
                points += [(x, top[row]), (x, top[row] + height[row])]
        points += [(anchors[1], top[lv]), (anchors[1], self.rects[v].y)]
        return _dedupe(points)


def _balance(entries: list[list], at: dict, edges: list[tuple[int, int]], layers: list[int]):
    """Move each row's items (and edge points) toward the mean of their neighbours in the
    row above, then below, BALANCE_SWEEPS times, keeping every row's order and gaps.

    igraph places items one unit apart, but a row of wide boxes is spread far wider than
    its units: a node feeding eighteen 700 px feature scopes was left 5,000 px to the left of
    them. Centring each item over what it connects to (the priority placement of Sugiyama,
    Tagawa and Toda) draws a parent over its children, as Netron and TensorBoard do.
    """
    up: dict[object, list[object]] = {}
    down: dict[object, list[object]] = {}
    for j, (u, v) in enumerate(edges):
        chain = [u, *((j, layer) for layer in range(layers[u] + 1, layers[v])), v]
        for a, b in pairwise(chain):
            down.setdefault(a, []).append(b)
            up.setdefault(b, []).append(a)
    for _ in range(BALANCE_SWEEPS):
        for rows, near in ((entries[1:], up), (entries[-2::-1], down)):
            for row in rows:
                wanted = []
                for _, w, key in row:
                    links = near.get(key)
                    x = sum(at[k] for k in links) / len(links) if links else at[key]
                    wanted.append((x, w, key))
                for (_, _, key), cx in zip(row, _spread(wanted), strict=True):
                    at[key] = cx


def _extent(entries: list[list], at: dict) -> float:
    """How wide the rows are with centres ``at``."""
    lefts = [at[key] - w / 2 for row in entries for _, w, key in row]
    rights = [at[key] + w / 2 for row in entries for _, w, key in row]
    return max(rights, default=0.0) - min(lefts, default=0.0)


def _spread(row: list[tuple[float, float, object]]) -> list[float]:
    """Centres closest (least squares) to the wanted ones that keep neighbours apart.

    With offsets o_i that pack the row tight, x_i = o_i + z_i where z is the isotonic
    (non-decreasing) regression of wanted_i - o_i, found by pool-adjacent-violators.
    """
    if len(row) == 1:
        return [row[0][0]]
    offsets = []
    at = 0.0
    for k, (_, w, key) in enumerate(row):
        if k:
            prev_w, prev_key = row[k - 1][1], row[k - 1][2]
            dummy_pair = isinstance(key, tuple) and isinstance(prev_key, tuple)
            at += prev_w / 2 + (DUMMY_GAP if dummy_pair else GAP_X) + w / 2
        offsets.append(at)
    fitted = _isotonic([x - o for (x, _, _), o in zip(row, offsets, strict=True)])
    return [z + o for z, o in zip(fitted, offsets, strict=True)]


def _isotonic(values: list[float]) -> list[float]:
    """The non-decreasing sequence closest to ``values`` in least squares (PAVA)."""
    blocks: list[list[float]] = []  # [sum, count]
    for v in values:
        total, count = v, 1.0
        while blocks and blocks[-1][0] / blocks[-1][1] > total / count:
            s, c = blocks.pop()
            total, count = total + s, count + c
        blocks.append([total, count])
    fitted: list[float] = []
    for total, count in blocks:
        fitted.extend([total / count] * int(count))
    return fitted


def _dedupe(points: list[Point]) -> list[Point]:
    kept = [points[0]]
    for p in points[1:]:
        if p != kept[-1]:
            kept.append(p)
    return kept
