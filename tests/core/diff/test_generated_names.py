"""Nodes whose names TensorFlow made up (``Const_4``, ``add_3``) pair by content and by their
place in the dataflow, never by the name alone (node_pairing.py); names a person gave pair by
name. The expected pairs come from the fixture's definition and TensorFlow's own reading of
the two GraphDefs (tf.make_ndarray), not from smlens."""

from __future__ import annotations

import numpy as np

from smlens.core.diff.function_matching import Hasher
from smlens.core.diff.model_diff import diff_models
from smlens.core.diff.node_pairing import Body, GeneratedNames, GraphContext, pair_nodes
from smlens.core.diff.report.text import render_diff
from smlens.core.formats import proto
from smlens.core.formats.convert import convert_node
from smlens.core.formats.reader import open_model
from smlens.core.model import Graph, MetaGraph, Model
from tests.fixtures.frozen_pairs import INSERTED, OFFSET_A, OFFSET_B


def _pairing(graph_a: Graph, graph_b: Graph) -> dict[str, str]:
    """B node -> A node for two main graphs, as the diff pairs them."""
    body = Body(Hasher(graph_a), Hasher(graph_b), {}, GraphContext(), "", "")
    return pair_nodes(graph_a.nodes, graph_b.nodes, body)


def _tf_constants(tf, path) -> dict[str, np.ndarray]:
    """Const node name -> value, as TensorFlow reads the GraphDef."""
    graph_def = tf.compat.v1.GraphDef.FromString(path.read_bytes())
    return {
        n.name: tf.make_ndarray(n.attr["value"].tensor) for n in graph_def.node if n.op == "Const"
    }


def _same(x: np.ndarray, y: np.ndarray) -> bool:
    return x.dtype == y.dtype and np.array_equal(x, y)


def test_shifted_constants_pair_by_value_and_place_not_by_number(models, tf):
    root = models.path("pair_shifted_constants")
    consts_a = _tf_constants(tf, root / "a" / "frozen.pb")
    consts_b = _tf_constants(tf, root / "b" / "frozen.pb")
    # The fixture's definition: each constant of A is the one of B holding the same value,
    # except the offset read by "sub" and the named temperature, whose values change; B's
    # inserted one is new.
    expected = {"temperature": "temperature"}
    for name_a, value_a in consts_a.items():
        if name_a == "temperature":
            continue
        wanted = np.float32(OFFSET_B) if _same(value_a, np.float32(OFFSET_A)) else value_a
        (name_b,) = [n for n, v in consts_b.items() if _same(v, wanted)]
        expected[name_b] = name_a
    (inserted,) = [n for n, v in consts_b.items() if _same(v, np.float32(INSERTED))]
    assert any(expected[b] != b for b in expected if b != "temperature")  # the numbers shifted

    a, b = open_model(root / "a" / "frozen.pb"), open_model(root / "b" / "frozen.pb")
    pairing = _pairing(a.meta_graphs[0].graph, b.meta_graphs[0].graph)
    assert {nb: na for nb, na in pairing.items() if nb in consts_b} == expected
    assert inserted not in pairing
    assert pairing["x"] == "x" and pairing["y"] == "y"

    diff = diff_models(a, b)
    changed_values = {c.path[2] for c in diff.changes(area="graph") if c.path[-1] == "value"}
    (offset_a,) = [n for n, v in consts_a.items() if _same(v, np.float32(OFFSET_A))]
    assert changed_values == {"temperature", offset_a}
    added = {c.path[2] for c in diff.changes(area="graph") if c.kind == "added"}
    assert inserted in added
    assert not [c for c in diff.changes(area="graph") if c.path[-1] == "dtype"]
    text = render_diff(diff, a, b)
    assert f"~ /{offset_a}/attrs/value: DT_FLOAT {OFFSET_A} -> DT_FLOAT {OFFSET_B}" in text


def _const(name: str, dtype: int, value: float):
    node_def = proto.message_class("tensorflow.NodeDef")(name=name, op="Const")
    node_def.attr["dtype"].type = dtype
    tensor = node_def.attr["value"].tensor
    tensor.dtype = dtype
    if dtype == 1:
        tensor.float_val.append(value)
    else:
        tensor.int_val.append(int(value))
    return convert_node(node_def)


def _op(name: str, op: str, inputs: list[str]):
    node_def = proto.message_class("tensorflow.NodeDef")(name=name, op=op)
    node_def.input.extend(inputs)
    node_def.attr["T"].type = 1
    return convert_node(node_def)


def _placeholder(name: str):
    node_def = proto.message_class("tensorflow.NodeDef")(name=name, op="Placeholder")
    node_def.attr["dtype"].type = 1
    return convert_node(node_def)


def _graph(nodes) -> Graph:
    return Graph(nodes=nodes, functions={})


def test_a_generated_name_over_other_content_and_other_readers_stays_unpaired():
    # A reshapes by an int Const_1; B raises to a float Const_1 in a node A lacks: the two
    # Const_1 share a number, nothing else.
    graph_a = _graph(
        [
            _placeholder("x"),
            _const("Const", 1, 2.0),
            _const("Const_1", 3, 4),
            _op("mul", "Mul", ["x", "Const"]),
            _op("Reshape", "Reshape", ["mul", "Const_1"]),
        ]
    )
    graph_b = _graph(
        [
            _placeholder("x"),
            _const("Const", 1, 2.0),
            _const("Const_1", 1, 9.0),
            _op("mul", "Mul", ["x", "Const"]),
            _op("pow", "Pow", ["mul", "Const_1"]),
        ]
    )
    pairing = _pairing(graph_a, graph_b)
    assert "Const_1" not in pairing
    assert pairing["Const"] == "Const" and pairing["mul"] == "mul" and pairing["x"] == "x"


def test_a_changed_generated_constant_at_the_same_place_is_a_changed_constant():
    # B's bias constant is numbered one higher (a constant made before it) and holds a new
    # value; it is still what the named "logits" adds: the same constant, changed.
    graph_a = _graph(
        [
            _placeholder("x"),
            _const("Const", 1, 2.0),
            _op("logits", "AddV2", ["x", "Const"]),
        ]
    )
    graph_b = _graph(
        [
            _placeholder("x"),
            _const("Const", 1, 5.0),
            _const("Const_1", 1, 3.0),
            _op("mul", "Mul", ["x", "Const"]),
            _op("logits", "AddV2", ["mul", "Const_1"]),
        ]
    )
    pairing = _pairing(graph_a, graph_b)
    assert pairing["Const_1"] == "Const"
    assert "Const" not in pairing and "mul" not in pairing
    assert pairing["logits"] == "logits"


def test_generated_names_are_the_numbered_and_their_unnumbered_siblings():
    names = GeneratedNames(["scope/Const", "scope/Const_1"], ["dense/MatMul", "temperature"])
    assert "scope/Const" in names and "scope/Const_1" in names and "add_3" in names
    assert "dense/MatMul" not in names and "temperature" not in names
    assert "other/Const" not in names


def test_a_model_of_generated_names_diffs_with_itself_as_no_change(models):
    path = models.path("pair_shifted_constants") / "b" / "frozen.pb"
    a, b = open_model(path), open_model(path)
    mg = MetaGraph(tags=[], signatures={}, graph=b.meta_graphs[0].graph)
    b_copy = Model(path=b.path, format=b.format, meta_graphs=[mg])
    pairing = _pairing(a.meta_graphs[0].graph, b_copy.meta_graphs[0].graph)
    assert pairing == {n.name: n.name for n in a.meta_graphs[0].graph.nodes}
