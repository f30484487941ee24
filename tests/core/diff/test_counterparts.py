"""Counterparts across two versions of a function: the diff's pairs of changed nodes first,
then names under scopes the diff's scope matching pairs, for nodes and scope paths."""

from __future__ import annotations

from smlens.core.diff.report.counterparts import NodeMarks, counterparts
from smlens.core.model import Node


def _nodes(*names_and_ops: tuple[str, str]) -> list[Node]:
    return [Node(name, op, []) for name, op in names_and_ops]


def test_renamed_scopes_pair_unchanged_nodes_and_changed_pairs_come_first():
    a = _nodes(
        ("functional_1/dense/MatMul", "MatMul"),
        ("functional_1/dense/Relu", "Relu"),
        ("functional_1/probs/MatMul", "MatMul"),
        ("functional_1/probs/Softmax", "Softmax"),
        ("NoOp", "NoOp"),
    )
    b = _nodes(
        ("functional_1_1/dense/MatMul", "MatMul"),
        ("functional_1_1/dense/Relu", "Relu"),
        ("functional_1_1/probabilities/MatMul", "MatMul"),
        ("functional_1_1/probabilities/Softmax", "Softmax"),
        ("NoOp", "NoOp"),
    )
    marks = NodeMarks(a_to_b={"functional_1/probs/MatMul": "functional_1_1/dense/MatMul"})
    pairs = counterparts(a, b, marks)

    assert pairs.of("a", "functional_1/dense/Relu") == "functional_1_1/dense/Relu"
    assert pairs.of("b", "functional_1_1/dense/Relu") == "functional_1/dense/Relu"
    assert pairs.of("a", "functional_1/probs/Softmax") == "functional_1_1/probabilities/Softmax"
    assert pairs.of("a", "functional_1/probs/") == "functional_1_1/probabilities/"
    assert pairs.of("b", "functional_1_1/") == "functional_1/"
    assert pairs.of("a", "NoOp") == "NoOp"
    # the diff's own pair wins over the name the scope match gives
    assert pairs.of("a", "functional_1/probs/MatMul") == "functional_1_1/dense/MatMul"
    assert pairs.of("b", "functional_1_1/dense/MatMul") == "functional_1/probs/MatMul"


def test_without_renames_every_name_is_its_own_counterpart():
    nodes = _nodes(("x/a", "Add"), ("y", "Mul"))
    pairs = counterparts(nodes, nodes, NodeMarks())

    assert pairs.scopes_b_to_a == {}
    assert [pairs.of(side, n) for side in "ab" for n in ("x/a", "x/", "y")] == [
        "x/a",
        "x/",
        "y",
    ] * 2
