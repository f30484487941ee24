"""The reader against TensorFlow's own readers, on TF-exported fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from smlens.core import SmlensError, open_model
from smlens.core.graph.calls import find_calls

SAVED_MODELS = ["tf1_multi_tag", "module_multi_sig", "keras_export", "control_flow", "lookup"]
TF2_MODELS = ["module_multi_sig", "keras_export", "control_flow", "lookup"]
CHECKPOINTS = ["ckpt_dtypes", "ckpt_partitioned", "ckpt_sharded", "tf1_ckpt_meta"]


def _same_values(ours: np.ndarray, theirs) -> bool:
    if isinstance(theirs, bytes):  # TF returns scalar strings as bytes
        theirs = np.array(theirs, dtype=object)
    if ours.dtype != theirs.dtype or ours.shape != theirs.shape:
        return False
    if ours.dtype == object:
        return all(a == b for a, b in zip(ours.reshape(-1), theirs.reshape(-1), strict=True))
    return ours.tobytes() == theirs.tobytes()


@pytest.mark.parametrize("name", SAVED_MODELS + CHECKPOINTS)
def test_every_variable_is_bitwise_equal_to_tensorflow(models, name):
    import tensorflow as tf

    model = open_model(models.path(name))
    assert model.checkpoint is not None and not model.problems
    prefix = model.checkpoint.prefix
    reader = tf.train.load_checkpoint(str(prefix))
    tf_keys = set(reader.get_variable_to_shape_map()) - {"_CHECKPOINTABLE_OBJECT_GRAPH"}
    assert {v.key for v in model.variables} == tf_keys
    for var in model.variables:
        if var.dtype == "DT_VARIANT":  # opaque (dataset iterator state): no numpy form
            with pytest.raises(SmlensError, match="DT_VARIANT"):
                model.checkpoint.read(var.key)
            continue
        assert _same_values(model.checkpoint.read(var.key), reader.get_tensor(var.key)), var.key


def _walk(obj, path: str):
    for part in path.split("."):
        obj = (
            obj[int(part)]
            if part.isdigit() and isinstance(obj, list | tuple)
            else getattr(obj, part)
        )
    return obj


@pytest.mark.parametrize("name", ["module_multi_sig", "keras_export", "control_flow"])
def test_resolved_names_are_the_object_graph_names(models, name):
    import tensorflow as tf

    model = open_model(models.path(name))
    loaded = tf.saved_model.load(str(models.path(name)))
    resolved = [v for v in model.variables if v.object_path and v.slot_of is None]
    assert resolved, "no variable was resolved through the object graph"
    for var in resolved:
        if var.key.endswith("/.ATTRIBUTES/VARIABLE_VALUE"):
            tf_var = _walk(loaded, var.object_path)
            assert isinstance(tf_var, tf.Variable), var.object_path
            assert tf_var.name == var.name + ":0"
            assert "/.ATTRIBUTES/" not in var.name


@pytest.mark.parametrize("name", TF2_MODELS)
def test_concrete_functions_and_bound_inputs_match_the_proto(models, name):
    from tensorflow.python.saved_model import loader_impl

    saved = loader_impl.parse_saved_model(str(models.path(name)))
    proto_graph = saved.meta_graphs[0].object_graph_def
    model = open_model(models.path(name))
    graph = model.meta_graphs[0].object_graph
    assert set(graph.concrete_functions) == set(proto_graph.concrete_functions)
    for fn_name, fn in graph.concrete_functions.items():
        assert list(fn.bound_inputs) == list(proto_graph.concrete_functions[fn_name].bound_inputs)
    assert [n.kind for n in graph.nodes] == [n.WhichOneof("kind") for n in proto_graph.nodes]
    library = model.meta_graphs[0].functions
    assert set(library) == {
        f.signature.name for f in saved.meta_graphs[0].graph_def.library.function
    }


def test_control_flow_calls_reach_every_branch(models):
    from tensorflow.python.saved_model import loader_impl

    saved = loader_impl.parse_saved_model(str(models.path("control_flow")))
    expected = set()
    for fn in saved.meta_graphs[0].graph_def.library.function:
        for node in fn.node_def:
            for attr, value in node.attr.items():
                if value.HasField("func"):
                    expected.add((fn.signature.name, node.name, attr, value.func.name))
                for f in value.list.func:
                    expected.add((fn.signature.name, node.name, attr, f.name))
    graph = open_model(models.path("control_flow")).meta_graphs[0].graph
    ours = {(c.caller, c.node, c.attr, c.callee) for c in find_calls(graph) if c.attr and c.caller}
    assert ours == expected
    attrs = {c.attr for c in find_calls(graph)}
    assert {"body", "cond"} <= attrs and {"then_branch", "else_branch"} <= attrs


def test_tf1_multi_tag_reads_meta_info_and_assets(models):
    from tensorflow.python.saved_model import loader_impl

    path = models.path("tf1_multi_tag")
    saved = loader_impl.parse_saved_model(str(path))
    model = open_model(path)
    assert model.schema_version == saved.saved_model_schema_version
    assert [mg.tags for mg in model.meta_graphs] == [
        list(m.meta_info_def.tags) for m in saved.meta_graphs
    ]
    for ours, theirs in zip(model.meta_graphs, saved.meta_graphs, strict=True):
        assert ours.tf_version == theirs.meta_info_def.tensorflow_version
        assert ours.stripped_op_list == [op.name for op in theirs.meta_info_def.stripped_op_list.op]
        assert set(ours.collections) == set(theirs.collection_def)
        assert [a.filename for a in ours.asset_files] == [a.filename for a in theirs.asset_file_def]
        assert len(ours.graph.nodes) == len(theirs.graph_def.node)
        methods = {k: s.method_name for k, s in ours.signatures.items()}
        assert methods == {k: s.method_name for k, s in theirs.signature_def.items()}
    assert model.assets and all(a.path.startswith("assets/") for a in model.assets)
    assert model.meta_graphs[0].saver is not None


def test_fingerprint_matches_tensorflow(models):
    from tensorflow.python.saved_model import fingerprinting

    path = models.path("keras_export")
    theirs = fingerprinting.read_fingerprint(str(path))
    ours = open_model(path).fingerprint
    assert ours.saved_model_checksum == theirs.saved_model_checksum
    assert ours.graph_def_program_hash == theirs.graph_def_program_hash
    assert ours.checkpoint_hash == theirs.checkpoint_hash


def test_checkpoint_with_meta_opens_from_folder_prefix_index_and_meta(models):
    folder = models.path("tf1_ckpt_meta")
    from_folder = open_model(folder)
    assert from_folder.format == "checkpoint" and len(from_folder.meta_graphs) == 1
    prefix = Path(from_folder.checkpoint.prefix)
    for target in (prefix, prefix.with_name(prefix.name + ".index")):
        model = open_model(target)
        assert [v.key for v in model.variables] == [v.key for v in from_folder.variables]
    meta = open_model(prefix.with_name(prefix.name + ".meta"))
    assert meta.format == "meta_graph" and meta.variables
    assert all(v.name == v.key for v in from_folder.variables)  # TF1 names stay as they are


def test_frozen_graph_binary_and_text_are_sniffed_from_content(models, tmp_path):
    import tensorflow as tf

    folder = models.path("frozen_graph")
    graph_def = tf.compat.v1.GraphDef.FromString((folder / "frozen.pb").read_bytes())
    for name in ("frozen.pb", "frozen.pbtxt"):
        renamed = tmp_path / f"{name}.unknown"  # no telling extension
        renamed.write_bytes((folder / name).read_bytes())
        model = open_model(renamed)
        assert model.format == "graph_def"
        nodes = model.meta_graphs[0].graph.nodes
        assert [n.name for n in nodes] == [n.name for n in graph_def.node]
        assert [n.op for n in nodes] == [n.op for n in graph_def.node]


def test_saved_model_pbtxt_reads_like_the_binary(models, tmp_path):
    from google.protobuf import text_format
    from tensorflow.python.saved_model import loader_impl

    source = models.path("module_multi_sig")
    saved = loader_impl.parse_saved_model(str(source))
    (tmp_path / "saved_model.pbtxt").write_text(text_format.MessageToString(saved))
    text_model = open_model(tmp_path)
    binary_model = open_model(source)
    assert text_model.meta_graphs[0].tags == binary_model.meta_graphs[0].tags
    assert text_model.meta_graphs[0].signatures == binary_model.meta_graphs[0].signatures
    assert set(text_model.meta_graphs[0].functions) == set(binary_model.meta_graphs[0].functions)


def test_show_json_summarises_the_model(models):
    path = models.path("keras_export")
    out = subprocess.run(
        [sys.executable, "-m", "smlens.cli.main", "show", "--dir", str(path), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(out.stdout)
    model = open_model(path)
    assert [mg["tags"] for mg in summary["meta_graphs"]] == [mg.tags for mg in model.meta_graphs]
    assert "serving_default" in summary["meta_graphs"][0]["signatures"]
    names = {v["name"] for v in summary["variables"]}
    assert names == {v.name for v in model.variables}
    assert all(
        v["nbytes"] == v["num_elements"] * 4
        for v in summary["variables"]
        if v["dtype"] == "DT_FLOAT"
    )
