"""What a meta graph needs of a release, on graphs and a table made by hand (no TensorFlow):
which nodes count, and each kind of need and lack."""

from __future__ import annotations

from smlens.core.analysis.releases import ReleaseInfo, ReleaseTable, Version, lacking
from smlens.core.analysis.releases import required_release as needs_of
from smlens.core.formats import proto
from smlens.core.formats.convert import convert_node
from smlens.core.model import Function, Graph, MetaGraph

V = Version
TABLE = ReleaseTable(
    pinned="2.21.0",
    releases=(
        ReleaseInfo("2.4.4", 561, 0, 0),
        ReleaseInfo("2.10.1", 1205, 0, 0),
        ReleaseInfo("2.16.2", 1766, 0, 0),
        ReleaseInfo("2.21.0", 2474, 0, 0),
    ),
    not_fetched={},
    sources="wrappers",
    ops={
        "Placeholder": (V(2, 4), {}),
        "MatMul": (V(2, 4), {"grad_a": V(2, 16), "grad_b": V(2, 16)}),
        "StatelessShuffle": (V(2, 10), {}),
        "Identity": (V(2, 4), {}),
    },
    undated=frozenset({"_FusedConv2D"}),
    removed={"CompareAndBitpack": (V(2, 4), V(2, 5))},
)


def _node(name: str, op: str, **attrs):
    node_def = proto.NodeDef(name=name, op=op)
    for attr, value in attrs.items():
        if isinstance(value, bool):
            node_def.attr[attr].b = value
        else:
            node_def.attr[attr].type = value
    return convert_node(node_def)


def _meta_graph(*nodes, functions=None, min_consumer=0, producer=1766) -> MetaGraph:
    graph = Graph(list(nodes), functions or {}, producer=producer, min_consumer=min_consumer)
    return MetaGraph(["serve"], {}, graph)


def _function(name: str, *nodes) -> Function:
    return Function(name, [], [], list(nodes), {})


def test_an_attr_newer_than_its_op_sets_the_release_and_an_attr_at_default_says_so():
    mg = _meta_graph(
        _node("x", "Placeholder", dtype=1),
        _node("y", "MatMul", T=1, grad_a=True, grad_b=False),
        _node("z", "MatMul", T=1, grad_b=False),
    )

    found = needs_of(mg, TABLE)

    assert found.release == V(2, 16)
    assert [(n.attr, n.nodes, n.where, n.at_default) for n in found.set_by] == [
        ("grad_a", 1, "y", False),
        ("grad_b", 2, "y", True),
    ]
    assert found.stripped_release is None  # grad_a is set: stripping keeps it
    assert found.written_by == V(2, 16)
    assert "attr grad_a of op MatMul since 2.16" in found.text()


def test_only_attrs_at_their_default_set_it_and_stripping_them_needs_less():
    mg = _meta_graph(_node("y", "MatMul", T=1, grad_a=False), _node("s", "StatelessShuffle"))

    found = needs_of(mg, TABLE)

    assert (found.release, found.stripped_release) == (V(2, 16), V(2, 10))
    assert "exported with strip_default_attrs=True, >= 2.10" in found.text()


def test_function_nodes_count_and_calls_and_runtime_attrs_do_not():
    body = _function("body", _node("s", "StatelessShuffle", _class=1))
    mg = _meta_graph(
        _node("x", "Placeholder", dtype=1),
        _node("call", "body"),  # a node whose op names a function calls it
        functions={"body": body},
    )

    found = needs_of(mg, TABLE)

    assert found.release == V(2, 10)
    assert [(n.op, n.where) for n in found.set_by] == [("StatelessShuffle", "body/s")]
    assert found.custom == () and found.unknown_attrs == ()


def test_nothing_newer_than_the_oldest_release_checked():
    found = needs_of(_meta_graph(_node("x", "Placeholder", dtype=1)), TABLE)

    assert found.oldest_checked and found.needs == ()
    assert found.text().startswith("needs TensorFlow 2.4 or older")


def test_custom_undated_removed_and_unknown_are_each_their_own_lack():
    mg = _meta_graph(
        _node("c", "Custom>Op"),
        _node("f", "_FusedConv2D", T=1),
        _node("b", "CompareAndBitpack", T=1),
        _node("i", "Identity", T=1, colour=1),
        min_consumer=1500,
    )

    found = needs_of(mg, TABLE)
    at_5 = lacking(mg, V(2, 5), TABLE)
    at_16 = lacking(mg, V(2, 16), TABLE)

    assert found.custom == ("Custom>Op",)
    assert found.undated == ("_FusedConv2D",)
    assert found.unknown_attrs == (("Identity", "colour"),)
    assert found.until == V(2, 5)
    assert found.release == V(2, 16)  # min_consumer 1500 is read from 2.16 on
    assert not found.satisfiable
    assert [(n.kind, n.min_consumer) for n in at_5.graph_def] == [("graph_def", 1500)]
    assert at_5.ops == ()
    assert [n.op for n in at_16.ops] == ["CompareAndBitpack"]
    assert at_16.graph_def == ()
    for lacks in (at_5, at_16):
        assert lacks.custom == ("Custom>Op",)
        assert lacks.undated == ("_FusedConv2D",)
        assert lacks.anything


def test_the_producer_names_the_release_or_the_builds_between_releases():
    def writer(producer):
        mg = _meta_graph(_node("x", "Placeholder", dtype=1), producer=producer)
        return needs_of(mg, TABLE).graph_def_text()

    assert writer(1766) == "GraphDef producer 1766 (TensorFlow 2.16), min_consumer 0"
    assert writer(1300) == "GraphDef producer 1300 (a TensorFlow build after 2.10), min_consumer 0"
    assert writer(175) == "GraphDef producer 175 (TensorFlow before 2.4), min_consumer 0"
