"""The run panel's feeds-and-fetches mode, for graphs without signatures: the feeds are
the inputs editor's rows, keyed by tensor name; the fetches a checkable list with the
fixture's frozen output checked; Run fetches them and shows what a direct session gives."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from smlens.core import open_model
from smlens.core.run.graph_request import FEEDS_KEY
from smlens.gui.run.panel import BY_NAMES, RunPanel
from tests.core.run.test_run_graph import direct_frozen, direct_meta

TIMEOUT = 120_000  # ms: the worker imports TensorFlow, then loads the graph


@pytest.fixture
def panel(qtbot):
    widget = RunPanel()
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def _run(qtbot, panel: RunPanel) -> None:
    count = len(panel.state.runs)
    assert panel.run(), panel.error_label.text()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT)
    assert len(panel.state.runs) == count + 1, panel.error_label.text()


def test_a_frozen_graph_runs_by_feeds_and_fetches(qtbot, tf, panel, models):
    path = models.path("frozen_graph") / "frozen.pb"
    panel.set_model(open_model(path))

    assert panel.signature_combo.currentData() == FEEDS_KEY
    assert panel.signature_combo.currentText() == BY_NAMES
    assert not panel.fetches.isHidden() and panel.fetches.checked() == ["y:0"]
    assert list(panel.inputs.rows) == ["x:0"]  # the fixture's placeholder, by tensor name
    assert panel.run_button.isEnabled() and panel.error_frame.isHidden()
    inputs = panel.inputs.values()

    _run(qtbot, panel)

    (expected,) = direct_frozen(tf, path, inputs, ["y:0"])
    np.testing.assert_array_equal(panel.state.shown.outputs["y:0"], expected)
    assert panel.outputs.table_model.keys == ["y:0"]


def test_unchecking_every_fetch_disables_run_and_an_added_name_is_fetched(qtbot, tf, panel, models):
    folder = models.path("tf1_ckpt_meta")
    panel.set_model(open_model(folder))
    item = panel.fetches.list.item(0)

    item.setCheckState(Qt.CheckState.Unchecked)
    assert panel.state.fetches == [] and not panel.run_button.isEnabled()
    item.setCheckState(Qt.CheckState.Checked)
    panel.fetches.name_edit.setText("global_step/Read/ReadVariableOp")
    panel.fetches.add_button.click()
    assert panel.state.fetches == ["y:0", "global_step/Read/ReadVariableOp:0"]
    inputs = panel.inputs.values()

    _run(qtbot, panel)

    fetches = panel.state.fetches
    expected = direct_meta(
        tf, folder / "model.ckpt.meta", str(folder / "model.ckpt"), inputs, fetches
    )
    for key, value in zip(fetches, expected, strict=True):
        np.testing.assert_array_equal(panel.state.shown.outputs[key], value)
    assert panel.outputs.table_model.keys == fetches


def test_a_saved_model_lists_tensors_by_name_after_its_signatures(panel, models):
    panel.set_model(open_model(models.path("tf1_multi_tag")))
    combo = panel.signature_combo

    assert combo.itemData(combo.count() - 1) == FEEDS_KEY and panel.fetches.isHidden()
    combo.setCurrentIndex(combo.count() - 1)
    assert not panel.fetches.isHidden() and panel.state.by_names
    assert panel.fetches.checked() == panel.state.fetches != []
