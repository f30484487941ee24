"""The compare window's Outputs tab: Run both on exports TensorFlow made in this test run. A
re-export stays within tolerance; a shifted classifier and a retrained copy name the changed
outputs, coloured beyond tolerance, with top-1 agreement; Cancel leaves no worker. Expected
figures come from the fixtures' definitions or from TensorFlow's own calls."""

from __future__ import annotations

import json
import os
import sys
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

from smlens.core import open_model
from smlens.core.run.client import RunEngine
from smlens.core.run.inputs import InputSource
from smlens.gui.base.tasks import tasks_running
from smlens.gui.compare.outputs import OutputsCompareTab
from smlens.gui.compare.window import CompareWindow
from smlens.gui.run.output_diff_table import (
    BEYOND,
    COLUMNS,
    KEY,
    MAX_ABS,
    TOP1,
    VERDICT,
    beyond_color,
    within_color,
)
from tests.core.run.test_run import FAKE_WORKER
from tests.fixtures.output_pairs import CLASSIFIER_X, logits
from tests.fixtures.warmup import WARMUP_RECORDS

RUN_MS = 180_000  # the worker imports TensorFlow, then loads both exports
DIFF_MS = 60_000


@pytest.fixture
def tab(qtbot):
    widget = OutputsCompareTab()
    qtbot.addWidget(widget)
    yield widget
    widget.close_engine()


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _run_both(qtbot, tab: OutputsCompareTab):
    assert tab.run_both(), tab.error.text()
    qtbot.waitUntil(lambda: not tab.busy, timeout=RUN_MS)
    assert tab.run is not None, tab.error.text()
    return tab.run


def _rows(tab: OutputsCompareTab) -> dict[str, dict[int, object]]:
    """Each output's row: column -> its text, and "bg" -> its background colour."""
    model = tab.comparison.table_model
    rows = {}
    for r in range(model.rowCount()):
        key = model.data(model.index(r, KEY))
        cells = {c: model.data(model.index(r, c)) for c in range(len(COLUMNS))}
        cells["bg"] = model.data(model.index(r, KEY), Qt.ItemDataRole.BackgroundRole)
        rows[key] = cells
    return rows


def test_a_reexport_runs_within_tolerance_in_every_output(qtbot, tab, models):
    root = models.path("pair_keras_reexport")
    tab.set_models(open_model(root / "a"), open_model(root / "b"))
    assert tab.signature_combo.count() >= 1 and tab.run_button.isEnabled()

    run = _run_both(qtbot, tab)

    rows = _rows(tab)
    assert rows and all(cells[VERDICT] == "within" for cells in rows.values())
    assert all(cells["bg"] == within_color() for cells in rows.values())
    assert [sig.signature for sig in run.diff.signatures] == [tab.signature_key]
    assert tab.inputs.batch_size() == 8  # the fill smlens diff --outputs uses
    assert tab.verdict_text() == f"{len(rows)} of {len(rows)} within tolerance on 8 inputs"
    assert tab.status.text() == "" and tab.error_frame.isHidden()
    assert not tab.cancel_button.isEnabled() and tab.run_button.isEnabled()


def test_a_bad_tolerance_is_named_and_nothing_runs(tab, models):
    root = models.path("outputs_classifier")
    tab.set_models(open_model(root / "a"), open_model(root / "copy"))
    tab.atol_edit.setText("1e-5, probabilities:lots")

    assert not tab.run_both()

    assert not tab.error_frame.isHidden() and "'probabilities:lots'" in tab.error.text()
    assert tab.engine.pid is None and not tab.busy and tab.run is None


def test_a_shifted_classifier_names_the_outputs_beyond_tolerance_in_the_compare_window(
    qtbot, models
):
    """In the window: the tab beside the diff, the changed outputs coloured beyond
    tolerance, top-1 agreement counted, |Δ| histogram and worst elements of probabilities,
    and the verdict joined to the window's summary."""
    root = models.path("outputs_classifier")
    window = CompareWindow()
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.diff_ready, timeout=DIFF_MS):
        window.compare(root / "a", root / "shifted")
    tab = window.view.outputs
    window.view.tabs.setCurrentWidget(tab)
    tab.inputs.set_source("x", InputSource("expr", text=json.dumps(CLASSIFIER_X.tolist())))

    _run_both(qtbot, tab)

    top_a = logits("a", CLASSIFIER_X).argmax(axis=1)
    top_b = logits("shifted", CLASSIFIER_X).argmax(axis=1)
    agree = int((top_a == top_b).sum())
    assert 0 < agree < len(CLASSIFIER_X)
    rows = _rows(tab)
    assert sorted(rows) == ["classes", "label", "probabilities", "scaled"]
    for key in ("classes", "label", "probabilities"):
        assert rows[key][VERDICT] == "beyond" and rows[key]["bg"] == beyond_color()
        assert rows[key][TOP1] == f"{agree} of {len(CLASSIFIER_X)}"
    assert rows["scaled"][VERDICT] == "within" and rows["scaled"]["bg"] == within_color()
    expected = np.abs(
        _softmax(logits("shifted", CLASSIFIER_X)) - _softmax(logits("a", CLASSIFIER_X))
    )
    assert float(rows["probabilities"][MAX_ABS]) == pytest.approx(expected.max(), rel=1e-3)
    tolerance = 1e-5 + 1e-5 * _softmax(logits("a", CLASSIFIER_X))
    beyond = int((expected > tolerance).sum())
    assert rows["probabilities"][BEYOND] == f"{beyond} of {expected.size}"

    assert tab.comparison.select_output("probabilities")
    elements = tab.comparison.elements
    assert int(elements.counts.sum()) == expected.size
    worst = tab.comparison.worst.row_texts()
    row, col = np.unravel_index(expected.argmax(), expected.shape)
    assert worst[0][1] == str([int(row), int(col)])
    assert float(worst[0][4]) == pytest.approx(expected.max(), rel=1e-3)
    assert tab.comparison.histogram.curve.getData()[1].sum() == expected.size

    tabs = window.view.tabs
    assert tabs.tabText(tabs.indexOf(tab)) == "&Outputs (3 of 4 beyond)"
    summary = window.view.outputs_verdict.text()
    assert "outputs: " in summary and "probabilities beyond tolerance" in summary
    assert f"top-1 agrees on {agree}" in summary
    # As smlens diff --outputs: an output beyond tolerance is a risky change of the diff.
    assert window.view.verdict.text().count("RISKY") == 1
    risky = {c.path[-1] for c in window.view.comparison.diff.changes("risky")}
    assert {"classes", "label", "probabilities"} <= risky and "scaled" not in risky
    window.close()
    assert not tab.engine.running


def test_a_retrained_copy_differs_where_tensorflow_says(qtbot, tab, models, tf):
    root = models.path("retrained_classifier")
    tab.set_models(open_model(root / "a"), open_model(root / "b"))
    key = tab.signature_key
    feed = tab.inputs.values()  # the spec fill: seeded random normal, batch 8

    _run_both(qtbot, tab)

    outputs = {}
    for side in ("a", "b"):
        fn = tf.saved_model.load(str(root / side)).signatures[key]
        got = fn(**{name: tf.constant(value) for name, value in feed.items()})
        outputs[side] = {name: value.numpy() for name, value in got.items()}
    rows = _rows(tab)
    assert sorted(rows) == sorted(outputs["a"])
    for name, a in outputs["a"].items():
        b = outputs["b"][name]
        changed = not np.allclose(b, a, atol=1e-5, rtol=1e-5)
        assert rows[name][VERDICT] == ("beyond" if changed else "within")
        assert rows[name]["bg"] == (beyond_color() if changed else within_color())
        agree = int((a.argmax(axis=-1) == b.argmax(axis=-1)).sum())
        assert rows[name][TOP1] == f"{agree} of {len(a)}"
    assert any(rows[name][VERDICT] == "beyond" for name in rows)  # training moved the outputs


def test_cancel_during_the_workers_start_leaves_no_worker_running(qtbot, models):
    """The fake worker never gets ready: only Cancel ends the run."""
    started = threading.Event()
    pids: list[int] = []

    def log(line: str) -> None:  # on the engine's reader thread: the worker process exists
        if line.startswith("fake worker: importing"):
            pids.append(int(line.rsplit(" ", 1)[1]))
            started.set()

    engine = RunEngine(worker_command=(sys.executable, "-c", FAKE_WORKER, "slow-start"), log=log)
    tab = OutputsCompareTab(engine=engine)
    qtbot.addWidget(tab)
    root = models.path("outputs_classifier")
    tab.set_models(open_model(root / "a"), open_model(root / "copy"))
    assert tab.run_both()
    assert started.wait(60)
    assert tab.busy and tab.cancel_button.isEnabled() and not tab.run_button.isEnabled()

    tab.cancel_button.click()
    qtbot.waitUntil(lambda: not tasks_running() and not engine.running, timeout=20_000)

    assert not tab.busy and tab.run_button.isEnabled() and not tab.cancel_button.isEnabled()
    assert tab.run is None and tab.comparison.table_model.rowCount() == 0
    assert "Cancelled" in tab.status.text()
    assert len(pids) == 1
    with pytest.raises(ProcessLookupError):  # ended and reaped: no worker left
        os.kill(pids[0], 0)
    tab.close_engine()


def test_a_record_of_a_s_warmup_file_is_run_through_both_sides(qtbot, tab, models):
    path = models.path("warmup")
    tab.set_models(open_model(path), open_model(path))
    qtbot.waitUntil(lambda: tab.inputs.warmup is not None, timeout=DIFF_MS)
    tab.signature_combo.setCurrentIndex(tab.signature_combo.findData("predict"))
    assert tab.inputs.choose_record(0)

    run = _run_both(qtbot, tab)

    fed = run.pair("predict").plan.feeds
    kind, signature, inputs = WARMUP_RECORDS[0]
    assert (kind, signature) == ("predict", "predict")
    assert len(fed) == 1 and set(fed[0]) == {"x"}
    np.testing.assert_array_equal(fed[0]["x"], inputs["x"])  # the record's tensor, as is
    sig = run.signature("predict")
    assert sig.inputs == "warmup record 0" and not sig.beyond
    assert tab.verdict_text().endswith(f"within tolerance on {len(inputs['x'])} inputs")
