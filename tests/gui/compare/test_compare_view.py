"""The compare view on fixture pairs exported by TensorFlow (tests/fixtures/pairs.py): the
summary tree, the side-by-side detail, signatures in two columns, functions, swapping, and
a newer comparison replacing an older one."""

from __future__ import annotations

import gc
import threading

import pytest
from PySide6.QtCore import QCoreApplication, Qt, QThreadPool

from smlens.gui.compare import comparer
from smlens.gui.compare.view import CompareView

DIFF_MS = 60_000


@pytest.fixture
def view(qtbot) -> CompareView:
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    return widget


def _compare(qtbot, view: CompareView, models, name: str):
    root = models.path(name)
    with qtbot.waitSignal(view.diff_ready, timeout=DIFF_MS) as signal:
        view.compare(root / "a", root / "b")
    return signal.args[0]


def _leaf_paths(view: CompareView) -> set[str]:
    return {"/".join(c.path) for _, _, _, _, c in view.tree.rows() if not c.children}


def test_widened_input_shows_a_breaking_row_naming_the_input(qtbot, view, models):
    _compare(qtbot, view, models, "pair_widened_input")

    assert view.tree.group_titles()[0] == "Signatures (2)"  # breaking first
    breaking = [r for r in view.tree.rows() if r[4].severity == "breaking" and not r[4].children]
    assert len(breaking) == 2
    assert all("input 'features'" in why and "10 to 12" in why for _, _, _, why, _ in breaking)
    assert "BREAKING" in view.verdict.text()
    # The first breaking change is selected, and shown side by side with its reason.
    assert view.detail.change is breaking[0][4]
    assert "features" in view.detail.reason_text()
    assert view.detail.before.text.toPlainText() == "(?, 10)"
    assert view.detail.after.text.toPlainText() == "(?, 12)"
    assert view.detail.before.marked == {0}
    assert "input  features: float32 (?, 12)" in view.detail.context_b.text.toPlainText()


def test_widened_input_signatures_in_two_columns_with_the_input_highlighted(qtbot, view, models):
    _compare(qtbot, view, models, "pair_widened_input")

    rows = view.signatures.rows()
    features = [r for r in rows if r[0] == "features"]
    assert features == [("features", "float32 (?, 10)", "float32 (?, 12)", "breaking")] * 2
    outputs = [r for r in rows if r[0] == "output_0"]
    assert outputs and all(r[1] == r[2] and r[3] is None for r in outputs)


def test_reading_the_rows_back_leaves_no_garbage_cycles(qtbot, view, models):
    _compare(qtbot, view, models, "pair_widened_input")
    gc.collect()
    assert view.tree.rows() and view.signatures.rows()
    assert gc.collect() == 0  # a recursive closure is a cycle: function, cell, function


def test_identical_export_shows_only_the_fingerprint_change(qtbot, view, models):
    comparison = _compare(qtbot, view, models, "pair_exported_twice")

    assert _leaf_paths(view) == {
        "metadata/fingerprint/saved_model_checksum",
        "metadata/fingerprint/uuid",
        "metadata/bytes/graph",
    }
    assert view.tree.group_titles() == ["Annotations (3)"]  # no change that matters
    assert not view.tree.isExpanded(view.tree.model().index(0, 0))
    assert "only fingerprints and file bytes differ" in view.verdict.text()
    assert "Signatures<br>no change" in view.areas.text()
    statuses = {r.status for r in view.variables.table_model.rows}
    assert statuses == {"identical"}
    assert len(view.variables.names()) == len(comparison.diff.value_deltas) == 4
    assert view.functions.function_names() == []


def test_swap_flips_added_and_removed(qtbot, view, models):
    _compare(qtbot, view, models, "pair_extra_layer")
    status = {r.name: r.status for r in view.variables.table_model.rows}
    assert status["mlp/hidden1/kernel"] == "added"
    assert "pair_extra_layer/a" in view.label_a.text()
    assert view.swap_button.shortcut().toString() == "Ctrl+Shift+X"

    with qtbot.waitSignal(view.diff_ready, timeout=DIFF_MS) as signal:
        qtbot.mouseClick(view.swap_button, Qt.MouseButton.LeftButton)
    comparison = signal.args[0]
    assert comparison.a.path.name == "b" and comparison.b.path.name == "a"
    status = {r.name: r.status for r in view.variables.table_model.rows}
    assert status["mlp/hidden1/kernel"] == "removed"
    assert "pair_extra_layer/b" in view.label_a.text()


def test_extra_layer_lists_the_changed_function_and_each_differing_attr(qtbot, view, models):
    _compare(qtbot, view, models, "pair_extra_layer")

    assert "__inference___call__" in view.functions.function_names()
    assert view.functions.select_function("__inference___call__")
    rows = view.functions.node_table()
    added = {r[0] for r in rows if r[1] == "added" and r[2] == "node"}
    assert "mlp_1/hidden1_1/MatMul" in added
    attrs = [r for r in rows if r[2] == "attr _output_shapes"]
    assert ("mlp_1/score_1/Cast/ReadVariableOp", "changed", "attr _output_shapes") in [
        r[:3] for r in attrs
    ]
    assert any(r[3] == "[(8, 1)]" and r[4] == "[(4, 1)]" for r in attrs)


def test_keyboard_moves_through_changes_and_enter_opens_the_variable(qtbot, view, models):
    _compare(qtbot, view, models, "pair_widened_input")
    view.show()
    first = view.detail.change
    view.tree.setFocus()
    qtbot.keyClick(view.tree, Qt.Key.Key_Down)
    assert view.detail.change is not first

    assert view.tree.select_path(("variables", "mlp/hidden0/kernel"))
    assert view.detail.change.severity == "risky"
    qtbot.keyClick(view.tree, Qt.Key.Key_Return)
    assert view.tabs.currentWidget() is view.variables
    current = view.variables.table.currentIndex()
    assert view.variables.table_model.rows[current.row()].status == "reshaped"


def test_a_newer_comparison_replaces_a_running_one(qtbot, view, models, monkeypatch):
    """The older diff runs on to the end, deaf to its cancellation, and its result must still
    not be shown: the runner drops a stale task's result."""
    widened, retrained = models.path("pair_widened_input"), models.path("pair_retrained")
    release = threading.Event()
    real = comparer._open_and_diff

    def deaf_when_old(a, b, progress, cancelled):
        if a == widened / "a":
            release.wait(DIFF_MS / 1000)
            return real(a, b, progress, lambda: False)
        return real(a, b, progress, cancelled)

    monkeypatch.setattr(comparer, "_open_and_diff", deaf_when_old)
    received = []
    view.diff_ready.connect(received.append)
    view.compare(widened / "a", widened / "b")
    with qtbot.waitSignal(view.diff_ready, timeout=DIFF_MS):
        view.compare(retrained / "a", retrained / "b")
    release.set()
    assert QThreadPool.globalInstance().waitForDone(DIFF_MS)  # the older diff ends too...
    QCoreApplication.sendPostedEvents()  # ...and its result, sent to this thread, arrives now
    assert [c.a.path for c in received] == [retrained / "a"]
    assert view.comparison.diff.worst_severity == "info"


def test_renamed_layer_pair_shows_renames_and_the_summary_first(qtbot, view, models):
    comparison = _compare(qtbot, view, models, "pair_keras_renamed_layer")

    assert "Compatible" in view.verdict.text()
    areas = view.areas.text()
    assert areas.index("Signatures") < areas.index("Functions") < areas.index("Variables")
    assert "2 renamed" in areas
    assert view.tree.group_titles()[-1].startswith("Annotations (")
    rows = {r.name: r.status for r in view.variables.table_model.rows}
    assert rows["probs/kernel → probabilities/kernel"] == "renamed"
    assert rows["dense_1/kernel"] == "identical"
    assert view.variables.select_variable("probs/kernel")  # by the name A gives it
    differ = sum(s != "identical" for s in rows.values())
    assert view.tabs.tabText(2) == f"&Variables ({differ} of {len(rows)} differ)"
    leaves = _leaf_paths(view)
    assert not any("dense_1" in p for p in leaves if not p.startswith("annotations"))
    assert comparison.diff.changes("risky") == []
