"""Exports made in the test run for the release table's tests. What each needs is known
from TensorFlow's release notes, not read off the table."""

from __future__ import annotations

from pathlib import Path

# tf.random.experimental.stateless_shuffle and its op, StatelessShuffle, are new in
# TensorFlow 2.10 (RELEASE.md, 2.10.0: "Added tf.random.experimental.stateless_shuffle");
# the 2.9.3 wheel holds neither.
SHUFFLE_OP = "StatelessShuffle"
SHUFFLE_SINCE = "2.10"


def export_stateless_shuffle(tf, dest: Path) -> Path:
    """A tf.Module without variables whose one signature shuffles its input: nothing else
    in it needs a release as new as 2.10."""

    class Shuffler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def shuffle(self, x):
            return {"y": tf.random.experimental.stateless_shuffle(x, seed=[1, 2])}

    module = Shuffler()
    tf.saved_model.save(module, str(dest), signatures={"serving_default": module.shuffle})
    return dest


def export_tf1_matmul(tf, dest: Path, strip_default_attrs: bool) -> Path:
    """A TF1 graph, x @ w, saved by the v1 Builder: without strip_default_attrs its MatMul
    keeps grad_a and grad_b, the attrs TensorFlow 2.16 added, at their default."""
    v1 = tf.compat.v1
    with tf.Graph().as_default(), v1.Session() as session:
        x = v1.placeholder(tf.float32, [None, 2], name="x")
        w = v1.get_variable("w", initializer=tf.ones([2, 1]), use_resource=False)
        y = tf.matmul(x, w, name="y")
        session.run(v1.global_variables_initializer())
        builder = v1.saved_model.Builder(str(dest))
        signature = v1.saved_model.predict_signature_def({"x": x}, {"y": y})
        builder.add_meta_graph_and_variables(
            session,
            ["serve"],
            signature_def_map={"serving_default": signature},
            strip_default_attrs=strip_default_attrs,
        )
        builder.save()
    return dest


def export_identity(tf, dest: Path) -> Path:
    """The shuffler's signature returning its input unchanged: Identity, which every
    release defines, and no shuffle op."""

    class Passer(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def shuffle(self, x):
            return {"y": tf.identity(x)}

    module = Passer()
    tf.saved_model.save(module, str(dest), signatures={"serving_default": module.shuffle})
    return dest
