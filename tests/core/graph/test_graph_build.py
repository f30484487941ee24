"""The op graph against TensorFlow's own reading of the same GraphDefs and FunctionDefs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from smlens.core import open_model
from smlens.core.graph.build import (
    build_graph,
    find_function_for_concrete,
    find_function_for_signature,
)
from smlens.core.graph.query import node_details, search_nodes, trace
from smlens.core.model import Graph, MetaGraph, Model, Node

FUNCTION_MODELS = ["keras_export", "control_flow", "module_multi_sig", "lookup", "list_outputs"]
MAIN_MODELS = ["tf1_multi_tag", "frozen_graph", "tf1_while", "keras_export", "control_flow"]


def _tf_meta_graph(path: Path):
    from tensorflow.python.saved_model import loader_impl

    return loader_impl.parse_saved_model(str(path)).meta_graphs[0]


def _tf_graph_def(path: Path):
    """The main GraphDef as TensorFlow parses it, from a SavedModel or a bare .pb."""
    import tensorflow as tf

    if (path / "saved_model.pb").exists():
        return _tf_meta_graph(path).graph_def
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(next(path.glob("*.pb")).read_bytes())
    return graph_def


def _tf_function_graphs(meta_graph_def) -> dict:
    """Every library function turned into a graph by TensorFlow (function_def_to_graph),
    inside an outer graph that holds the library so call ops resolve their callees."""
    import tensorflow as tf
    from tensorflow.python.framework.function_def_to_graph import function_def_to_graph

    library_only = tf.compat.v1.GraphDef()
    library_only.library.CopyFrom(meta_graph_def.graph_def.library)
    graphs = {}
    with tf.Graph().as_default():
        tf.graph_util.import_graph_def(library_only, name="")
        for fdef in meta_graph_def.graph_def.library.function:
            graphs[fdef.signature.name] = (fdef, function_def_to_graph(fdef))
    return graphs


def _tf_edges(ops, outputs=()) -> Counter:
    """(src, src output, dst, dst input) per data edge and (src, dst) per control edge."""
    edges = Counter()
    for op in ops:
        for position, t in enumerate(op.inputs):
            edges[(t.op.name, t.value_index, op.name, position)] += 1
        for c in op.control_inputs:
            edges[(c.name, op.name)] += 1
    for ret_name, t in outputs:
        edges[(t.op.name, t.value_index, ret_name, 0)] += 1
    return edges


def _our_edges(graph) -> Counter:
    edges = Counter()
    for e in graph.edges:
        src, dst = graph.nodes[e.src].name, graph.nodes[e.dst].name
        edges[(src, dst) if e.control else (src, e.src_output, dst, e.dst_input)] += 1
    return edges


@pytest.mark.parametrize("name", FUNCTION_MODELS)
def test_every_node_and_edge_of_every_function_appears_once(models, name):
    path = models.path(name)
    model = open_model(path)
    mg = model.meta_graphs[0]
    for fn_name, (fdef, tf_graph) in _tf_function_graphs(_tf_meta_graph(path)).items():
        graph = build_graph(model, mg, fn_name)
        names = [n.name for n in graph.nodes]
        rets = [a.name for a in fdef.signature.output_arg]
        assert len(names) == len(set(names)), fn_name
        assert sorted(names) == sorted([op.name for op in tf_graph.get_operations()] + rets)
        assert [n.name for n in graph.nodes if n.kind == "ret"] == rets
        assert [n.name for n in graph.nodes if n.kind == "arg"] == [
            a.name for a in fdef.signature.input_arg
        ]
        outputs = list(zip(rets, tf_graph.outputs, strict=True))
        assert _our_edges(graph) == _tf_edges(tf_graph.get_operations(), outputs), fn_name
        assert not graph.problems


@pytest.mark.parametrize("name", FUNCTION_MODELS)
def test_edge_dtypes_are_the_tensor_dtypes_tensorflow_infers(models, name):
    path = models.path(name)
    model = open_model(path)
    for fn_name, (_, tf_graph) in _tf_function_graphs(_tf_meta_graph(path)).items():
        graph = build_graph(model, model.meta_graphs[0], fn_name)
        ops = {op.name: op for op in tf_graph.get_operations()}
        checked = 0
        for e in graph.edges:
            src = graph.nodes[e.src]
            if e.control or src.name not in ops:
                continue
            tf_dtype = ops[src.name].outputs[e.src_output].dtype
            ours = graph.edge_tensor(e).dtype
            assert ours == _enum_name(tf_dtype), (fn_name, src.name, e.src_output)
            checked += 1
        assert checked or not graph.edges


def _enum_name(tf_dtype) -> str:
    from tensorflow.core.framework import types_pb2

    return types_pb2.DataType.Name(tf_dtype.as_datatype_enum)


@pytest.mark.parametrize("name", MAIN_MODELS)
def test_main_graph_edges_match_tensorflow_import(models, name):
    import tensorflow as tf

    path = models.path(name)
    model = open_model(path)
    graph = build_graph(model, model.meta_graphs[0])
    with tf.Graph().as_default() as tf_graph:
        tf.graph_util.import_graph_def(_tf_graph_def(path), name="")
    assert sorted(n.name for n in graph.nodes) == sorted(
        op.name for op in tf_graph.get_operations()
    )
    assert _our_edges(graph) == _tf_edges(tf_graph.get_operations())
    for e in graph.edges:
        if not e.control:
            tf_dtype = tf_graph.get_operation_by_name(graph.nodes[e.src].name).outputs[e.src_output]
            assert graph.edge_tensor(e).dtype == _enum_name(tf_dtype.dtype)


@pytest.mark.parametrize("name", [*FUNCTION_MODELS, "tf1_multi_tag"])
def test_every_func_attr_is_a_call_to_that_function(models, name):
    path = models.path(name)
    model = open_model(path)
    mg = model.meta_graphs[0]
    tf_mg = _tf_meta_graph(path)
    library = {f.signature.name for f in tf_mg.graph_def.library.function}
    sources = [("", tf_mg.graph_def.node)] + [
        (f.signature.name, f.node_def) for f in tf_mg.graph_def.library.function
    ]
    for caller, node_defs in sources:
        expected = Counter()
        for nd in node_defs:
            if nd.op in library:
                expected[(nd.name, "", nd.op)] += 1
            for attr, value in nd.attr.items():
                funcs = [value.func] if value.HasField("func") else list(value.list.func)
                for f in funcs:
                    expected[(nd.name, attr, f.name)] += 1
        graph = build_graph(model, mg, caller or None)
        ours = Counter((c.node, c.attr, c.callee) for c in graph.calls)
        assert ours == expected, caller
        assert all(c.callee in library for c in graph.calls)


def test_control_flow_calls_name_body_cond_and_branches(models):
    model = open_model(models.path("control_flow"))
    mg = model.meta_graphs[0]
    call = next(name for name in mg.functions if name.startswith("__inference___call__"))
    attrs = {c.attr: c.callee for c in build_graph(model, mg, call).calls}
    assert attrs["body"].startswith("while_body") and attrs["cond"].startswith("while_cond")
    assert attrs["then_branch"].startswith("cond_true")
    assert attrs["else_branch"].startswith("cond_false")


def test_signature_leads_to_the_function_it_runs(models):
    model = open_model(models.path("keras_export"))
    mg = model.meta_graphs[0]
    wrapper = find_function_for_signature(mg, "serving_default")
    assert wrapper in mg.functions
    callees = [c.callee for c in build_graph(model, mg, wrapper).calls]
    assert callees and callees[0].startswith("__inference___call__")
    tf1 = open_model(models.path("tf1_multi_tag")).meta_graphs[0]
    assert find_function_for_signature(tf1, "predict") == ""  # TF1: the main graph itself
    with pytest.raises(KeyError):
        find_function_for_signature(mg, "no_such_signature")


def test_captured_variable_reads_resolve_to_the_variable_tensorflow_reads(models):
    """The key of each ReadVariableOp in the keras serving path names the checkpoint tensor
    that TensorFlow reads through the signature's captured input."""
    import tensorflow as tf

    path = models.path("keras_export")
    model = open_model(path)
    mg = model.meta_graphs[0]
    wrapper = find_function_for_signature(mg, "serving_default")
    inner = build_graph(model, mg, wrapper).calls[0].callee
    graph = build_graph(model, mg, inner)
    reads = [n for n in graph.nodes if n.op == "ReadVariableOp"]
    assert len(reads) == 4 and all(n.variable_key for n in reads)

    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]
    tf_inputs = [t.name.split(":")[0] for t in signature.graph.inputs]
    first_captured = len(tf_inputs) - len(signature.captured_inputs)
    fdefs = {f.signature.name: f for f in _tf_meta_graph(path).graph_def.library.function}
    call = next(n for n in fdefs[wrapper].node_def if n.op == "StatefulPartitionedCall")
    inner_args = [a.name for a in fdefs[inner].signature.input_arg]
    for read in reads:
        arg = next(nd.input[0] for nd in fdefs[inner].node_def if nd.name == read.name)
        wrapper_arg = call.input[inner_args.index(arg)]
        handle = signature.captured_inputs[tf_inputs.index(wrapper_arg) - first_captured]
        tf_value = tf.raw_ops.ReadVariableOp(resource=handle, dtype=tf.float32).numpy()
        variable = next(v for v in model.variables if v.key == read.variable_key)
        assert np.array_equal(model.checkpoint.read(variable.key), tf_value), read.name
        by_path = loaded
        for part in variable.object_path.split("."):
            by_path = by_path[int(part)] if part.isdigit() else getattr(by_path, part)
        assert np.array_equal(by_path.numpy(), tf_value)


def test_while_body_reads_the_variable_passed_into_the_loop(models):
    model = open_model(models.path("control_flow"))
    mg = model.meta_graphs[0]
    body = next(name for name in mg.functions if name.startswith("while_body"))
    reads = [n for n in build_graph(model, mg, body).nodes if n.op == "ReadVariableOp"]
    assert [n.variable_key for n in reads] == ["factor/.ATTRIBUTES/VARIABLE_VALUE"]


def test_tf1_variables_link_to_checkpoint_keys(models):
    import tensorflow as tf

    path = models.path("tf1_multi_tag")
    model = open_model(path)
    graph = build_graph(model, model.meta_graphs[0])
    reader = tf.train.load_checkpoint(str(path / "variables" / "variables"))
    tf_keys = set(reader.get_variable_to_shape_map())
    assert graph.node("w").variable_key == "w" and "w" in tf_keys
    assert graph.node("w/Read/ReadVariableOp").variable_key == "w"
    assert graph.node("b").variable_key == "b"
    assert graph.node("scores").variable_key is None


def test_stripped_default_attrs_are_filled_and_flagged(models):
    """keras_export strips default attrs; every filled-in default equals what TensorFlow
    reports for the op (TF fills them in on import too)."""
    path = models.path("keras_export")
    model = open_model(path)
    mg = model.meta_graphs[0]
    assert mg.stripped_default_attrs
    call = next(name for name in mg.functions if name.startswith("__inference___call__"))
    graph = build_graph(model, mg, call)
    _, tf_graph = _tf_function_graphs(_tf_meta_graph(path))[call]
    matmul = next(n.name for n in graph.nodes if n.op == "MatMul")
    attrs = {a.name: a for a in node_details(graph, matmul).attrs}
    assert attrs["transpose_a"].is_default and attrs["transpose_a"].value is False
    assert attrs["transpose_a"].text == "False"
    assert not attrs["T"].is_default and attrs["T"].text == "float32"
    filled = 0
    for n in graph.nodes:
        if n.kind != "op":
            continue
        op = tf_graph.get_operation_by_name(n.name)
        for a in node_details(graph, n.name).attrs:
            if a.is_default:
                assert a.name not in n.node.attrs
                assert op.get_attr(a.name) == a.value, (n.name, a.name)
                filled += 1
    assert filled >= 4


def test_node_details_ports_and_const_values(models):
    import tensorflow as tf

    path = models.path("frozen_graph")
    model = open_model(path)
    graph = build_graph(model, model.meta_graphs[0])
    with tf.Graph().as_default() as tf_graph:
        tf.graph_util.import_graph_def(_tf_graph_def(path), name="")
    matmul = next(n.name for n in graph.nodes if n.op == "MatMul")
    details = node_details(graph, matmul)
    assert [p.arg for p in details.inputs] == ["a", "b"]
    assert [p.peers[0] for p in details.inputs] == [
        f"{t.op.name}:{t.value_index}" for t in tf_graph.get_operation_by_name(matmul).inputs
    ]
    assert details.outputs[0].arg == "product" and details.outputs[0].dtype == "DT_FLOAT"
    const = next(n.name for n in graph.nodes if n.op == "Const" and n.name.startswith("w"))
    expected = tf.make_ndarray(tf_graph.get_operation_by_name(const).get_attr("value"))
    small = node_details(graph, const).value
    assert np.array_equal(small.values, expected)
    big = node_details(graph, const, small_const=2).value
    assert big.values is None and big.shape.dims == expected.shape
    assert np.array_equal(big.tensor.numpy(), expected)


def test_list_outputs_are_numbered_through_their_number_attr(models):
    """RestoreV2's outputs are one list arg; a consumer of "RestoreV2:tensors:3" reads flat
    output 3, and the inspector names its output ports tensors:0 ... tensors:n."""
    model = open_model(models.path("module_multi_sig"))
    mg = model.meta_graphs[0]
    restore = next(name for name in mg.functions if "traced_restore" in name)
    graph = build_graph(model, mg, restore)
    node = next(n.name for n in graph.nodes if n.op == "RestoreV2")
    outputs = node_details(graph, node).outputs
    assert len(outputs) > 1
    assert [p.arg for p in outputs] == [f"tensors:{k}" for k in range(len(outputs))]


def test_search_matches_names_ops_and_attrs(models):
    model = open_model(models.path("frozen_graph"))
    graph = build_graph(model, model.meta_graphs[0])
    assert search_nodes(graph, "^softmax$", fields=("op",)) == ["y"]
    assert search_nodes(graph, "^SOFTMAX$", fields=("op",), ignore_case=False) == []
    assert search_nodes(graph, "^x$", fields=("name",)) == ["x"]
    placeholders = search_nodes(graph, "dtype=float32", fields=("attr",))
    assert "x" in placeholders and "y" not in placeholders

    calls = []
    with pytest.raises(Exception, match="x"):
        search_nodes(graph, "x", cancelled=lambda: calls.append(1) or True)
    assert calls


@pytest.mark.parametrize("name", ["frozen_graph", "tf1_while", "tf1_multi_tag"])
def test_trace_equals_networkx_ancestors_and_descendants(models, name):
    model = open_model(models.path(name))
    graph = build_graph(model, model.meta_graphs[0])
    g = graph.to_networkx()
    assert g.number_of_nodes() == len(graph.nodes) and g.number_of_edges() == len(graph.edges)
    for node in [n.name for n in graph.nodes][::3]:
        assert trace(graph, node, "inputs") - {node} == nx.ancestors(g, node)
        assert trace(graph, node, "outputs") - {node} == nx.descendants(g, node)


def test_broken_inputs_are_problems_not_crashes():
    nodes = [
        Node("a", "Placeholder", []),
        Node("b", "Identity", ["a", "missing:0", "^gone", "a:x"]),
        Node("a", "Placeholder", []),
    ]
    mg = MetaGraph(tags=[], signatures={}, graph=Graph(nodes=nodes, functions={}))
    graph = build_graph(Model(path=Path("."), format="graph_def"), mg)
    assert [(e.src, e.dst) for e in graph.edges] == [(2, 1)]  # "a" names the later node
    messages = [(p.path, p.message) for p in graph.problems]
    assert [path for path, _ in messages] == ["a", "b", "b", "b"]
    assert "duplicate" in messages[0][1] and "missing:0" in messages[1][1]
    assert "'x' is not an output index" in messages[3][1]


def test_concrete_function_names_are_library_functions(models):
    model = open_model(models.path("module_multi_sig"))
    mg = model.meta_graphs[0]
    for name in mg.object_graph.concrete_functions:
        assert find_function_for_concrete(mg, name) == name
        assert build_graph(model, mg, name).function == name
    with pytest.raises(KeyError):
        find_function_for_concrete(mg, "no_such_function")
