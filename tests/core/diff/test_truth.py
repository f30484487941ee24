"""Issue 11, "compare that tells the truth", on pairs TensorFlow exports in the test run: the
right variable pairs on renames, silence on re-exports, annotations apart, summary first."""

from __future__ import annotations

import shutil

import pytest

from smlens.core.diff.changes import SEVERITIES
from smlens.core.diff.model_diff import diff_models
from smlens.core.diff.report.drift import drift_rows
from smlens.core.diff.report.summary import summarize
from smlens.core.formats import proto
from smlens.core.formats.reader import open_model

NODE_AREAS = ("functions", "graph")


def _diff(models, name: str, **kwargs):
    root = models.path(name)
    a, b = open_model(root / "a"), open_model(root / "b")
    return a, b, diff_models(a, b, **kwargs)


def _call_scopes(model) -> set[str]:
    """Top name scopes of the model's traced __call__ (functional_1, or functional_1_1)."""
    functions = model.meta_graphs[0].functions
    fn = next(f for n, f in functions.items() if n.startswith("__inference___call__"))
    return {n.name.split("/")[0] for n in fn.nodes if "/" in n.name}


def _paths(changes) -> set[str]:
    return {"/".join(c.path) for c in changes}


# -- re-export ---------------------------------------------------------------------------------


def test_keras_reexport_has_no_change_outside_fingerprints_and_file_bytes(models):
    a, b, diff = _diff(models, "pair_keras_reexport")

    assert diff.changes() == []
    assert diff.worst_severity is None
    # What differs is bookkeeping: the saver's object graph and handle numbering move.
    assert set(diff.annotations()) <= {"fingerprint", "file bytes", "saver plumbing"}
    assert summarize(diff).verdict == "No semantic change: only fingerprints and file bytes differ"
    # The exports really do differ in ways a name-by-name diff reports.
    scopes_a, scopes_b = (_call_scopes(m) for m in (a, b))
    assert scopes_a != scopes_b  # functional_1 and functional_1_1 when built first


def test_keras_reexport_scopes_with_a_suffix_show_no_node_change(models):
    _, _, diff = _diff(models, "pair_keras_reexport")

    nodes = [c for area in NODE_AREAS for c in diff.changes(area=area, annotations=True)]
    assert not [c for c in nodes if c.annotation != "saver plumbing"]


def test_keras_reexport_variables_pair_by_name_and_read_nothing(models):
    _, _, diff = _diff(models, "pair_keras_reexport")

    assert sorted(diff.value_deltas) == [
        "dense_1/bias",
        "dense_1/kernel",
        "probs/bias",
        "probs/kernel",
    ]
    assert all(d.identical and not d.read for d in diff.value_deltas.values())


# -- renamed layer -----------------------------------------------------------------------------


def test_renamed_layer_pairs_by_evidence_never_by_position(models):
    _, b, diff = _diff(models, "pair_keras_renamed_layer")

    variables = {c.path[1]: c for c in diff.changes(area="variables")}
    assert {k: c.kind for k, c in variables.items()} == {
        "probs/bias": "renamed",
        "probs/kernel": "renamed",
        "dense_extra/bias": "added",
        "dense_extra/kernel": "added",
    }
    assert variables["probs/bias"].after == "probabilities/bias"
    assert variables["probs/kernel"].after == "probabilities/kernel"
    assert "same stored bytes" in variables["probs/bias"].reason  # zeros of shape (3,)
    assert "layer 'probs' is 'probabilities'" in variables["probs/kernel"].reason
    # No shape change is invented by pairing tensors of different layers.
    assert not diff.changes("risky")
    kernel = diff.value_deltas["probs/kernel"]
    assert (kernel.key_a, kernel.key_b) != (None, None)
    names_b = {v.key: v.name for v in b.variables}
    assert names_b[kernel.key_b] == "probabilities/kernel"
    assert kernel.shape == (32, 3)


def test_renamed_layer_values_match_numpy_on_tensorflow_reads(models):
    tf = pytest.importorskip("tensorflow")
    root = models.path("pair_keras_renamed_layer")
    _, _, diff = _diff(models, "pair_keras_renamed_layer")
    delta = diff.value_deltas["probs/kernel"]

    ra = tf.train.load_checkpoint(str(root / "a" / "variables" / "variables"))
    rb = tf.train.load_checkpoint(str(root / "b" / "variables" / "variables"))
    before, after = ra.get_tensor(delta.key_a), rb.get_tensor(delta.key_b)

    assert before.shape == after.shape == (32, 3)
    assert delta.max_abs == pytest.approx(float(abs(after - before).max()), rel=1e-6)


def test_renamed_layer_leaves_the_untouched_layer_without_change(models):
    _, _, diff = _diff(models, "pair_keras_renamed_layer")

    for area in NODE_AREAS:
        touched = [c for c in diff.changes(area=area) if "dense_1" in "/".join(c.path)]
        assert touched == [], _paths(touched)
    added = _paths(c for c in diff.changes(area="functions") if c.kind == "added")
    assert added and all("dense_extra" in p for p in added)


def test_renamed_layer_saver_is_compared_as_what_it_saves(models):
    _, _, diff = _diff(models, "pair_keras_renamed_layer")

    savers = [c for c in diff.changes(area="functions") if "_traced_" in c.path[2]]
    assert len(savers) == 2  # save and restore, one change each, not node by node
    for change in savers:
        assert len(change.path) == 3
        assert sorted(e[0] for e in change.after) == ["dense_extra/bias", "dense_extra/kernel"]
        assert change.before == []


def test_renamed_layer_drift_rows_name_both_sides(models):
    _, _, diff = _diff(models, "pair_keras_renamed_layer")

    rows = {r.name: r.status for r in drift_rows(diff)}
    assert rows["probs/kernel → probabilities/kernel"] == "renamed"
    assert rows["dense_extra/kernel"] == "added"
    assert rows["dense_1/kernel"] == "identical"


# -- retrained ---------------------------------------------------------------------------------


def test_retrained_has_only_value_changes_with_their_deltas(models):
    _, _, diff = _diff(models, "pair_retrained")

    changes = diff.changes()
    assert changes and {c.area for c in changes} == {"variables"}
    assert all(c.kind == "changed" and c.before is None for c in changes)
    assert all(d.identical is False and d.max_abs > 0 for d in diff.value_deltas.values())
    detail = summarize(diff).detail
    assert detail.startswith("Same graph, new weights: 4 of 4 variables changed")


# -- annotations and the JSON contract ---------------------------------------------------------


def test_annotations_are_info_and_marked_in_the_json(models):
    _, _, diff = _diff(models, "pair_widened_input")

    notes = [c for c in diff.changes(annotations=True) if c.annotation]
    assert notes and all(c.severity == "info" for c in notes)
    assert any(c.annotation == "attr _output_shapes" for c in notes)
    data = diff.to_json()
    assert data["annotation_counts"] == diff.annotations()
    assert sum(data["counts"][s] for s in SEVERITIES) == len(diff.changes())

    def leaves(change):
        if not change["children"]:
            yield change
        for child in change["children"]:
            yield from leaves(child)

    flagged = [
        c for g in data["groups"].values() for ch in g for c in leaves(ch) if c["annotation"]
    ]
    assert len(flagged) == len(notes)
    assert all(c["annotation_kind"] for c in flagged)


def test_a_call_to_a_function_missing_from_the_library_is_a_warning_not_a_crash(models, tmp_path):
    root = models.path("pair_exported_twice")
    for side in ("a", "b"):
        shutil.copytree(root / side, tmp_path / side)
    pb = tmp_path / "b" / "saved_model.pb"
    saved = proto.SavedModel.FromString(pb.read_bytes())
    library = saved.meta_graphs[0].graph_def.library
    victim = next(f for f in library.function if "signature_wrapper" in f.signature.name)
    name = victim.signature.name
    library.function.remove(victim)
    pb.write_bytes(saved.SerializeToString())

    diff = diff_models(open_model(tmp_path / "a"), open_model(tmp_path / "b"))

    assert any(name in p.message and "does not define" in p.message for p in diff.problems)
    assert any(c.kind == "removed" and c.area == "functions" for c in diff.changes())
    (broken,) = diff.changes("breaking")  # B cannot be imported: a client's load fails
    assert broken.area == "graph" and name in broken.reason
