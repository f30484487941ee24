"""The variables tab on the retrained pair: drift order and the histogram of after - before,
both checked against numpy on tensors read by TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from smlens.gui.compare.variables import COLUMNS
from smlens.gui.compare.view import CompareView

DIFF_MS = 60_000


@pytest.fixture
def retrained(qtbot, models):
    tf = pytest.importorskip("tensorflow")
    root = models.path("pair_retrained")
    view = CompareView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.diff_ready, timeout=DIFF_MS) as signal:
        view.compare(root / "a", root / "b")
    readers = [tf.train.load_checkpoint(str(root / s / "variables" / "variables")) for s in "ab"]
    return view, signal.args[0], readers


def _values(comparison, readers, name):
    delta = comparison.diff.value_deltas[name]
    return readers[0].get_tensor(delta.key_a), readers[1].get_tensor(delta.key_b)


def test_table_sorted_by_drift_follows_numpy(qtbot, retrained):
    view, comparison, readers = retrained
    panel = view.variables
    names = panel.names()
    assert len(names) == 4
    max_abs = {}
    rel_l2 = {}
    for name in names:
        a, b = _values(comparison, readers, name)
        max_abs[name] = float(np.abs(b - a).max())
        norm = np.linalg.norm(a)
        rel_l2[name] = np.inf if norm == 0 else float(np.linalg.norm(b - a) / norm)

    # Sorted by max |delta|, largest first, by default.
    assert panel.names() == sorted(names, key=max_abs.get, reverse=True)
    shown = [panel.table_model.index(r, COLUMNS.index("Max |Δ|")).data() for r in range(4)]
    assert shown == [f"{max_abs[n]:.4g}" for n in panel.names()]

    panel.table.sortByColumn(COLUMNS.index("Relative L2"), Qt.SortOrder.AscendingOrder)
    assert panel.names() == sorted(names, key=rel_l2.get)
    assert panel.names()[-2:] and all(np.isinf(rel_l2[n]) for n in panel.names()[-2:])


def test_histogram_of_the_selected_variable_equals_numpys(qtbot, retrained):
    view, comparison, readers = retrained
    panel = view.variables
    with qtbot.waitSignal(panel.histogram_ready, timeout=DIFF_MS) as signal:
        assert panel.select_variable("mlp/hidden0/kernel")
    hist = signal.args[0]
    a, b = _values(comparison, readers, "mlp/hidden0/kernel")
    expected = (b.astype(np.float64) - a.astype(np.float64)).reshape(-1)

    edges, counts = panel.curve.getData()
    assert panel.curve.isVisible() and panel.plot.isVisibleTo(panel)
    np.testing.assert_array_equal(counts, np.histogram(expected, bins=edges)[0])
    assert counts.sum() == expected.size == 80
    assert edges[0] == pytest.approx(expected.min()) and edges[-1] == pytest.approx(expected.max())
    assert hist.changed == np.count_nonzero(expected)
    assert "80 of 80 elements changed" in panel.caption.text()


def test_identical_variable_needs_no_histogram(qtbot, models):
    root = models.path("pair_exported_twice")
    view = CompareView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.diff_ready, timeout=DIFF_MS):
        view.compare(root / "a", root / "b")
    panel = view.variables
    assert panel.select_variable("mlp/score/kernel")
    assert "identical in A and B" in panel.caption.text()
    assert not panel.plot.isVisibleTo(panel)
    assert panel.histogram is None


def test_trained_twice_shows_the_weights_first_and_the_rest_one_click_away(qtbot, tmp_path):
    tf = pytest.importorskip("tensorflow")
    from tests.fixtures.trained import STEPS, keras_classifier, keras_roles

    truth = {}
    for side, seed, steps in (("a", 0, STEPS), ("b", 1, 2 * STEPS)):
        model = keras_classifier(seed=seed, steps=steps)
        tf.saved_model.save(model, str(tmp_path / side))
        truth = keras_roles(model)
    view = CompareView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.diff_ready, timeout=DIFF_MS):
        view.compare(tmp_path / "a", tmp_path / "b")
    panel = view.variables
    weights = {name for name, (role, _, _) in truth.items() if role == "weight"}
    assert panel.role_bar.group == "weights" and set(panel.names()) == weights
    panel.role_bar.buttons["optimizer"].click()
    assert set(panel.names()) == {n for n, t in truth.items() if t[0].startswith("optimizer")}
    moment = next(n for n, t in truth.items() if t[0] == "optimizer_state")
    panel.role_bar.buttons["metrics"].click()
    assert panel.select_variable(moment)  # switches to every role to show it
    assert panel.role_bar.group == "all" and len(panel.names()) == len(truth)
    row = panel.names().index(moment)
    tip = panel.table_model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert f"of the weight {truth[moment][1]}" in tip
