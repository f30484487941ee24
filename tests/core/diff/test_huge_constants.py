"""A constant whose few stored values repeat to a huge shape diffs in bounded memory: its
values are fingerprinted from the stored fields, never built."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from smlens.core.diff.model_diff import diff_models
from smlens.core.formats import proto
from smlens.core.formats.reader import open_model

HUGE = [2**20, 2**20]  # 2**40 elements: 4 TiB as float32


def _with_splat(models, tf, dest: Path, value: float) -> Path:
    """The frozen fixture graph with one more Const: ``value`` repeated to HUGE."""
    graph = proto.GraphDef.FromString((models.path("frozen_graph") / "frozen.pb").read_bytes())
    node = graph.node.add(name="huge", op="Const")
    node.attr["dtype"].type = 1
    splat = tf.make_tensor_proto(value, dtype=tf.float32, shape=HUGE)
    assert not splat.tensor_content
    node.attr["value"].tensor.ParseFromString(splat.SerializeToString())
    dest.write_bytes(graph.SerializeToString())
    return dest


def test_a_changed_splat_of_2_40_elements_is_reported_in_bounded_memory(models, tf, tmp_path):
    a = open_model(_with_splat(models, tf, tmp_path / "a.pb", 1.5))
    b = open_model(_with_splat(models, tf, tmp_path / "b.pb", 2.5))
    same = open_model(_with_splat(models, tf, tmp_path / "same.pb", 1.5))
    tracemalloc.start()
    try:
        changed = diff_models(a, b)
        unchanged = diff_models(a, same)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20
    paths = ["/".join(c.path) for c in changed.changes(area="graph")]
    assert any("huge" in p for p in paths), paths
    assert not any("huge" in "/".join(c.path) for c in unchanged.changes(area="graph"))
