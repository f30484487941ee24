"""What the scene draws for one layout, computed where the layout is made (a worker thread).

Turning 140,000 laid-out items into arrays, rectangles and tiled edge paths is ~0.9 s of
Python; on the UI thread that froze the window after Expand all. None of it touches a
QObject: QRectF and QPainterPath are value types, safe to build in any thread. The scene
only takes the result (GraphScene.show_layout) and adds a path item per tile and style.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainterPath

from smlens.core.graph.layout import Route
from smlens.core.graph.nav import ViewLayout
from smlens.core.graph.scopes import VisibleItem
from smlens.core.tasks import gc_paused
from smlens.gui.graph.style import family

TILE = 2500.0  # edges are grouped into path items per tile of this many scene pixels
LEAVES = ("op", "arg", "ret", "scope", "series")


def _empty() -> np.ndarray:
    return np.empty((0, 4))


def _order() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


@dataclass
class SceneData:
    """Items in drawing order with their rectangles, grouped by how they are drawn, and
    the edges as one QPainterPath per tile and style."""

    items: list[VisibleItem] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    qrects: list[QRectF] = field(default_factory=list)
    openable: list[bool] = field(default_factory=list)
    families: list[str] = field(default_factory=list)
    box_order: np.ndarray = field(default_factory=_order)
    box_bounds: np.ndarray = field(default_factory=_empty)
    leaf_order: np.ndarray = field(default_factory=_order)
    leaf_bounds: np.ndarray = field(default_factory=_empty)
    port_order: np.ndarray = field(default_factory=_order)
    port_bounds: np.ndarray = field(default_factory=_empty)
    routes: list[Route] = field(default_factory=list)
    paths: list[tuple[str, QPainterPath]] = field(default_factory=list)  # style, path
    tips: np.ndarray = field(default_factory=lambda: np.empty((0, 3)))
    tip_bounds: np.ndarray = field(default_factory=_empty)
    label_at: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    label_bounds: np.ndarray = field(default_factory=_empty)
    route_styles: list[str] = field(default_factory=list)
    box_depth: np.ndarray = field(default_factory=_order)  # per item: its scope depth
    family_codes: np.ndarray = field(default_factory=_order)  # per item: family_names[code]
    family_names: list[str] = field(default_factory=list)


def scene_data(view: ViewLayout, texts: dict[str, tuple[str, str]]) -> SceneData:
    """Everything the scene needs to draw ``view``; ``texts`` are the nodes' variable
    texts (GraphLoader.texts_for), which change how a node is drawn."""
    data = SceneData()
    with gc_paused():  # hundreds of thousands of small objects
        _items(data, view, texts)
        _edges(data, view.layout.routes)
    return data


def _items(data: SceneData, view: ViewLayout, texts: dict) -> None:
    rects, shown = view.layout.rects, view.layout.items
    graph = view.loaded.graph
    items = data.items = [shown[i] for i in rects]
    data.index = {it.id: k for k, it in enumerate(items)}
    arr = floats(rects.values(), 4)
    data.qrects = [QRectF(*r) for r in arr.tolist()]
    kinds = [it.kind for it in items]
    openable = []
    for it in items:
        node = graph.index.get(it.name) if it.kind == "op" else None
        openable.append(node is not None and bool(graph.nodes[node].callees))
    data.openable = openable
    data.families = [family(it, o, it.name in texts) for it, o in zip(items, openable, strict=True)]
    names = {name: k for k, name in enumerate(sorted(set(data.families)))}
    data.family_names = list(names)
    data.family_codes = np.array([names[f] for f in data.families], dtype=np.int64)
    data.box_depth = np.array([it.name.count("/") for it in items], dtype=np.int64)
    bounds = np.column_stack([arr[:, 0], arr[:, 1], arr[:, 0] + arr[:, 2], arr[:, 1] + arr[:, 3]])
    bounds[:, 2:] += 3.0  # a collapsed scope's stacked card

    def group(wanted, key=None):
        order = [k for k, kind in enumerate(kinds) if kind in wanted]
        if key is not None:
            order.sort(key=key)
        order = np.array(order, dtype=np.int64)
        return order, bounds[order] if len(order) else _empty()

    data.box_order, data.box_bounds = group(("expanded",), key=lambda k: items[k].name.count("/"))
    data.leaf_order, data.leaf_bounds = group(LEAVES)
    data.port_order, data.port_bounds = group(("in", "out"))


def floats(rows, width: int) -> np.ndarray:
    """Equal-length tuples as an (n, width) float array; np.fromiter over the chained values
    is ten times faster than np.array on 140,000 Rect tuples, which it inspects one by one."""
    rows = list(rows)
    flat = itertools.chain.from_iterable(rows)
    return np.fromiter(flat, dtype=float, count=len(rows) * width).reshape(-1, width)


def add_route(path: QPainterPath, points: list[tuple[float, float]]) -> None:
    """Straight down through rows, S-curves across the gaps between them."""
    x0, y0 = points[0]
    path.moveTo(x0, y0)
    for x1, y1 in points[1:]:
        if x1 == x0:
            path.lineTo(x1, y1)
        else:
            ym = (y0 + y1) / 2
            path.cubicTo(x0, ym, x1, ym, x1, y1)
        x0, y0 = x1, y1


def route_style(route: Route) -> str:
    """How an edge is drawn: a loop's feedback, a control edge, or data by its width."""
    if route.feedback:
        return "feedback"
    if route.edge.control:
        return "control"
    return "data" if route.edge.count == 1 else ("data2" if route.edge.count < 5 else "data3")


def _edges(data: SceneData, routes: list[Route]) -> None:
    data.routes = [r for r in routes if len(r.points) >= 2]
    paths: dict[tuple, QPainterPath] = {}
    tips, labels, styles = [], [], []
    for r in data.routes:
        pts = r.points
        style = route_style(r)
        x0, y0 = pts[0]
        key = (int(x0 // TILE), int(y0 // TILE), style)
        path = paths.get(key)
        if path is None:
            path = paths[key] = QPainterPath()
        add_route(path, pts)
        (_, yp), (xt, yt) = pts[-2], pts[-1]
        tips.append((xt, yt, 1.0 if yt >= yp else -1.0))
        labels.append((x0, y0))
        styles.append(style)
    data.paths = [(style, path) for (_, _, style), path in paths.items()]
    data.tips = t = floats(tips, 3)
    data.label_at = la = floats(labels, 2)
    data.route_styles = styles
    data.tip_bounds = np.column_stack([t[:, 0] - 4, t[:, 1] - 8, t[:, 0] + 4, t[:, 1] + 8])
    data.label_bounds = np.column_stack([la[:, 0], la[:, 1], la[:, 0] + 140, la[:, 1] + 16])
