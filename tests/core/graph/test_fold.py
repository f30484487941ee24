"""Weights inside their nodes, and a first view that shows the model: folding checked against
the graph's own edges, on Keras (TF2) and TF1 exports, without a window."""

from __future__ import annotations

from pathlib import Path

import pytest

from smlens.core import open_model
from smlens.core.formats import proto
from smlens.core.formats.convert import convert_node
from smlens.core.graph.build import build_graph
from smlens.core.graph.fold import VARIABLE_OPS, fold_weights
from smlens.core.graph.layout import layout_graph
from smlens.core.graph.nav import GraphRef, LoadedGraph, lay_out, load_graph, signature_place
from smlens.core.graph.scopes import build_hierarchy, default_expanded, natural_key, visible_graph
from smlens.core.model import Graph, MetaGraph, Model
from tests.core.graph.synthetic import loaded, main_graph


def _serving(models, name: str):
    model = open_model(models.path(name))
    mg = model.meta_graphs[0]
    return model, load_graph(model, mg, signature_place(mg, "serving_default").ref)


def test_no_captured_variable_is_a_node_and_each_is_a_row_of_its_consumer(models):
    model, lg = _serving(models, "keras_export")
    graph, folding = lg.graph, lg.hierarchy.folding
    captured = [i for i, n in enumerate(graph.nodes) if n.kind == "arg" and n.variable_key]
    assert len(captured) == 4  # 2 Dense layers: kernel and bias
    shown = visible_graph(graph, lg.hierarchy, set(lg.hierarchy.scopes) - {""}).items
    for i in captured:
        assert graph.nodes[i].name not in shown
        host = folding.shown(i)
        assert graph.nodes[host].name in shown and graph.nodes[host].kind == "op"
        assert graph.nodes[i].variable_key in {w.key for w in folding.weights[host]}
        # The host is where the variable's value really goes: follow the reads down.
        j = i
        while j != host:
            (k,) = [k for k in graph.out_edges[j] if not graph.edges[k].control]
            j = graph.edges[k].dst
    assert not any(n.op == "ReadVariableOp" and n.name in shown for n in graph.nodes)
    kernel = next(r for r in lg.rows("sequential_1/dense_1/MatMul") if r.label == "kernel")
    var = next(v for v in model.variables if v.key == kernel.key)
    assert kernel.text.split()[-1] == "float32"
    assert kernel.text.split()[0].split("\N{MULTIPLICATION SIGN}") == [
        str(d) for d in var.shape.dims
    ]


def test_tf1_variables_fold_through_their_reads(models):
    model = open_model(models.path("tf1_multi_tag"))
    mg = model.meta_graphs[0]
    lg = load_graph(model, mg, GraphRef(mg.tag_set))
    graph, folding = lg.graph, lg.hierarchy.folding
    variables = {i for i, n in enumerate(graph.nodes) if n.op in VARIABLE_OPS}
    reads = [
        i
        for i, n in enumerate(graph.nodes)
        if n.op in ("ReadVariableOp", "Identity")
        and any(graph.edges[k].src in variables for k in graph.in_edges[i])
        and len({graph.edges[k].dst for k in graph.out_edges[i]}) == 1
    ]
    assert len(reads) >= 2  # w and b of the TF1 model, read by MatMul and add
    consumers = set()
    for i in reads:
        host = folding.shown(i)
        assert host != i and graph.nodes[host].op not in VARIABLE_OPS
        assert graph.nodes[i].variable_key in {w.key for w in folding.weights[host]}
        consumers.add(graph.nodes[host].op)
    assert "MatMul" in consumers
    # A variable read in several places (init, save, serving) stays a node of its own.
    assert all(i not in folding.host for i in variables)


def test_folding_keeps_every_node_findable_and_counts_every_edge_once(models):
    _model, lg = _serving(models, "keras_export")
    graph, h = lg.graph, lg.hierarchy
    names = set(h.node_names(graph))
    assert names == {n.name for n in graph.nodes}  # folded nodes too: search reaches them
    for i in h.folding.host:
        assert h.ancestors(graph, graph.nodes[i].name) == h.ancestors(
            graph, graph.nodes[h.folding.shown(i)].name
        )


def test_small_constants_show_their_values_inline():
    nodes = []
    for name, op, inputs in (
        ("x", "Placeholder", []),
        ("shape", "Const", []),
        ("big", "Const", []),
        ("r", "Reshape", ["x", "shape"]),
        ("m", "Mul", ["r", "big"]),
    ):
        node_def = proto.NodeDef(name=name, op=op)
        node_def.input.extend(inputs)
        node_def.attr["T" if inputs else "dtype"].type = 1
        if op == "Const":
            values = [1, 4] if name == "shape" else list(range(12))
            node_def.attr["dtype"].type = 3  # DT_INT32
            tensor = node_def.attr["value"].tensor
            tensor.dtype = 3
            tensor.tensor_shape.dim.add().size = len(values)
            tensor.int_val.extend(values)
        nodes.append(convert_node(node_def))
    mg = MetaGraph(tags=[], signatures={}, graph=Graph(nodes=nodes, functions={}))
    graph = build_graph(Model(path=Path("."), format="graph_def"), mg)
    h = build_hierarchy(graph, fold_weights(graph))
    lg = LoadedGraph(GraphRef(""), graph, h)
    assert [(r.label, r.text) for r in lg.rows("r")] == [("shape", "= [1, 4]")]
    assert [(r.label, r.text) for r in lg.rows("m")] == [("big", "12 int32")]
    assert {it for it in visible_graph(graph, h, set()).items} == {"x", "r", "m"}


def test_the_signature_input_is_laid_out_above_its_output(models):
    for name in ("keras_export", "module_multi_sig"):
        _model, lg = _serving(models, name)
        view = lay_out(lg, default_expanded(lg.hierarchy))
        rects = view.layout.rects
        args = [n.name for n in lg.graph.nodes if n.kind == "arg" and n.name in rects]
        rets = [n.name for n in lg.graph.nodes if n.kind == "ret"]
        assert args and rets
        assert max(rects[a].y for a in args) < min(rects[r].y for r in rets)
        assert len(view.visible.items) < 60  # no rows of handles


def test_a_lone_wrapper_scope_opens_on_its_own():
    names = [("x", [])] + [(f"model_1/layer_{k}/op", ["x"]) for k in range(1200)]
    lg = loaded(names)
    assert default_expanded(lg.hierarchy) == {"model_1"}  # 1200 layers: more than the limit


def test_scopes_sort_naturally():
    lg = loaded([(f"block_{k}/op", []) for k in (10, 2, 100, 1, 0)])
    assert [s.label for s in lg.hierarchy.root.children] == [
        "block_0",
        "block_1",
        "block_2",
        "block_10",
        "block_100",
    ]
    assert sorted(["a10b2", "a2b10", "a2b9"], key=natural_key) == ["a2b9", "a2b10", "a10b2"]


@pytest.mark.parametrize("fold", [True, False])
def test_unfolded_graphs_show_every_node(models, fold):
    model = open_model(models.path("keras_export"))
    mg = model.meta_graphs[0]
    lg = load_graph(model, mg, signature_place(mg, "serving_default").ref, fold=fold)
    items = visible_graph(lg.graph, lg.hierarchy, set(lg.hierarchy.scopes) - {""}).items
    shown = {n.name for n in lg.graph.nodes if n.name in items}
    assert (len(shown) == len(lg.graph.nodes)) is (not fold)
    layout_graph(visible_graph(lg.graph, lg.hierarchy, set()))


def test_fold_weights_is_linear_and_leaves_unrelated_graphs_alone():
    names = [("x", [])] + [(f"n{k}", [f"n{k - 1}" if k else "x"]) for k in range(2000)]
    graph = main_graph(names)
    assert not fold_weights(graph)
    h = build_hierarchy(graph, fold_weights(graph))
    assert h.root.op_count == len(graph.nodes)


def test_a_read_nothing_uses_hides_with_its_variable():
    names = [("x", []), ("v", []), ("unused", ["v"]), ("read", ["v"]), ("mm", ["x", "read"])]
    ops = {"v": "VarHandleOp", "unused": "ReadVariableOp", "read": "ReadVariableOp", "mm": "MatMul"}
    graph = main_graph(names, ops)
    folding = fold_weights(graph)
    ids = graph.index
    assert folding.shown(ids["v"]) == ids["mm"]  # its one live read goes to MatMul
    assert folding.shown(ids["unused"]) == ids["mm"]
    assert [w.source for w in folding.weights[ids["mm"]]] == [ids["v"]]
    items = visible_graph(graph, build_hierarchy(graph, folding), set()).items
    assert set(items) == {"x", "mm"}
