"""diff_models on pairs of exports written by TensorFlow (tests/fixtures/pairs.py): every
expected change, and the absence of spurious ones; value deltas against numpy on tensors
read by tf.train.load_checkpoint."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from smlens.core.diff import values as diff_values
from smlens.core.diff.changes import ValueDelta
from smlens.core.diff.function_matching import Hasher, match_functions, strip_uid
from smlens.core.diff.model_diff import diff_models
from smlens.core.diff.signatures import diff_signatures, grade_shape
from smlens.core.diff.values import _Accumulator
from smlens.core.formats import proto
from smlens.core.formats.attrs import decode_tensor
from smlens.core.formats.bundle import TensorBundle
from smlens.core.formats.reader import open_model
from smlens.core.model import (
    ArgDef,
    Function,
    Graph,
    MetaGraph,
    Node,
    Shape,
    Signature,
    TensorInfo,
    TensorValue,
)
from smlens.core.tasks import Cancelled
from tests.fixtures.pairs import FEATURES, WIDE_FEATURES


def _open(models, name):
    root = models.path(name)
    return open_model(root / "a"), open_model(root / "b")


def _diff(models, name, **kwargs):
    return diff_models(*_open(models, name), **kwargs)


def _paths(diff, min_severity="info", area=None) -> set[str]:
    return {"/".join(c.path) for c in diff.changes(min_severity, area)}


# -- exported twice ----------------------------------------------------------------------------


def test_exported_twice_differs_only_in_fingerprint_and_saved_model_bytes(models):
    diff = _diff(models, "pair_exported_twice")

    assert _paths(diff) == set()
    assert {"/".join(c.path) for c in diff.changes(annotations=True)} == {
        "metadata/fingerprint/saved_model_checksum",
        "metadata/fingerprint/uuid",
        "metadata/bytes/graph",  # the generated function names are in saved_model.pb
    }
    assert diff.annotations() == {"fingerprint": 2, "file bytes": 1}
    assert diff.worst_severity is None
    assert diff.identical_parts == {"graph": False, "variables": True}


def test_exported_twice_matches_functions_despite_generated_names(models):
    a, b = _open(models, "pair_exported_twice")
    diff = diff_models(a, b)

    pairs = diff.function_matches["serve"]
    assert len(pairs) == len(a.meta_graphs[0].functions) == len(b.meta_graphs[0].functions)
    assert all(fa != fb and strip_uid(fa) == strip_uid(fb) for fa, fb, _ in pairs)
    assert diff.groups["functions"] == diff.groups["graph"] == []


def _signature_callee(mg: MetaGraph, key: str) -> str:
    node_name = mg.signatures[key].outputs["output_0"].name.split(":")[0]
    node = next(n for n in mg.graph.nodes if n.name == node_name)
    return node.attrs["f"].name


def test_identical_signature_wrappers_are_told_apart_by_the_signature_they_serve(models):
    a, b = (m.meta_graphs[0] for m in _open(models, "pair_exported_twice"))
    matching = match_functions(a, b, Hasher(a.graph), Hasher(b.graph))

    for key in ("serve", "serving_default"):
        fb, how = matching.pairs[_signature_callee(a, key)]
        assert fb == _signature_callee(b, key)
        assert how == f"signature:{key}"


def test_exported_twice_reads_no_tensor(models, monkeypatch):
    a, b = _open(models, "pair_exported_twice")
    reads = _spy_reads(monkeypatch)

    diff = diff_models(a, b)

    assert reads == []
    assert diff.value_deltas
    assert all(d.identical and not d.read for d in diff.value_deltas.values())


# -- structural matching ------------------------------------------------------------------------


def _fn(name: str, op: str, node: str = "n", callee: str | None = None) -> Function:
    nodes = [Node(node, op, ["x"])]
    if callee:
        nodes.append(Node(node + "_call", callee, [f"{node}:y:0"]))
    return Function(
        name=name,
        inputs=[ArgDef("x", dtype="DT_FLOAT")],
        outputs=[ArgDef("y", dtype="DT_FLOAT")],
        nodes=nodes,
        ret={"y": f"{nodes[-1].name}:y:0"},
    )


def _graph(*functions: Function) -> Graph:
    return Graph(nodes=[], functions={f.name: f for f in functions})


def test_structural_hash_ignores_function_and_node_names():
    a = _graph(
        _fn("__inference_leaf_12", "Relu"),
        _fn("__inference_top_13", "Neg", "p", "__inference_leaf_12"),
    )
    b = _graph(
        _fn("__inference_leaf_907", "Relu", "q"),
        _fn("__inference_top_908", "Neg", "r", "__inference_leaf_907"),
    )
    c = _graph(
        _fn("__inference_leaf_12", "Tanh"),
        _fn("__inference_top_13", "Neg", "p", "__inference_leaf_12"),
    )
    ha, hb, hc = Hasher(a), Hasher(b), Hasher(c)

    assert ha.function("__inference_leaf_12") == hb.function("__inference_leaf_907")
    assert ha.function("__inference_top_13") == hb.function("__inference_top_908")
    assert ha.function("__inference_leaf_12") != hc.function("__inference_leaf_12")
    # A caller's hash covers its callee's structure.
    assert ha.function("__inference_top_13") != hc.function("__inference_top_13")


def test_functions_without_roles_match_by_structure_then_by_stripped_name():
    a = MetaGraph(
        ["serve"], {}, _graph(_fn("__inference_f_1", "Relu"), _fn("__inference_g_2", "Exp"))
    )
    b = MetaGraph(
        ["serve"], {}, _graph(_fn("__inference_h_8", "Relu"), _fn("__inference_g_9", "Log"))
    )

    matching = match_functions(a, b, Hasher(a.graph), Hasher(b.graph))

    assert matching.pairs == {
        "__inference_f_1": ("__inference_h_8", "structure"),
        "__inference_g_2": ("__inference_g_9", "name"),
    }
    assert matching.added == matching.removed == []


# -- retrained -----------------------------------------------------------------------------------


def test_retrained_changes_only_values(models):
    diff = _diff(models, "pair_retrained")

    for area in ("tag_sets", "signatures", "ops", "functions", "graph", "assets"):
        assert diff.groups[area] == [], area
    variables = diff.changes(area="variables")
    assert {c.path[1] for c in variables} == {
        "mlp/hidden0/kernel",
        "mlp/hidden0/bias",
        "mlp/score/kernel",
        "mlp/score/bias",
    }
    assert all(c.kind == "changed" and c.severity == "info" for c in variables)
    assert diff.worst_severity == "info"


def test_retrained_value_deltas_match_numpy_on_tensorflow_reads(models):
    import tensorflow as tf

    root = models.path("pair_retrained")
    diff = _diff(models, "pair_retrained")
    reader_a = tf.train.load_checkpoint(str(root / "a" / "variables" / "variables"))
    reader_b = tf.train.load_checkpoint(str(root / "b" / "variables" / "variables"))

    assert len(diff.value_deltas) == 4
    for delta in diff.value_deltas.values():
        a = reader_a.get_tensor(delta.key_a).astype(np.float64)
        b = reader_b.get_tensor(delta.key_b).astype(np.float64)
        assert delta.read and delta.identical is False
        assert delta.max_abs == pytest.approx(np.abs(b - a).max(), rel=1e-9)
        assert delta.mean_abs == pytest.approx(np.abs(b - a).mean(), rel=1e-9)
        assert delta.changed_fraction == pytest.approx(np.mean(a != b))
        norm_a = np.linalg.norm(a)
        if norm_a:
            assert delta.relative_l2 == pytest.approx(np.linalg.norm(b - a) / norm_a, rel=1e-9)
        else:  # biases start at zero
            assert delta.relative_l2 == math.inf


def test_chunked_reading_gives_the_same_deltas(models, monkeypatch):
    whole = _diff(models, "pair_retrained").value_deltas
    monkeypatch.setattr(diff_values, "CHUNK_BYTES", 12)  # 3 float32 values per chunk

    chunked = _diff(models, "pair_retrained").value_deltas

    for name, delta in whole.items():
        other = chunked[name]
        assert other.max_abs == delta.max_abs
        assert other.changed_count == delta.changed_count
        assert other.mean_abs == pytest.approx(delta.mean_abs, rel=1e-12)
        assert other.relative_l2 == pytest.approx(delta.relative_l2, rel=1e-12)


def test_diff_model_is_strict_json(models):
    diff = _diff(models, "pair_retrained")

    data = json.loads(json.dumps(diff.to_json(), allow_nan=False))

    assert data["worst_severity"] == "info"
    assert {d["name"] for d in data["value_deltas"]} == set(diff.value_deltas)
    assert "inf" in {d["relative_l2"] for d in data["value_deltas"]}  # zero-initialised biases
    assert [c["path"][:2] for c in data["groups"]["variables"]] == [
        ["variables", c.path[1]] for c in diff.groups["variables"]
    ]


# -- widened input -------------------------------------------------------------------------------


def test_widened_input_is_breaking_and_names_the_input(models):
    diff = _diff(models, "pair_widened_input")

    breaking = diff.changes("breaking")
    assert {c.path for c in breaking} == {
        ("signatures", "serve", key, "inputs", "features", "shape")
        for key in ("serve", "serving_default")
    }
    for c in breaking:
        assert c.before == f"(?, {FEATURES})" and c.after == f"(?, {WIDE_FEATURES})"
        assert f"input 'features' of {c.path[2]}" in c.reason
        assert f"dim 1 changed from {FEATURES} to {WIDE_FEATURES}" in c.reason
    assert diff.worst_severity == "breaking"


def test_widened_input_reshapes_the_first_kernel(models):
    diff = _diff(models, "pair_widened_input")

    (risky,) = diff.changes("risky", area="variables")
    assert risky.path == ("variables", "mlp/hidden0/kernel")
    assert (risky.before, risky.after) == (
        f"DT_FLOAT ({FEATURES}, 8)",
        f"DT_FLOAT ({WIDE_FEATURES}, 8)",
    )
    assert "cannot be restored" in risky.reason
    assert "mlp/hidden0/kernel" not in diff.value_deltas
    assert diff.groups["ops"] == diff.groups["tag_sets"] == []


# -- extra layer ---------------------------------------------------------------------------------


def test_extra_layer_adds_variables_and_changes_the_call_function(models):
    diff = _diff(models, "pair_extra_layer")

    added = {c.path[1] for c in diff.changes(area="variables") if c.kind == "added"}
    assert added == {"mlp/hidden1/kernel", "mlp/hidden1/bias"}
    functions = {c.path[2]: c for c in diff.groups["functions"][0].children}
    call = functions["__inference___call__"]
    assert call.kind == "changed"
    new_nodes = {c.path[3] for c in call.children if c.kind == "added"}
    assert "mlp_1/hidden1_1/MatMul" in new_nodes
    assert not [c for c in functions.values() if c.kind != "changed"]  # none added or removed
    assert diff.groups["signatures"] == diff.groups["ops"] == []
    assert diff.worst_severity == "risky"  # the score kernel is now (4, 1)


# -- signatures ----------------------------------------------------------------------------------


def test_extra_signature_and_renamed_output(models):
    diff = _diff(models, "pair_signatures")
    by_path = {c.path: c for c in diff.changes(area="signatures")}

    base = ("signatures", "serve")
    assert by_path.keys() == {
        (*base, "embed"),
        (*base, "serving_default", "outputs", "scores"),
        (*base, "serving_default", "outputs", "probabilities"),
    }
    embed = by_path[(*base, "embed")]
    assert (embed.kind, embed.severity) == ("added", "info")
    scores = by_path[(*base, "serving_default", "outputs", "scores")]
    assert (scores.kind, scores.severity) == ("removed", "breaking")
    assert "'scores'" in scores.reason and "serving_default" in scores.reason
    probabilities = by_path[(*base, "serving_default", "outputs", "probabilities")]
    assert (probabilities.kind, probabilities.severity) == ("added", "info")
    assert [c.path for c in diff.changes("breaking")] == [scores.path]


def _info(key: str, shape=(None, 3), dtype="DT_FLOAT", name="") -> TensorInfo:
    dims = tuple(-1 if d is None else d for d in shape)
    return TensorInfo(key, dtype, Shape(dims), name or f"{key}:0")


def _meta(signature: Signature) -> MetaGraph:
    return MetaGraph(["serve"], {signature.key: signature}, Graph([], {}))


def _default(value: float) -> TensorValue:
    return decode_tensor(proto.TensorProto(dtype=1, float_val=[value]))


def _sig(inputs, outputs=None, method="tensorflow/serving/predict", defaults=None) -> Signature:
    outputs = outputs or [_info("y")]
    return Signature(
        "serving_default",
        method,
        {i.key: i for i in inputs},
        {o.key: o for o in outputs},
        defaults or {},
    )


def _graded(a: Signature, b: Signature) -> dict[tuple, str]:
    (root,) = diff_signatures("serve", _meta(a), _meta(b)) or [None]
    if root is None:
        return {}
    return {c.path[3:]: c.severity for c in root.walk() if not c.children}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([_info("x")], [_info("x"), _info("k")], {("inputs", "k"): "breaking"}),
        ([_info("x")], [_info("x", name="renamed:0")], {("inputs", "x", "tensor_name"): "info"}),
        ([_info("x")], [_info("x", dtype="DT_DOUBLE")], {("inputs", "x", "dtype"): "breaking"}),
        ([_info("x"), _info("k")], [_info("x")], {("inputs", "k"): "breaking"}),
    ],
    ids=["input added", "tensor renamed", "dtype changed", "required input removed"],
)
def test_input_changes_are_graded(a, b, expected):
    assert _graded(_sig(a), _sig(b)) == expected


def test_inputs_with_defaults_are_optional():
    with_default = _sig([_info("x"), _info("k", shape=())], defaults={"k": _default(1.0)})
    without = _sig([_info("x")])

    assert _graded(without, with_default) == {("inputs", "k"): "info"}
    assert _graded(with_default, without) == {("inputs", "k"): "risky"}
    changed = _sig([_info("x"), _info("k", shape=())], defaults={"k": _default(2.0)})
    assert _graded(with_default, changed) == {("inputs", "k", "default"): "risky"}


def test_output_and_method_changes_are_graded():
    a = _sig([_info("x")], [_info("y"), _info("z")])
    b = _sig([_info("x")], [_info("y"), _info("w")], method="tensorflow/serving/classify")

    assert _graded(a, b) == {
        ("method_name",): "breaking",
        ("outputs", "z"): "breaking",
        ("outputs", "w"): "info",
    }


@pytest.mark.parametrize(
    ("before", "after", "role", "severity"),
    [
        ((-1, 10), (-1, -1), "input", "info"),
        ((-1, 10), (-1, -1), "output", "risky"),
        ((-1, -1), (-1, 10), "input", "breaking"),
        ((-1, -1), (-1, 10), "output", "info"),
        ((-1, 10), None, "input", "info"),
        ((-1, 10), None, "output", "risky"),
        (None, (-1, 10), "input", "breaking"),
        (None, (-1, 10), "output", "info"),
        ((-1, 10), (-1, 12), "input", "breaking"),
        ((-1, 10), (-1, 12), "output", "breaking"),
        ((-1, 10), (-1, 10, 1), "input", "breaking"),
        ((-1, 10), (-1, 10, 1), "output", "breaking"),
        ((4, 10), (-1, 12), "input", "breaking"),  # the worst dim wins
    ],
)
def test_shape_grades(before, after, role, severity):
    grade, details = grade_shape(Shape(before), Shape(after), role)

    assert grade == severity
    assert details and all(isinstance(d, str) and d for d in details)


def test_equal_shapes_are_no_change():
    assert grade_shape(Shape((-1, 3)), Shape((-1, 3)), "input") is None


# -- TF1 tag-sets and ops ------------------------------------------------------------------------


def test_tf1_removed_tag_set_is_breaking(models):
    diff = _diff(models, "pair_tf1_tags")

    (change,) = diff.groups["tag_sets"]
    assert (change.path, change.kind, change.severity) == (
        ("tag_sets", "serve,gpu"),
        "removed",
        "breaking",
    )
    assert "serve,gpu" in change.reason
    assert _paths(diff) == {"tag_sets/serve,gpu"}
    assert diff.annotations() == {"file bytes": 1}


def test_read_file_is_a_risky_new_op(models):
    diff = _diff(models, "pair_read_file")

    ops = {c.path[1]: c for c in diff.groups["ops"]}
    read_file = ops["ReadFile"]
    assert (read_file.kind, read_file.severity) == ("added", "risky")
    assert "files" in read_file.reason
    assert all(c.kind == "added" and c.severity == "risky" for c in ops.values())
    (call,) = [c for c in diff.groups["functions"][0].children if c.kind == "changed"]
    assert "ReadFile" in {c.path[-1] for c in call.children if c.kind == "added"}
    assert diff.changes("breaking") == []


# -- checkpoints, slots and reads ----------------------------------------------------------------


def _spy_reads(monkeypatch) -> list[str]:
    """Record every key whose values are read, through either reading path."""
    reads: list[str] = []
    chunks, read = diff_values._ChunkReader.chunks, TensorBundle.read

    def spy_chunks(self, key):
        reads.append(key)
        return chunks(self, key)

    def spy_read(self, key, **kwargs):
        reads.append(key)
        return read(self, key, **kwargs)

    monkeypatch.setattr(diff_values._ChunkReader, "chunks", spy_chunks)
    monkeypatch.setattr(TensorBundle, "read", spy_read)
    return reads


def _differing_keys(a, b) -> set[str]:
    entries_a, entries_b = a.checkpoint.entries, b.checkpoint.entries
    return {
        v.key
        for v in a.variables
        if v.key in entries_b
        and (entries_a[v.key].crc32c, entries_a[v.key].size)
        != (entries_b[v.key].crc32c, entries_b[v.key].size)
    }


def test_tensors_with_equal_checksums_are_not_read(models, monkeypatch):
    a, b = _open(models, "pair_checkpoints")
    reads = _spy_reads(monkeypatch)

    diff = diff_models(a, b)

    slots = {v.key for v in a.variables if v.slot_of}
    expected = _differing_keys(a, b) - slots
    assert "net/bias/.ATTRIBUTES/VARIABLE_VALUE" not in expected
    assert sorted(reads) == sorted([*expected, *expected])  # once in A, once in B
    assert diff.value_deltas["bias"].identical and not diff.value_deltas["bias"].read
    assert diff.value_deltas["kernel"].read and not diff.value_deltas["kernel"].identical


def test_optimizer_slots_are_listed_but_not_read_by_default(models, monkeypatch):
    a, b = _open(models, "pair_checkpoints")
    reads = _spy_reads(monkeypatch)

    diff = diff_models(a, b)

    slot_changes = [c for c in diff.changes(area="variables") if c.role == "optimizer_state"]
    assert {c.path[1] for c in slot_changes} == {"kernel/Adam", "kernel/Adam_1"}
    assert all(c.severity == "info" for c in slot_changes)
    assert all("optimizer state, not compared" in c.reason for c in slot_changes)
    slot_keys = {v.key for v in a.variables if v.slot_of}
    assert not slot_keys & set(reads)
    reads.clear()
    with_slots = diff_models(a, b, slots=True)
    assert slot_keys & set(reads)
    assert with_slots.value_deltas["kernel/Adam"].max_abs > 0


def test_no_values_reads_nothing_but_still_reports_differing_checksums(models, monkeypatch):
    a, b = _open(models, "pair_checkpoints")
    reads = _spy_reads(monkeypatch)

    diff = diff_models(a, b, values=False)

    assert reads == []
    kernel = diff.value_deltas["kernel"]
    assert kernel.identical is None and kernel.max_abs is None
    assert diff.value_deltas["bias"].identical is True
    assert any(c.path == ("variables", "kernel") for c in diff.changes(area="variables"))


# -- assets ------------------------------------------------------------------------------------


def test_vocab_asset_lists_the_lines_that_changed(models):
    diff = _diff(models, "pair_vocab")

    (change,) = diff.groups["assets"]
    assert change.path == ("assets", "assets/vocab.txt")
    assert (change.kind, change.severity) == ("changed", "risky")
    assert change.before["lines_removed"] == ["cherry"]
    assert change.after["lines_added"] == ["elderberry"]
    assert change.before["sha256"] != change.after["sha256"]
    assert "1 line added, 1 removed" in change.reason
    assert diff.identical_parts["assets"] is False
    assert diff.groups["signatures"] == diff.groups["functions"] == []


# -- progress, cancellation, accumulation ------------------------------------------------------


def test_progress_rises_to_one(models):
    seen = []

    _diff(models, "pair_retrained", progress=lambda f, text: seen.append((f, text)))

    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert any(text.startswith("comparing mlp/") for _, text in seen)


def test_cancelled_diff_raises(models):
    a, b = _open(models, "pair_retrained")
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        diff_models(a, b, cancelled=cancelled)


def _delta(a, b) -> ValueDelta:
    acc = _Accumulator()
    acc.add(np.asarray(a), np.asarray(b))
    return acc.delta(ValueDelta("v", "k", "k", "DT_FLOAT", (len(a),), None, count=len(a)))


def test_nan_and_inf_that_stay_put_are_no_change():
    nan, inf = float("nan"), float("inf")
    delta = _delta(np.float32([1, nan, inf, 0]), np.float32([1, nan, inf, -0.0]))

    assert delta.identical and delta.max_abs == 0 and delta.changed_count == 0


def test_values_becoming_nan_make_the_figures_infinite():
    delta = _delta(np.float32([1, 2, 3]), np.float32([1, float("nan"), 4]))

    assert delta.identical is False and delta.changed_count == 2
    assert delta.max_abs == delta.relative_l2 == math.inf
    assert "NaN/Inf" in delta.note


def test_integer_bool_and_string_values():
    ints = _delta(np.int64([1, 5, 9]), np.int64([1, 2, 9]))
    assert (ints.max_abs, ints.changed_count) == (3.0, 1)
    flags = _delta(np.array([True, False]), np.array([True, True]))
    assert (flags.max_abs, flags.changed_count) == (1.0, 1)
    words = _delta(np.array([b"a", b"b"], dtype=object), np.array([b"a", b"c"], dtype=object))
    assert words.changed_count == 1 and words.max_abs is None and words.identical is False


def test_an_unreadable_tensor_is_a_warning_on_the_result(models, tmp_path):
    shutil.copytree(models.path("pair_checkpoints"), tmp_path / "pair")
    (shard,) = (tmp_path / "pair" / "b").glob("ckpt.data-*")
    shard.write_bytes(shard.read_bytes()[:8])

    diff = diff_models(open_model(tmp_path / "pair" / "a"), open_model(tmp_path / "pair" / "b"))

    kernel = diff.value_deltas["kernel"]
    assert kernel.identical is None and kernel.note.startswith("unreadable:")
    assert diff.problems and all(p.part == "variables" for p in diff.problems)
    assert diff.value_deltas["bias"].identical  # known from the index alone
