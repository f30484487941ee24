"""The Run panel's warmup records as inputs: the arrays fed are the record's tensors as
TensorFlow parses them, a run from a record computes what ``smlens diff --warmup`` computes,
a record for another signature cannot be chosen, a record that does not fit holds Run
back with its problem, and the Assets panel sends a record to the Run panel."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from smlens.cli.main import main
from smlens.core import open_model
from smlens.core.formats import proto
from smlens.core.formats.warmup import warmup_path
from smlens.core.run.saved_run import load_run
from smlens.gui.run.panel import RUN_TIP, RunPanel
from tests.fixtures.warmup import EXAMPLE_X, WARMUP_X, good_records, predict_log, write_warmup
from tests.gui.window.loading import open_in

TIMEOUT = 120_000  # ms: the worker imports TensorFlow, then loads the model


@pytest.fixture
def panel(qtbot):
    widget = RunPanel()
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


@pytest.fixture
def int32_copy(models, tmp_path, tf):
    """The warmup fixture whose record 1 feeds 'predict' an int32 x (it takes float32)."""
    dest = tmp_path / "model"
    shutil.copytree(models.path("warmup"), dest)
    records = good_records(tf)
    records[1] = predict_log(tf, "predict", {"x": WARMUP_X.astype(np.int32)})
    write_warmup(tf, dest, records)
    return dest


def _open(qtbot, panel: RunPanel, path) -> None:
    """Open ``path`` and wait until the panel has read its warmup file."""
    panel.set_model(open_model(path))
    qtbot.waitUntil(lambda: panel.inputs.warmup is not None, timeout=10_000)


def _logs(tf, path) -> list:
    """The warmup file's PredictionLogs, framed by TensorFlow's own TFRecord reader."""
    log_class = proto.message_class("tensorflow.serving.PredictionLog")
    return [log_class.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]


def test_a_records_inputs_are_its_tensors_as_tensorflow_parses_them(qtbot, panel, models, tf):
    from tensorflow.core.framework import tensor_pb2

    path = models.path("warmup")
    _open(qtbot, panel, path)
    panel.state.choose_signature("predict")
    assert panel.inputs.choose_record(0)

    logs = _logs(tf, warmup_path(path))
    raw = logs[0].predict_log.request.inputs["x"].SerializeToString()
    expected = tf.make_ndarray(tensor_pb2.TensorProto.FromString(raw))
    fed = panel.inputs.values()
    assert list(fed) == ["x"]
    assert fed["x"].dtype == expected.dtype == np.float32
    assert fed["x"].shape == expected.shape == WARMUP_X.shape
    np.testing.assert_array_equal(fed["x"], expected)
    assert panel.inputs.chosen_record().index == 0
    assert panel.inputs.rows["x"].record_value.text() == "float32 (2, 3) from record 0"
    assert panel.run_button.toolTip() == RUN_TIP

    panel.state.choose_signature("classify")
    assert panel.inputs.chosen_record() is None  # a new signature starts from its spec
    assert panel.inputs.choose_record(1)
    (examples,) = panel.inputs.values().values()
    wanted = [
        e.SerializeToString() for e in logs[1].classify_log.request.input.example_list.examples
    ]
    assert list(examples) == wanted
    parsed = tf.io.parse_example(list(examples), {"x": tf.io.FixedLenFeature([3], tf.float32)})
    np.testing.assert_array_equal(parsed["x"].numpy(), np.array(EXAMPLE_X, np.float32))


def test_a_record_for_another_signature_is_listed_greyed_and_cannot_be_chosen(qtbot, panel, models):
    _open(qtbot, panel, models.path("warmup"))
    panel.state.choose_signature("predict")
    combo = panel.inputs.record_combo
    assert not panel.inputs.choose_record(1)  # a classify record, for 'classify'
    assert panel.inputs.chosen_record() is None
    item = combo.model().item(combo.findData(1))
    assert not item.isEnabled()
    assert item.text() == "Warmup record 1 · classify · batch 2 — for 'classify', not 'predict'"
    enabled = [combo.itemData(i) for i in range(combo.count()) if combo.model().item(i).isEnabled()]
    assert enabled == [None, 0]  # each input's own source, and the one predict record
    assert panel.inputs.values()["x"].shape == (1, 3)  # still the spec fill


def test_a_record_that_does_not_fit_disables_run_with_its_problem(qtbot, panel, int32_copy):
    _open(qtbot, panel, int32_copy)
    panel.state.choose_signature("predict")
    assert panel.run_button.isEnabled() or panel.tensorflow_status().not_runnable_reason
    assert panel.inputs.choose_record(1)
    message = "record 1: input 'x' is int32; 'predict' takes float32"
    assert panel.inputs.record_problem.text() == message
    assert not panel.inputs.record_problem.isHidden()
    assert not panel.run_button.isEnabled()
    assert panel.run_button.toolTip() == f"Not run: {message}"
    assert not panel.run()
    assert panel.inputs.choose_record(None)  # back to each input's own source
    assert panel.inputs.not_runnable_reason() is None
    assert panel.inputs.record_problem.isHidden()


def test_a_run_from_records_gives_the_outputs_of_diff_warmup(qtbot, panel, models, tmp_path):
    path = models.path("warmup")
    saved = tmp_path / "cli.npz"
    args = ["diff", str(path), str(path), "--outputs", "--warmup", "--save-run", str(saved)]
    assert main(args) == 0
    cli = {sig.signature: sig.calls for sig in load_run(saved).signatures}

    _open(qtbot, panel, path)
    for signature, record, call in (("predict", 0, 0), ("classify", 1, 0)):
        panel.state.choose_signature(signature)
        assert panel.inputs.choose_record(record)
        count = len(panel.state.runs)
        assert panel.run(), panel.error_label.text()
        qtbot.waitUntil(
            lambda n=count: len(panel.state.runs) > n and not panel.busy, timeout=TIMEOUT
        )
        shown = panel.state.shown.outputs
        expected = cli[signature][call].outputs["a"]
        assert sorted(shown) == sorted(expected)
        for key, value in expected.items():
            np.testing.assert_array_equal(shown[key], value)


def test_use_as_run_inputs_opens_the_run_panel_with_that_record(qtbot, window, models):
    open_in(qtbot, window, models.path("warmup"))
    assets, run = window.panels["assets"], window.panels["run"]
    qtbot.waitUntil(lambda: assets.warmup is not None, timeout=10_000)
    assets.record_combo.setCurrentIndex(assets.record_combo.findData(1))
    assert assets.use_record_button.isEnabled()
    assets.use_record_button.click()
    assert run.signature_combo.currentData() == "classify"
    assert run.inputs.chosen_record().index == 1
    assert run.inputs.record_combo.currentData() == 1
