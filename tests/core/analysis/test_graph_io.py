"""Feeds and fetches of graphs without signatures, against what TensorFlow reports of the
same files and what each fixture froze or wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from smlens.core.analysis.graph_io import GRADIENT, OPTIMIZER, SAVER, SUMMARY, graph_io
from smlens.core.formats.reader import open_model
from tests.fixtures.training_graph import FEEDS, LOSS, MODEL_OUTPUTS

pytestmark = pytest.mark.tf


def _tf_placeholders(graph) -> dict[str, tuple[int, tuple | None]]:
    """Node name -> (dtype enum, dims) of every placeholder TensorFlow sees."""
    found = {}
    for op in graph.get_operations():
        if op.type in ("Placeholder", "PlaceholderWithDefault"):
            shape = op.outputs[0].shape
            dims = None if shape.rank is None else tuple(-1 if d is None else d for d in shape)
            found[op.name] = (op.outputs[0].dtype.as_datatype_enum, dims)
    return found


def _import_graph_def(tf, path: Path):
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(path.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
    return graph


def _dtype_enum(name: str) -> int:
    from tensorflow.core.framework import types_pb2

    return types_pb2.DataType.Value(name)


def _feeds_as_tf(io) -> dict[str, tuple[int, tuple | None]]:
    return {f.name: (_dtype_enum(f.dtype), f.shape.dims) for f in io.feeds}


@pytest.mark.parametrize(
    ("fixture", "outputs"),
    [("frozen_training_graph", MODEL_OUTPUTS), ("frozen_graph", ("y:0",))],
)
def test_frozen_graph_feeds_are_tfs_placeholders_and_fetches_what_was_frozen(
    models, tf, fixture, outputs
):
    path = models.path(fixture) / "frozen.pb"
    graph = _import_graph_def(tf, path)
    io = graph_io(open_model(path).meta_graphs[0])
    assert _feeds_as_tf(io) == _tf_placeholders(graph)
    assert {f.name for f in io.fetches} == set(outputs)
    assert sorted(f.rank for f in io.fetches) == list(range(1, len(outputs) + 1))
    for fetch in io.fetches:
        tensor = graph.get_tensor_by_name(fetch.name)
        assert _dtype_enum(fetch.dtype) == tensor.dtype.as_datatype_enum


def test_frozen_training_graph_drops_the_labels_feed(models):
    io = graph_io(open_model(models.path("frozen_training_graph") / "frozen.pb").meta_graphs[0])
    assert [f.name for f in io.feeds] == [n for n in FEEDS if n != "labels"]


def test_training_meta_keeps_the_model_and_leaves_the_plumbing_out(models, tf):
    folder = models.path("tf1_training_meta")
    meta = folder / "model.ckpt-3.meta"
    io = graph_io(open_model(meta).meta_graphs[0])
    with tf.Graph().as_default() as graph:
        tf.compat.v1.train.import_meta_graph(str(meta))
    assert [f.name for f in io.feeds] == list(FEEDS)
    placeholders = _tf_placeholders(graph)
    assert _feeds_as_tf(io) == {name: placeholders[name] for name in FEEDS}
    assert set(placeholders) - set(FEEDS) == {"save/filename", "save/Const"}
    names = [f.name for f in io.fetches]
    assert set(names) == {*MODEL_OUTPUTS, LOSS}
    assert names[-1] == LOSS  # the model's outputs rank before the loss
    default = next(f for f in io.feeds if f.name == "dropout_keep")
    assert default.op == "PlaceholderWithDefault"
    assert float(default.default_value.numpy()) == 1.0
    reasons = {left.name: left.reason for left in io.left_out}
    assert reasons["Merge/MergeSummary"] == SUMMARY
    assert reasons["save/filename"] == SAVER  # the saver's placeholders are no feeds
    assert reasons["save/Const"] == SAVER
    left_reasons = set(reasons.values())
    assert {GRADIENT, OPTIMIZER, SAVER, SUMMARY} <= left_reasons
    for name in names:
        assert not name.startswith(("gradients", "Adam", "save", "init", "loss_1", "Merge"))


def test_empty_prefix_meta_finds_its_input_and_output(models):
    meta = models.path("ckpt_empty_prefix") / ".meta"
    io = graph_io(open_model(meta).meta_graphs[0])
    assert [f.name for f in io.feeds] == ["x"]
    assert [f.name for f in io.fetches] == ["y:0"]


def test_estimator_export_uses_its_signatures(models, tf):
    path = models.path("tf1_multi_tag")
    model = open_model(path)
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], str(path))
    wanted_outputs = {
        t.name for key, sig in meta.signature_def.items() for t in sig.outputs.values()
    }
    wanted_inputs = {
        t.name.partition(":")[0] for sig in meta.signature_def.values() for t in sig.inputs.values()
    }
    io = graph_io(model.meta_graph("serve"))
    assert {f.name for f in io.fetches} == wanted_outputs
    assert {f.name for f in io.feeds} == wanted_inputs
    assert all(f.reason.startswith("an output of signature") for f in io.fetches)
    assert len(model.meta_graph("serve").signatures) >= 3


def test_graph_io_is_computed_once_per_meta_graph(models):
    mg = open_model(models.path("frozen_graph") / "frozen.pb").meta_graphs[0]
    assert graph_io(mg) is graph_io(mg)
    assert graph_io(mg) is mg.derived["graph_io"]


@pytest.mark.parametrize(
    ("fixture", "file"),
    [("frozen_training_graph", "frozen.pb"), ("tf1_training_meta", "model.ckpt-3.meta")],
)
def test_the_snippet_runs_in_a_session_and_fetches_the_outputs(models, tf, fixture, file):
    import numpy as np

    from smlens.core.analysis.snippets import graph_snippet

    model = open_model(models.path(fixture) / file)
    mg = model.meta_graphs[0]
    io = graph_io(mg)
    snippet = graph_snippet(model.path, model.format, mg.tags, io)
    scope: dict = {}
    exec(snippet.python, scope)  # the text a person pastes
    fetched = scope["outputs"]
    shown = [f.name for f in io.fetches[:3]]
    assert len(fetched) == len(shown)
    for name, value in zip(shown, fetched, strict=True):
        fetch = next(f for f in io.fetches if f.name == name)
        assert (
            np.asarray(value).dtype == tf.dtypes.as_dtype(_dtype_enum(fetch.dtype)).as_numpy_dtype
        )
    assert f"--fetch {shown[0]}" in snippet.cli
