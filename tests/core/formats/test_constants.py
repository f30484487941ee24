"""Frozen weights: the big Const tensors of a graph, listed with the variables and read
bit for bit as TensorFlow's own tensor_util.MakeNdarray reads them."""

from __future__ import annotations

import numpy as np

from smlens.core.formats.reader import open_model
from smlens.core.model.constants import CONSTANT_MIN_BYTES


def test_every_listed_constant_is_tfs_own_value_bit_for_bit(models, tf):
    path = models.path("frozen_training_graph") / "frozen.pb"
    graph_def = tf.compat.v1.GraphDef.FromString(path.read_bytes())
    weights = {
        n.name: tf.make_ndarray(n.attr["value"].tensor)
        for n in graph_def.node
        if n.op == "Const" and n.attr["value"].tensor.ByteSize() >= CONSTANT_MIN_BYTES
    }
    model = open_model(path)
    listed = model.constants()
    assert (
        {c.name for c in listed} == set(weights) == {"hidden/kernel", "hidden/bias", "dense/kernel"}
    )
    for constant in listed:
        ours = model.read_tensor(constant.key)
        theirs = weights[constant.name]
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        assert ours.tobytes() == theirs.tobytes()
        assert constant.constant and constant.key == f"{constant.name}:0"
        assert constant.consumer.startswith(("MatMul ", "AddV2 "))
    assert model.tensor("hidden/kernel").constant


def test_a_checkpoint_model_lists_no_saver_plumbing_as_constants(models):
    model = open_model(models.path("keras_export"))
    assert model.constants() == []
    assert model.tensors() == model.distinct_variables()


def test_tensor_all_exports_the_constants(models, tmp_path, tf):
    from smlens.core.analysis.variables_export import export_variables

    path = models.path("frozen_training_graph") / "frozen.pb"
    model = open_model(path)
    written = export_variables(model, tmp_path / "all.npz")
    archive = np.load(tmp_path / "all.npz")
    assert set(archive.files) == {c.name for c in model.constants()} == set(written)
    for c in model.constants():
        assert archive[c.name].tobytes() == model.read_tensor(c.key).tobytes()
