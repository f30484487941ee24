"""Sessions over graphs without signatures (core/run/graph_session.py), in this process: the
values they fetch equal what the fixtures define (frozen weights of ones and 0.5; the
checkpoint's own values, read back by TensorFlow's checkpoint reader)."""

from __future__ import annotations

import numpy as np
import pytest

from smlens.core.run.graph_session import (
    GraphSessionError,
    import_frozen_graph,
    load_saved_model_graph,
    restore_meta_graph,
)

CPU = "/device:CPU:0"
X4 = np.array([[1.0, -2.0, 3.0, 0.5], [0.0, 4.0, -1.0, 2.0]], np.float32)
X3 = np.array([[1.0, -2.0, 3.0], [0.0, 4.0, -1.0]], np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("name, text", [("frozen.pb", False), ("frozen.pbtxt", True)])
def test_frozen_graph_fetches_what_the_fixture_froze(tf, models, name, text):
    """build_frozen_graph froze w = ones((4, 2)), b = 0.5 into y = softmax(x @ w + b)."""
    session = import_frozen_graph(tf, models.path("frozen_graph") / name, CPU, text=text)
    try:
        (y,) = session.run(["y:0"], {"x:0": X4})
        assert session.kind == "graph_def" and not session.restored
        assert [n.name for n in session.graph_def().node] == [
            n.name for n in session.graph.as_graph_def().node
        ]
    finally:
        session.close()
    expected = _softmax(X4 @ np.ones((4, 2), np.float32) + 0.5)
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_meta_graph_is_restored_from_its_checkpoint(tf, models):
    """build_tf1_ckpt_meta saved kernel ones, bias zeros and global_step 7."""
    folder = models.path("tf1_ckpt_meta")
    session = restore_meta_graph(tf, folder / "model.ckpt.meta", str(folder / "model.ckpt"), CPU)
    try:
        y, step = session.run(["y:0", "global_step/Read/ReadVariableOp:0"], {"x:0": X4})
    finally:
        session.close()
    assert session.restored
    assert int(step) == 7
    np.testing.assert_array_equal(y, np.maximum(X4 @ np.ones((4, 2), np.float32), 0))


def test_empty_prefix_checkpoint_is_restored(tf, models):
    """saver.save(sess, "dir/"): the weights are random; TF's own reader gives them."""
    folder = models.path("ckpt_empty_prefix")
    prefix = str(folder) + "/"
    session = restore_meta_graph(tf, folder / ".meta", prefix, CPU)
    try:
        (y,) = session.run(["y:0"], {"x:0": X3})
    finally:
        session.close()
    reader = tf.train.load_checkpoint(prefix)
    kernel, bias = reader.get_tensor("dense/kernel"), reader.get_tensor("dense/bias")
    np.testing.assert_allclose(y, np.maximum(X3 @ kernel + bias, 0), rtol=1e-6)


def test_meta_graph_with_variables_and_no_checkpoint_is_refused(tf, models):
    folder = models.path("tf1_ckpt_meta")
    with pytest.raises(GraphSessionError, match="no checkpoint"):
        restore_meta_graph(tf, folder / "model.ckpt.meta", None, CPU)


def test_saved_model_meta_graph_runs_by_tensor_names(tf, models):
    """The TF1 Builder export's serve graph, fed and fetched by the names its predict
    signature points at, equals TF's own loader run on the same feed."""
    folder = models.path("tf1_multi_tag")
    session = load_saved_model_graph(tf, folder, ["serve"], CPU)
    v1 = tf.compat.v1
    try:
        with tf.Graph().as_default() as graph, v1.Session(graph=graph) as direct:
            meta = v1.saved_model.loader.load(direct, ["serve"], str(folder))
            signature = meta.signature_def["predict"]
            feeds = {info.name: None for info in signature.inputs.values()}
            fetches = [info.name for info in signature.outputs.values()]
            assert feeds and fetches
            values = {name: _fill(graph.get_tensor_by_name(name)) for name in feeds}
            expected = direct.run(fetches, values)
        got = session.run(fetches, values)
    finally:
        session.close()
    for mine, theirs in zip(got, expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def _fill(tensor) -> np.ndarray:
    """Ones of the tensor's shape (unknown dims 2), or one empty serialized Example."""
    if tensor.dtype.name == "string":
        return np.array([b""], dtype=object)
    dims = [d if d is not None else 2 for d in tensor.shape.as_list()]
    return np.ones(dims, tensor.dtype.as_numpy_dtype)


def test_bad_graph_def_is_a_session_error(tf, tmp_path):
    bad = tmp_path / "bad.pb"
    bad.write_bytes(b"\xff\xff\xff\xff not a graph")
    with pytest.raises(GraphSessionError, match="not a GraphDef"):
        import_frozen_graph(tf, bad, CPU)
