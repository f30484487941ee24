"""The diff of two frozen graphs of one model, before and after more training: each frozen
weight that moved is reported once, as a value delta whose figures are numpy's on
TensorFlow's own reading of the two Const nodes (tf.make_ndarray); the ones that did not
move are not reported at all."""

from __future__ import annotations

import math

import numpy as np
import pytest

from smlens.core.diff.model_diff import diff_models
from smlens.core.diff.report.text import render_diff
from smlens.core.formats.reader import open_model
from smlens.core.model.constants import CONSTANT_MIN_BYTES
from tests.fixtures.frozen_pairs import RETRAINED_WEIGHTS, UNCHANGED_WEIGHTS


def _tf_weights(tf, path) -> dict[str, np.ndarray]:
    """Const node name -> value for the Consts big enough to be frozen weights, as
    TensorFlow reads the GraphDef."""
    graph_def = tf.compat.v1.GraphDef.FromString(path.read_bytes())
    return {
        n.name: tf.make_ndarray(n.attr["value"].tensor)
        for n in graph_def.node
        if n.op == "Const" and n.attr["value"].tensor.ByteSize() >= CONSTANT_MIN_BYTES
    }


@pytest.fixture(scope="module")
def frozen_pair(models, tf):
    root = models.path("pair_frozen_retrained")
    paths = root / "a" / "frozen.pb", root / "b" / "frozen.pb"
    a, b = open_model(paths[0]), open_model(paths[1])
    return a, b, diff_models(a, b), _tf_weights(tf, paths[0]), _tf_weights(tf, paths[1])


def test_every_constant_delta_is_numpys_on_tfs_values(frozen_pair):
    _, _, diff, weights_a, weights_b = frozen_pair
    moved = {n for n in weights_a if not np.array_equal(weights_a[n], weights_b[n])}
    assert moved == set(RETRAINED_WEIGHTS)  # the fixture's definition, as TF reads it
    deltas = {name: d for name, d in diff.value_deltas.items() if d.constant}
    assert set(deltas) == set(weights_a) == set(weights_b)
    for name, d in deltas.items():
        before = weights_a[d.key_a.partition(":")[0]].astype(np.float64)
        after = weights_b[d.key_b.partition(":")[0]].astype(np.float64)
        change = np.abs(after - before)
        assert d.identical == (name not in moved)
        assert d.dtype == "DT_FLOAT" and d.shape == before.shape
        assert d.count == before.size
        if d.identical and not d.read:  # equal by digest: nothing read, no figure
            assert d.max_abs is None
            continue
        assert d.max_abs == change.max()
        assert d.mean_abs == pytest.approx(change.mean(), rel=1e-12)
        assert d.changed_count == np.count_nonzero(after != before)
        assert d.changed_fraction == pytest.approx(np.count_nonzero(change) / change.size)
        norm = np.linalg.norm(before)
        if norm == 0:  # a bias initialized to zeros
            assert math.isinf(d.relative_l2)
        else:
            assert d.relative_l2 == pytest.approx(np.linalg.norm(after - before) / norm, rel=1e-9)


def test_each_moved_weight_is_reported_once_and_the_unmoved_not_at_all(frozen_pair):
    a, b, diff, weights_a, _ = frozen_pair
    variables = {c.path[1]: c for c in diff.changes(area="variables")}
    assert set(variables) == set(RETRAINED_WEIGHTS)
    assert all(c.kind == "changed" and "constant" in c.reason for c in variables.values())
    graph_paths = ["/".join(c.path) for c in diff.changes(area="graph", annotations=True)]
    for name in weights_a:  # no Const node of a frozen weight shows up in the graph area
        assert not [p for p in graph_paths if f"/{name}/" in p or p.endswith(f"/{name}")]
    text = render_diff(diff, a, b)
    for name in RETRAINED_WEIGHTS:
        assert text.count(f"constant '{name}'") == 1
        assert f"/{name}/attrs/value" not in text
    for name in UNCHANGED_WEIGHTS:
        assert name not in text
    unchanged, moved = len(UNCHANGED_WEIGHTS), len(RETRAINED_WEIGHTS)
    assert f"{len(weights_a)} constants in both: {unchanged} identical" in text
    assert f"{moved} with new values" in text


def test_a_changed_small_const_stays_a_changed_attr_of_the_graph(frozen_pair):
    # out/bias holds 3 floats: below CONSTANT_MIN_BYTES, no frozen weight, so its new
    # values are the graph's business.
    _, _, diff, weights_a, _ = frozen_pair
    assert "out/bias" not in weights_a
    paths = {"/".join(c.path) for c in diff.changes(area="graph")}
    assert any(p.endswith("/out/bias/attrs/value") for p in paths)


def test_a_reshaped_or_retyped_weight_is_one_risky_change_of_the_constant(models, tf, tmp_path):
    # B: A's graph with out/kernel holding (64, 4) values and hidden/bias float64 ones.
    path_a = models.path("pair_frozen_retrained") / "a" / "frozen.pb"
    graph_def = tf.compat.v1.GraphDef.FromString(path_a.read_bytes())
    nodes = {n.name: n for n in graph_def.node}
    kernel, bias = nodes["out/kernel"], nodes["hidden/bias"]
    kernel.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(np.ones((64, 4), np.float32)))
    bias.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(np.ones(64, np.float64)))
    bias.attr["dtype"].type = tf.float64.as_datatype_enum
    path_b = tmp_path / "b.pb"
    path_b.write_bytes(graph_def.SerializeToString())

    # convert_variables_to_constants keeps the variable's read as an Identity: past it.
    (read,) = [n for n in graph_def.node if "out/kernel" in n.input]
    assert read.op == "Identity"
    (reader,) = [n for n in graph_def.node if read.name in n.input]

    diff = diff_models(open_model(path_a), open_model(path_b))
    variables = {c.path[1]: c for c in diff.changes(area="variables")}
    assert set(variables) == {"out/kernel", "hidden/bias"}
    assert variables["out/kernel"].reason.startswith(
        f"constant 'out/kernel': shape (64, 3) -> (64, 4); the op reading it ({reader.op} "
        f"{reader.name})"
    )
    assert variables["hidden/bias"].reason.startswith(
        "constant 'hidden/bias': dtype DT_FLOAT -> DT_DOUBLE;"
    )
    assert all(c.severity == "risky" and "checkpoint" not in c.reason for c in variables.values())
    graph = ["/".join(c.path) for c in diff.changes(area="graph", annotations=True)]
    assert not [p for p in graph if "/out/kernel/" in p or "/hidden/bias/" in p], graph


def test_the_pull_request_reports_table_the_moved_constants(frozen_pair):
    from smlens.core.diff.report.html import render_html
    from smlens.core.diff.report.markdown import render_markdown

    _, _, diff, _, _ = frozen_pair
    markdown, html = render_markdown(diff), render_html(diff)
    assert "#### Constants with new values" in markdown and "| constant | shape |" in markdown
    assert "<h2>Constants with new values</h2>" in html and "<th>constant</th>" in html
    for name in RETRAINED_WEIGHTS:
        assert f"| `{name}` |" in markdown and f"<code>{name}</code>" in html
    for name in UNCHANGED_WEIGHTS:
        assert name not in markdown and name not in html


def test_a_graph_without_tags_is_named_so_in_the_changes_and_the_header(frozen_pair):
    from smlens.core.diff.report.text import render_diff

    a, b, diff, _, _ = frozen_pair
    graph = next(c for c in diff.groups["graph"] if c.children)
    assert graph.reason.startswith("main graph of (no tags): ")  # was "main graph of : "
    assert "tag-sets (no tags))" in render_diff(diff, a, b)
