"""The layered layout: no overlaps, edges pointing down except marked feedback, boxes cached."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from smlens.core import open_model
from smlens.core.formats import proto
from smlens.core.formats.convert import convert_node
from smlens.core.graph.build import build_graph
from smlens.core.graph.layout import (
    LayoutCache,
    Rect,
    default_size,
    layout_graph,
)
from smlens.core.graph.scopes import build_hierarchy, default_expanded, expand_all, visible_graph
from smlens.core.model import Graph, MetaGraph, Model
from smlens.core.tasks import Cancelled

CASES = [
    ("tf1_multi_tag", None),
    ("tf1_while", None),
    ("keras_export", "__inference___call__"),
    ("control_flow", "__inference___call__"),
    ("control_flow", "while_body"),
    ("list_outputs", "__inference___call__"),
]


def _graph(models, name: str, function_prefix: str | None):
    model = open_model(models.path(name))
    mg = model.meta_graphs[0]
    fn = next(f for f in mg.functions if f.startswith(function_prefix)) if function_prefix else None
    return build_graph(model, mg, fn)


def _synthetic(names_and_inputs: list[tuple[str, list[str]]], ops: dict | None = None):
    nodes = []
    for name, inputs in names_and_inputs:
        op = (ops or {}).get(name, "Identity" if inputs else "Placeholder")
        node_def = proto.NodeDef(name=name, op=op)
        node_def.input.extend(inputs)
        nodes.append(convert_node(node_def))
    mg = MetaGraph(tags=[], signatures={}, graph=Graph(nodes=nodes, functions={}))
    return build_graph(Model(path=Path("."), format="graph_def"), mg)


def _views(graph):
    h = build_hierarchy(graph)
    return h, [set(), default_expanded(h), expand_all(h)]


def _overlap(a: Rect, b: Rect) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def _encloses(outer: Rect, inner: Rect) -> bool:
    return (
        outer.x <= inner.x
        and outer.y <= inner.y
        and inner.x + inner.w <= outer.x + outer.w
        and inner.y + inner.h <= outer.y + outer.h
    )


@pytest.mark.parametrize(("name", "fn"), CASES)
def test_no_two_items_overlap_and_boxes_enclose_their_items(models, name, fn):
    graph = _graph(models, name, fn)
    h, views = _views(graph)
    for expanded in views:
        view = visible_graph(graph, h, expanded)
        layout = layout_graph(view)
        assert set(layout.rects) == set(view.items)
        for path, box in view.boxes.items():
            rects = [layout.rects[it.id] for it in box.items]
            for a, b in combinations(rects, 2):
                assert not _overlap(a, b), (path, a, b)
            if path:
                outer = layout.rects[path + "/"]
                assert all(_encloses(outer, r) for r in rects), path
        assert all(r.x >= 0 and r.y >= 0 for r in layout.rects.values())
        assert max(r.x + r.w for r in layout.rects.values()) <= layout.width + 1e-6
        assert max(r.y + r.h for r in layout.rects.values()) <= layout.height + 1e-6


@pytest.mark.parametrize(("name", "fn"), CASES)
def test_edges_point_down_except_feedback_edges(models, name, fn):
    graph = _graph(models, name, fn)
    h, views = _views(graph)
    for expanded in views:
        view = visible_graph(graph, h, expanded)
        layout = layout_graph(view)
        assert len(layout.routes) == sum(len(b.edges) for b in view.boxes.values())
        for route in layout.routes:
            ys = [y for _, y in route.points]
            src, dst = layout.rects[route.edge.src], layout.rects[route.edge.dst]
            if route.feedback:
                assert ys[0] > ys[-1]
                continue
            assert ys == sorted(ys), route
            assert src.y + src.h <= dst.y
            assert ys[0] == pytest.approx(src.y + src.h) and ys[-1] == pytest.approx(dst.y)


@pytest.mark.parametrize(("name", "fn"), CASES)
def test_routes_start_and_end_on_their_items(models, name, fn):
    graph = _graph(models, name, fn)
    h, _ = _views(graph)
    view = visible_graph(graph, h, expand_all(h))
    layout = layout_graph(view)
    for route in layout.routes:
        (x0, y0), (x1, y1) = route.points[0], route.points[-1]
        src, dst = layout.rects[route.edge.src], layout.rects[route.edge.dst]
        if route.feedback:
            (x0, y0), (x1, y1) = (x1, y1), (x0, y0)
            src, dst = dst, src
        assert src.x <= x0 <= src.x + src.w and y0 == pytest.approx(src.y + src.h)
        assert dst.x <= x1 <= dst.x + dst.w and y1 == pytest.approx(dst.y)


def _cuts_through(route, rect) -> bool:
    """Whether a route runs through the inside of ``rect``: routes are vertical inside a
    row and slant only in the gaps between rows, where no item is."""
    for (x0, y0), (x1, y1) in zip(route.points, route.points[1:], strict=False):
        top, bottom = max(min(y0, y1), rect.y), min(max(y0, y1), rect.y + rect.h)
        if bottom <= top:
            continue
        if x0 != x1 or rect.x < x0 < rect.x + rect.w:
            return True
    return False


@pytest.mark.parametrize(("name", "fn"), CASES)
def test_routes_never_cut_through_other_items(models, name, fn):
    """Also where an edge skips rows its own part of the box has no item in (args pinned to
    the top): igraph gets each connected part alone and leaves such rows out."""
    graph = _graph(models, name, fn)
    h, views = _views(graph)
    for expanded in views:
        view = visible_graph(graph, h, expanded)
        layout = layout_graph(view)
        for route in layout.routes:
            box = view.boxes[route.box]
            for it in box.items:
                if it.id not in (route.edge.src, route.edge.dst):
                    assert not _cuts_through(route, layout.rects[it.id]), (route.edge, it.id)


def test_tf1_while_loop_feedback_edges_are_marked(models):
    graph = _graph(models, "tf1_while", None)
    h = build_hierarchy(graph)
    layout = layout_graph(visible_graph(graph, h, expand_all(h)))
    feedback = sorted((r.edge.src, r.edge.dst) for r in layout.routes if r.feedback)
    assert feedback == [
        ("loop/while/NextIteration", "loop/while/Merge"),
        ("loop/while/NextIteration_1", "loop/while/Merge_1"),
    ]
    collapsed = layout_graph(visible_graph(graph, h, set()))
    assert not any(r.feedback for r in collapsed.routes)  # the loop is inside one box


def test_a_cycle_without_loop_ops_is_broken_at_one_edge():
    graph = _synthetic([("x", []), ("a", ["x", "c"]), ("b", ["a"]), ("c", ["b"]), ("y", ["c"])])
    layout = layout_graph(visible_graph(graph, build_hierarchy(graph), set()))
    assert sum(r.feedback for r in layout.routes) == 1
    y = {name: layout.rects[name].y for name in "xabcy"}
    assert y["x"] < min(y["a"], y["b"], y["c"]) and y["y"] > y["x"]


def test_inputs_sit_on_top_and_unused_outputs_under_their_input():
    """Args go to the top row and rets to the bottom; a node that feeds nothing is pulled up
    under its input rather than sinking to the bottom row."""
    names = [("x", []), ("a", ["x"]), ("b", ["a"]), ("c", ["b"]), ("d", ["c"]), ("side", ["a"])]
    graph = _synthetic(names)
    layout = layout_graph(visible_graph(graph, build_hierarchy(graph), set()))
    y = {name: layout.rects[name].y for name, _ in names}
    assert y["x"] < y["a"] < y["side"] < y["d"]
    assert y["side"] == y["b"]


def test_function_args_on_top_and_rets_at_the_bottom(models):
    graph = _graph(models, "control_flow", "__inference___call__")
    h = build_hierarchy(graph)
    layout = layout_graph(visible_graph(graph, h, set()))
    top = min(r.y for r in layout.rects.values())
    bottom = max(r.y for r in layout.rects.values())
    for n in graph.nodes:
        if n.kind == "arg":
            assert layout.rects[n.name].y == top
        if n.kind == "ret":
            assert layout.rects[n.name].y == bottom


def test_expanding_a_scope_lays_out_only_that_box_and_its_parents():
    nodes = [("x", [])]
    for b in range(4):
        for u in range(3):
            nodes.append((f"b{b}/u{u}/op", [nodes[-1][0]]))
    graph = _synthetic(nodes)
    h = build_hierarchy(graph)
    cache = LayoutCache()
    before = layout_graph(visible_graph(graph, h, {"b0", "b1"}), cache=cache)
    boxes = len(cache)
    calls = []

    def counting_size(item):
        calls.append(item.box)
        return default_size(item)

    after_view = visible_graph(graph, h, {"b0", "b1", "b1/u2"})
    after = layout_graph(after_view, cache=cache)
    assert len(cache) == boxes + 3  # b1/u2 itself, b1 and the top level

    def inside_b0(layout, item):
        r, box = layout.rects[item], layout.rects["b0/"]
        return r.x - box.x, r.y - box.y

    assert inside_b0(before, "b0/u1/") == inside_b0(after, "b0/u1/")
    layout_graph(after_view, size=counting_size, cache=cache)
    assert calls == []  # every box cached: nothing measured again
    layout_graph(after_view, size=counting_size, cache=LayoutCache())
    assert calls.count("b0") == len(after_view.boxes["b0"].items)


def test_identical_blocks_share_one_solved_shape():
    nodes = [("x", [])]
    for b in range(6):
        nodes += [(f"b{b}/p", ["x"]), (f"b{b}/q", [f"b{b}/p", "x"]), (f"b{b}/r", [f"b{b}/p"])]
    graph = _synthetic(nodes)
    h = build_hierarchy(graph)
    cache = LayoutCache()
    layout = layout_graph(visible_graph(graph, h, expand_all(h)), cache=cache)
    assert len(cache) == 7 and len(cache.templates) == 2  # six blocks, one shape; the top
    first, second = layout.rects["b0/"], layout.rects["b1/"]
    dx, dy = second.x - first.x, second.y - first.y
    for item in ("p", "q", "r"):
        a, b = layout.rects[f"b0/{item}"], layout.rects[f"b1/{item}"]
        assert (b.x - a.x, b.y - a.y) == pytest.approx((dx, dy))


def test_layout_reports_progress_and_can_be_cancelled(models):
    graph = _graph(models, "keras_export", "__inference___call__")
    h = build_hierarchy(graph)
    view = visible_graph(graph, h, expand_all(h))
    seen = []
    layout_graph(view, progress=lambda f, text: seen.append(f))
    assert seen and all(0 <= f <= 1 for f in seen)
    polls = []
    with pytest.raises(Cancelled):
        layout_graph(view, cancelled=lambda: polls.append(1) or len(polls) > 2)
    assert len(polls) == 3


def test_a_node_sits_over_the_middle_of_the_wide_scopes_it_feeds(models):
    """The .meta of a wide TF1 graph: ParseExample feeds 18 feature scopes 700 px wide each;
    drawn over their middle, not at the far left of a 13,000 px row (where igraph's unit
    positions, spread to the boxes' widths, left it: BALANCE_SWEEPS = 0 shows it)."""
    from tests.fixtures.wide_tf1 import FEATURES

    model = open_model(models.path("wide_meta") / "model.ckpt-100.meta")
    graph = build_graph(model, model.meta_graphs[0])
    h = build_hierarchy(graph)
    layout = layout_graph(visible_graph(graph, h, {"ParseExample", *FEATURES}))
    parse = layout.rects["ParseExample/"]
    features = [layout.rects[f"{name}/"] for name in FEATURES]
    middle = sum(r.cx for r in features) / len(features)
    span = max(r.x + r.w for r in features) - min(r.x for r in features)
    assert abs(parse.cx - middle) < span / 4
