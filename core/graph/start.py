"""Where a graph's dataflow starts, and the first screen the graph view opens on.

A graph opens where a reader starts reading it: a signature's inputs; else, for a graph
without signatures (a frozen GraphDef, a ``.meta``), its feeds (Placeholder nodes); else
its sources. The first screen shows them at a readable zoom with the layers below them:
on a TF1 graph, whose save, restore and init plumbing can make the top level many
screens wide, the top-left corner of the graph is usually blank canvas.

``feed_nodes`` reads op types only; a fuller feed detection can replace it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from smlens.core.graph.build import OpGraph
from smlens.core.graph.layout import Layout, Rect
from smlens.core.graph.scopes import Hierarchy
from smlens.core.model import MetaGraph, Signature, TensorInfo

FEED_OPS = frozenset({"Placeholder", "PlaceholderV2", "PlaceholderWithDefault"})
_CONSTANTS = frozenset({"Const", "HostConst"})
# Not where dataflow starts: constants and variables feed ops, they are not inputs.
_NOT_SOURCES = _CONSTANTS | {"VarHandleOp", "VariableV2", "Variable", "VarHandleOpV2", "NoOp"}
# tf.train.Saver's default scopes: "save", "save_1", ... (its filename feed lives there).
_SAVER_SCOPE = re.compile(r"^save(_\d+)?$")
MAX_STARTS = 200  # more starts than this add nothing to a first screen

LEAF_KINDS = frozenset({"op", "arg", "ret", "scope", "series"})  # drawn as one box each
READABLE = 0.7  # the smallest zoom at which node labels still read
SCALES = (1.0, 0.85, READABLE)  # tried largest first
ENOUGH = 10  # items that make a first screen full enough at its zoom (an input and nine)
TOP_MARGIN = 24.0  # screen pixels above the first start
INSET = 6.0  # screen pixels kept free at the sides: the view scrolls by whole pixels


@dataclass(frozen=True)
class Starts:
    """The nodes a graph's dataflow starts from, and how they were found."""

    how: str = ""  # "inputs" (signature or function arguments) | "feeds" | "sources" | ""
    nodes: tuple[int, ...] = ()  # node ids, at most MAX_STARTS


@dataclass(frozen=True)
class StartView:
    """The first screen: a zoom and the scene point at the viewport's centre."""

    scale: float
    center: tuple[float, float]


# --- Where dataflow starts ----------------------------------------------------------------


def _saver_scopes(meta_graph: MetaGraph | None) -> set[str]:
    """Top-level scopes of the meta graph's Saver (from its filename tensor)."""
    saver = meta_graph.saver if meta_graph is not None else None
    if saver is None or "/" not in saver.filename_tensor_name:
        return set()
    return {saver.filename_tensor_name.split("/", 1)[0]}


def _is_plumbing(name: str, saver_scopes: set[str]) -> bool:
    top = name.split("/", 1)[0]
    return "/" in name and (top in saver_scopes or bool(_SAVER_SCOPE.match(top)))


_VARIABLE_OPS = frozenset({"VarHandleOp", "VariableV2", "Variable", "VarHandleOpV2"})


def plumbing_scopes(graph: OpGraph, hierarchy: Hierarchy) -> frozenset[str]:
    """The scopes a first screen keeps shut, as TensorBoard sets them aside: the top-level
    Saver scopes (``save``, ``save_1``: SaveV2, RestoreV2 and their Identity fan) and each
    TF1 variable's own scope (``dense/kernel`` around the VarHandleOp ``dense/kernel``: its
    initializer, IsInitialized check, Assign and Read). Shut, a variable's scope is one box
    with the variable's edge into the dataflow; the layers themselves stay open."""
    found = {
        path for path in hierarchy.scopes if path and "/" not in path and _SAVER_SCOPE.match(path)
    }
    for node in graph.nodes:
        if node.kind == "op" and node.op in _VARIABLE_OPS and node.name in hierarchy.scopes:
            found.add(node.name)
    return frozenset(found)


def feed_nodes(graph: OpGraph, meta_graph: MetaGraph | None = None) -> list[int]:
    """Placeholder nodes a caller feeds, by op type, leaving out the Saver's own
    (``save/filename``, ``save/Const``): a checkpoint path is no model input."""
    scopes = _saver_scopes(meta_graph)
    return [
        i
        for i, n in enumerate(graph.nodes)
        if n.kind == "op" and n.op in FEED_OPS and not _is_plumbing(n.name, scopes)
    ]


def source_nodes(graph: OpGraph, meta_graph: MetaGraph | None = None) -> list[int]:
    """Ops whose data inputs are constants only (or none), constants, variables and the
    Saver's plumbing left out: where a graph with no feeds (a training graph reading a
    dataset) starts computing."""
    scopes = _saver_scopes(meta_graph)
    nodes = graph.nodes
    found = []
    for i, n in enumerate(nodes):
        if n.kind != "op" or n.op in _NOT_SOURCES or _is_plumbing(n.name, scopes):
            continue
        inputs = (graph.edges[k] for k in graph.in_edges[i])
        if all(nodes[e.src].op in _CONSTANTS for e in inputs if not e.control):
            found.append(i)
    return found


def _tensor_names(info: TensorInfo) -> list[str]:
    if info.encoding == "coo_sparse" and info.coo_sparse:
        return list(info.coo_sparse)
    if info.encoding == "composite":
        return [n for c in info.components for n in _tensor_names(c)]
    return [info.name] if info.name else []


def signature_nodes(graph: OpGraph, signature: Signature) -> list[int]:
    """The nodes producing a TF1 signature's input tensors ("x:0" is node x)."""
    found: list[int] = []
    for info in signature.inputs.values():
        for name in _tensor_names(info):
            i = graph.index.get(name.lstrip("^").rsplit(":", 1)[0])
            if i is not None and i not in found:
                found.append(i)
    return found


def argument_nodes(graph: OpGraph) -> list[int]:
    """A function's arguments that carry data: captured variables and resources left out."""
    found = []
    for i, n in enumerate(graph.nodes):
        if n.kind != "arg" or n.variable_key:
            continue
        types = graph.outputs(i)
        if not types or types[0].dtype != "DT_RESOURCE":
            found.append(i)
    return found


def start_nodes(
    graph: OpGraph, meta_graph: MetaGraph | None = None, signature_key: str = ""
) -> Starts:
    """Where the dataflow of ``graph`` starts: the signature's inputs (a TF1 signature on
    the main graph, named by ``signature_key``) or the function's arguments; else the
    feeds; else the sources."""
    signature = meta_graph.signatures.get(signature_key) if meta_graph is not None else None
    if graph.function:
        found, how = argument_nodes(graph), "inputs"
    elif signature is not None:
        found, how = signature_nodes(graph, signature), "inputs"
    else:
        found, how = [], ""
    if not found:
        found, how = feed_nodes(graph, meta_graph), "feeds"
    if not found:
        found, how = source_nodes(graph, meta_graph), "sources"
    return Starts(how if found else "", tuple(found[:MAX_STARTS]))


# --- The first screen ---------------------------------------------------------------------


def _best_left(lefts: np.ndarray, rights: np.ndarray, lo: float, hi: float, want: float):
    """The window left edge in [lo, hi] inside the most of the intervals [lefts, rights]
    (each: the left edges at which one item is in the window), nearest ``want`` among
    equals; returns (left, count)."""
    keep = (rights >= lo) & (lefts <= hi)
    starts, ends = np.maximum(lefts[keep], lo), np.minimum(rights[keep], hi)
    if not len(starts):
        return min(max(want, lo), hi), 0
    # A sweep over the interval ends: +1 where one opens, -1 just after one closes.
    points = np.concatenate([starts, ends])
    deltas = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((-deltas, points))  # at one point, openings before closings
    points, counts = points[order], np.cumsum(deltas[order])
    best = counts.max()
    segments = [
        (points[k], points[k + 1] if k + 1 < len(points) else points[k])
        for k in np.flatnonzero(counts == best)
    ]
    left = min((min(max(want, a), b) for a, b in segments), key=lambda x: abs(x - want))
    return float(left), int(best)


def start_view(
    layout: Layout,
    start_ids: list[str],
    width: float,
    height: float,
    scales: tuple[float, ...] = SCALES,
    boxes: np.ndarray | None = None,
) -> StartView:
    """The first screen of ``layout`` in a viewport of ``width`` x ``height`` pixels.

    The whole graph, when it fits at a readable zoom. Else the topmost of ``start_ids``
    (the shown items holding the start nodes; the topmost item of all when none is shown)
    near the top of the view, and the window beside it placed to hold the most items:
    at the largest zoom of ``scales`` showing ENOUGH items, else at the one showing most.
    ``boxes``: the drawn items' rectangles as rows of x, y, w, h, when the caller has them
    (the scene does, made off the UI thread); else they are read from ``layout``.
    """
    if layout.width <= 0 or layout.height <= 0 or width <= 0 or height <= 0:
        return StartView(1.0, (layout.width / 2, layout.height / 2))
    fit = min(width / layout.width, height / layout.height)
    if fit >= min(scales):
        return StartView(min(max(scales), fit), (layout.width / 2, layout.height / 2))
    if boxes is None:
        leaves = [r for k, r in layout.rects.items() if layout.items[k].kind in LEAF_KINDS]
        boxes = np.array(leaves, dtype=float).reshape(-1, 4)
    anchors = [layout.rects[k] for k in start_ids if k in layout.rects]
    if not anchors:
        anchors = [Rect(*row) for row in boxes.tolist()] or list(layout.rects.values())
    if not anchors:
        return StartView(1.0, (layout.width / 2, layout.height / 2))
    anchor = min(anchors, key=lambda r: (r.y, abs(r.cx - layout.width / 2)))
    best: tuple[int, float, StartView] | None = None
    for scale in sorted(scales, reverse=True):
        inset = INSET / scale
        w, h = width / scale, height / scale
        count, (left, top) = _window(boxes, anchor, w - 2 * inset, h - inset, TOP_MARGIN / scale)
        candidate = StartView(scale, (left - inset + w / 2, top + h / 2))
        if count >= ENOUGH:
            return candidate
        if best is None or count > best[0]:
            best = (count, scale, candidate)
    return best[2]


def _window(boxes: np.ndarray, anchor: Rect, w: float, h: float, margin: float):
    """(items inside, (left, top)) of the w x h window with ``anchor`` near its top,
    placed sideways to hold the most items of ``boxes`` (rows of x, y, w, h)."""
    top = anchor.y - margin
    x, y, bw, bh = boxes.T
    inside = (y >= top) & (y + bh <= top + h) & (bw <= w)
    lefts, rights = x[inside] + bw[inside] - w, x[inside]
    if anchor.w + 2 * margin >= w:  # wider than the view: its left end
        left = anchor.x - margin
        return int(((lefts <= left) & (left <= rights)).sum()), (left, top)
    lo, hi = anchor.x + anchor.w + margin - w, anchor.x - margin
    left, count = _best_left(lefts, rights, lo, hi, anchor.cx - w / 2)
    return count, (left, top)
