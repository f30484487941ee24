"""The Functions panel's rows, computed in core: one row per library function with its call
edges and entry points, checked against the FunctionDefs TensorFlow wrote."""

from __future__ import annotations

from smlens.core.formats.reader import open_model
from smlens.core.graph.functions import describe_args, function_rows
from smlens.core.model import ArgDef


def test_one_row_per_function_with_callers_and_callees(models):
    from tensorflow.python.saved_model import loader_impl

    path = models.path("control_flow")
    saved = loader_impl.parse_saved_model(str(path))
    library = {f.signature.name: f for f in saved.meta_graphs[0].graph_def.library.function}
    rows = {row.name: row for row in function_rows(open_model(path))}
    assert set(rows) == set(library)
    for name, fn in library.items():
        called = set()
        for node in fn.node_def:
            for value in node.attr.values():
                if value.HasField("func"):
                    called.add(value.func.name)
                called.update(f.name for f in value.list.func)
            if node.op in library:
                called.add(node.op)
        assert set(rows[name].callees) == called, name
        for callee in called:
            assert name in rows[callee].callers


def test_no_model_has_no_rows():
    assert function_rows(None) == []


def test_arguments_read_with_their_type_or_type_attr():
    args = [ArgDef("x", dtype="DT_FLOAT"), ArgDef("t", type_attr="T", number_attr="N")]
    assert describe_args(args) == ["x: float32", "t: N x T"]
