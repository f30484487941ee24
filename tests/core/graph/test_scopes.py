"""The name-scope hierarchy and the graph as shown, checked against brute-force counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from smlens.core import open_model
from smlens.core.formats import proto
from smlens.core.formats.convert import convert_node
from smlens.core.graph.build import build_graph
from smlens.core.graph.scopes import (
    build_hierarchy,
    default_expanded,
    expand_all,
    in_port_id,
    out_port_id,
    reveal,
    scope_id,
    visible_graph,
)
from smlens.core.model import Graph, MetaGraph, Model

CASES = [
    ("tf1_multi_tag", None),
    ("tf1_while", None),
    ("frozen_graph", None),
    ("keras_export", "__inference___call__"),
    ("control_flow", "while_body"),
]


def _graph(models, name: str, function_prefix: str | None):
    model = open_model(models.path(name))
    mg = model.meta_graphs[0]
    fn = None
    if function_prefix:
        fn = next(f for f in mg.functions if f.startswith(function_prefix))
    return build_graph(model, mg, fn)


def _synthetic(names_and_inputs: list[tuple[str, list[str]]], dtypes: dict | None = None):
    """A main graph of Placeholders (no inputs) and Identities, typed float unless
    ``dtypes`` gives a node another DataType enum."""
    nodes = []
    for name, inputs in names_and_inputs:
        node_def = proto.NodeDef(name=name, op="Identity" if inputs else "Placeholder")
        node_def.input.extend(inputs)
        node_def.attr["T" if inputs else "dtype"].type = (dtypes or {}).get(name, 1)
        nodes.append(convert_node(node_def))
    mg = MetaGraph(tags=[], signatures={}, graph=Graph(nodes=nodes, functions={}))
    return build_graph(Model(path=Path("."), format="graph_def"), mg)


def _inside(path: str, node: str, hierarchy, graph) -> bool:
    return path == "" or path in hierarchy.ancestors(graph, node)


@pytest.mark.parametrize(("name", "fn"), CASES)
def test_hierarchy_round_trips_node_names(models, name, fn):
    graph = _graph(models, name, fn)
    h = build_hierarchy(graph)
    names = h.node_names(graph)
    assert sorted(names) == sorted(n.name for n in graph.nodes)
    assert len(names) == len(set(names))
    for node in names:
        scopes = h.ancestors(graph, node)
        assert all(node.startswith(s + "/") or node == s for s in scopes)
        # The innermost scope is the name's own prefix, or the name itself when other nodes
        # live under it (TF1's "w" beside "w/read").
        parent = node.rsplit("/", 1)[0] if "/" in node else ""
        assert (scopes[-1] if scopes else "") in (parent, node)


def test_a_node_named_like_a_scope_goes_inside_it():
    graph = _synthetic([("w", []), ("w/read", ["w"]), ("x", ["w/read"])])
    h = build_hierarchy(graph)
    assert h.ancestors(graph, "w") == ["w"]
    assert sorted(graph.nodes[i].name for i in h.scopes["w"].nodes) == ["w", "w/read"]


@pytest.mark.parametrize(("name", "fn"), CASES)
def test_scope_counts_match_brute_force(models, name, fn):
    graph = _graph(models, name, fn)
    h = build_hierarchy(graph)
    members = {path: set() for path in h.scopes}
    for n in graph.nodes:
        for path in ["", *h.ancestors(graph, n.name)]:
            members[path].add(n.name)
    for path, scope in h.scopes.items():
        inside = members[path]
        assert scope.op_count == len(inside)
        ends = [
            (graph.nodes[e.src].name in inside, graph.nodes[e.dst].name in inside)
            for e in graph.edges
        ]
        assert scope.in_edges == sum(1 for s, d in ends if d and not s), path
        assert scope.out_edges == sum(1 for s, d in ends if s and not d), path


@pytest.mark.parametrize(("name", "fn"), CASES)
def test_collapsed_view_folds_every_crossing_edge_once(models, name, fn):
    graph = _graph(models, name, fn)
    h = build_hierarchy(graph)
    view = visible_graph(graph, h, set())
    assert list(view.boxes) == [""]
    top = view.boxes[""]

    def top_item(node: str) -> str:
        scopes = h.ancestors(graph, node)
        return scope_id(scopes[0]) if scopes else node

    expected = Counter()
    for e in graph.edges:
        a, b = top_item(graph.nodes[e.src].name), top_item(graph.nodes[e.dst].name)
        if a != b:
            expected[(a, b)] += 1
    assert {(e.src, e.dst): e.count for e in top.edges} == dict(expected)
    ids = {it.id for it in top.items}
    assert all(e.src in ids and e.dst in ids for e in top.edges)
    assert sum(it.op_count for it in top.items) == len(graph.nodes)


def test_folded_edges_keep_a_uniform_dtype_and_mark_control_edges():
    nodes = [("a", []), ("i", []), ("s/b", ["a"]), ("s/c", ["a", "^a"]), ("d", ["^s/c"])]
    nodes += [("t/e", ["a"]), ("t/f", ["i"])]
    graph = _synthetic(nodes, dtypes={"i": 3})
    h = build_hierarchy(graph)
    edges = {(e.src, e.dst): e for e in visible_graph(graph, h, set()).boxes[""].edges}
    into = edges[("a", "s/")]
    assert into.count == 3 and not into.control and into.dtype == "DT_FLOAT"
    assert edges[("s/", "d")].control and edges[("s/", "d")].dtype == ""
    assert edges[("i", "t/")].dtype == "DT_INT32"
    mixed = visible_graph(graph, h, {"t"}).boxes["t"].edges
    assert [e.dtype for e in mixed if e.src == "t/(in)"] == ["DT_FLOAT", "DT_INT32"]


@pytest.mark.parametrize(("name", "fn"), CASES)
def test_expanded_boxes_show_crossing_edges_through_their_ports(models, name, fn):
    graph = _graph(models, name, fn)
    h = build_hierarchy(graph)
    view = visible_graph(graph, h, expand_all(h))
    assert set(view.boxes) == set(h.scopes)
    assert sum(
        1 for b in view.boxes.values() for it in b.items if it.kind in ("op", "arg", "ret")
    ) == len(graph.nodes)
    for path, box in view.boxes.items():
        if not path:
            continue
        scope = h.scopes[path]
        into = sum(e.count for e in box.edges if e.src == in_port_id(path))
        out_of = sum(e.count for e in box.edges if e.dst == out_port_id(path))
        assert (into, out_of) == (scope.in_edges, scope.out_edges), path
    # Fully expanded, the edges between two nodes are exactly the graph's edges.
    pairs = Counter()
    for box in view.boxes.values():
        for e in box.edges:
            if e.src in graph.index and e.dst in graph.index:
                pairs[(e.src, e.dst)] += e.count
    assert sum(pairs.values()) == sum(
        1 for e in graph.edges if h.node_scope[e.src] is h.node_scope[e.dst]
    )


def test_box_keys_change_only_along_the_expanded_path():
    graph = _synthetic([("x", []), ("a/p/1", ["x"]), ("a/q/1", ["a/p/1"]), ("b/p/1", ["a/q/1"])])
    h = build_hierarchy(graph)
    before = visible_graph(graph, h, {"a", "b"})
    after = visible_graph(graph, h, {"a", "b", "a/p"})
    assert before.boxes["b"].key == after.boxes["b"].key
    assert before.boxes["a"].key != after.boxes["a"].key
    assert before.boxes[""].key != after.boxes[""].key
    assert "a/p" in after.boxes and "a/p" not in before.boxes
    kinds = {it.id: it.kind for it in after.boxes["a"].items}
    assert kinds["a/p/"] == "expanded" and kinds["a/q/"] == "scope"


def test_an_expanded_scope_inside_a_collapsed_one_is_not_shown():
    graph = _synthetic([("a/b/c", []), ("a/d", ["a/b/c"])])
    h = build_hierarchy(graph)
    assert set(visible_graph(graph, h, {"a/b"}).boxes) == {""}


def test_default_expansion_opens_small_graphs_and_keeps_large_ones_at_the_top_level():
    small = _synthetic([("x", []), ("s/a", ["x"]), ("s/t/b", ["s/a"])])
    h = build_hierarchy(small)
    assert default_expanded(h) == {"s", "s/t"}

    nodes = [("x", [])] + [(f"block_{b}/op_{i}", ["x"]) for b in range(300) for i in range(3)]
    large = _synthetic(nodes)
    h = build_hierarchy(large)
    expanded = default_expanded(h)
    assert expanded == set()
    shown = visible_graph(large, h, expanded)
    assert shown.item_count() == 2  # x, and the 300 alike blocks as one series box
    assert [it.label for it in shown.boxes[""].items if it.kind == "series"] == [
        "block_[0-299] \N{MULTIPLICATION SIGN}300"
    ]
    assert visible_graph(large, h, default_expanded(h, limit=400)).item_count() <= 400


def test_reveal_opens_every_scope_around_a_node():
    graph = _synthetic([("a/b/c", []), ("a/d", [])])
    h = build_hierarchy(graph)
    assert reveal(h, graph, set(), "a/b/c") == {"a", "a/b"}
    assert "a/b/c" in visible_graph(graph, h, reveal(h, graph, set(), "a/b/c")).items
