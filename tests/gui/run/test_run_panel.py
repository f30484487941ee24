"""RunPanel: from spec-filled inputs to shown outputs equal to TensorFlow's, the devices and
the no-GPU notice, inputs refused before anything runs, the risky-op question, a killed
worker, saving and comparing. Each panel has its own worker (TensorFlow's import: ~3 s)."""

from __future__ import annotations

import os
import signal
import sys
import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from smlens.core import open_model
from smlens.core.run.availability import INSTALL_COMMAND, NO_GPU_VISIBLE, NO_TENSORFLOW
from smlens.core.run.client import RunEngine
from smlens.core.run.deltas import load_outputs
from smlens.core.run.inputs import InputSource
from smlens.gui.base.tasks import TaskRunner, tasks_running
from smlens.gui.run.outputs import DELTA, DEVICE, DTYPE, KEY, MIN, SHAPE
from smlens.gui.run.panel import NO_GPU, RunPanel
from smlens.gui.window import help
from smlens.resources import sample_path
from tests.core.run.test_run import FAKE_WORKER, direct_call

TIMEOUT = 120_000  # ms: the worker imports TensorFlow, then loads the model


@pytest.fixture
def panel(qtbot):
    widget = RunPanel()
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def _open(panel: RunPanel, models, name: str) -> None:
    panel.set_model(open_model(models.path(name)))


def _run(qtbot, panel: RunPanel) -> None:
    count = len(panel.state.runs)
    assert panel.run(), panel.error_label.text()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT)
    assert len(panel.state.runs) == count + 1, panel.error_label.text()


def _cell(panel: RunPanel, key: str, col: int) -> str:
    row = panel.outputs.table_model.keys.index(key)
    return panel.outputs.table_model.data(panel.outputs.table_model.index(row, col))


def test_spec_filled_inputs_run_to_outputs_equal_to_a_direct_tensorflow_call(qtbot, panel, models):
    _open(panel, models, "keras_export")
    assert panel.signature_combo.currentData() == "serving_default"
    inputs = panel.inputs.values()  # spec-filled: seeded random normal, batch 1
    assert inputs["features"].shape == (1, 10) and inputs["features"].std() > 0

    _run(qtbot, panel)

    expected = direct_call(models.path("keras_export"), ["serve"], "serving_default", inputs)
    shown = panel.state.shown.outputs["output_0"]
    np.testing.assert_allclose(shown, expected["output_0"], rtol=1e-6)
    assert [_cell(panel, "output_0", c) for c in (KEY, DTYPE, SHAPE, DEVICE)] == [
        "output_0",
        "float32",
        "(1, 1)",
        "CPU:0",
    ]
    assert _cell(panel, "output_0", MIN) == f"{float(expected['output_0'].min()):.5g}"
    qtbot.waitUntil(lambda: panel.tensor_view.data is not None, timeout=TIMEOUT)
    assert panel.tensor_view.title == "output_0"
    np.testing.assert_array_equal(panel.tensor_view.data.array, shown)
    timings = panel.outputs.timings_label.text()
    assert "Load " in timings and "first call" in timings and "warm (9) min/median/p90" in timings


def test_a_tf1_example_input_runs_from_the_graphs_parse_spec(qtbot, panel, models):
    _open(panel, models, "tf1_multi_tag")
    assert panel.inputs.rows["inputs"].text.text() == "[{'x': [0.0, 0.0, 0.0]}]"

    _run(qtbot, panel)

    assert _cell(panel, "scores", SHAPE) == "(1, 2)"
    assert panel.state.shown.outputs["classes"].tolist() == [[b"apple", b"banana"]]


def test_the_cpu_is_listed_and_a_missing_gpu_is_said_plainly(qtbot, panel, models):
    _open(panel, models, "keras_export")
    panel.show()
    qtbot.waitUntil(lambda: panel.state.devices is not None, timeout=TIMEOUT)

    combo = panel.device_combo
    specs = [combo.itemData(i) for i in range(combo.count())]
    assert "cpu:0" in specs and combo.currentData() == "cpu:0"
    assert "CPU:0" in combo.currentText()
    if not any(d.device_type == "GPU" for d in panel.state.devices):
        assert panel.device_note.text().startswith(NO_GPU)
        gpu = combo.model().item(combo.count() - 1)
        assert gpu.text() == NO_GPU_VISIBLE and not gpu.isEnabled()
    assert f"worker pid {panel.state.engine.pid}" in panel.worker_label.text()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (InputSource("expr", text="__import__('os').system('true')"), "is not allowed"),
        (InputSource("expr", text="np.ones((1, 9), np.float32)"), r"has shape (1, 9)"),
        (InputSource("file", text="/nonexistent/x.npy"), "no such file"),
    ],
    ids=["unsafe", "shape", "file"],
)
def test_a_bad_input_is_named_before_anything_runs(panel, models, source, message):
    _open(panel, models, "keras_export")
    panel.inputs.set_source("features", source)

    assert not panel.run()

    row = panel.inputs.rows["features"]
    assert not row.error.isHidden() and message in row.error.text()
    assert "'features'" in panel.error_label.text() and not panel.error_frame.isHidden()
    assert panel.state.engine.pid is None and not panel.busy and not panel.state.runs


def test_a_risky_model_asks_first_and_refusing_runs_nothing(qtbot, panel, models, tmp_path):
    asked: list[str] = []
    answer = [False]

    def confirm(text: str) -> bool:
        asked.append(text)
        return answer[0]

    panel.confirm_risky = confirm
    _open(panel, models, "risky_readfile")
    secret = tmp_path / "note.txt"
    secret.write_bytes(b"read by the model")
    panel.inputs.set_source("filename", InputSource("strings", text=repr(str(secret))))

    assert not panel.run()
    assert len(asked) == 1 and "ReadFile" in asked[0]
    assert panel.state.engine.pid is None and not panel.state.runs
    assert "refused" in panel.status_label.text()

    answer[0] = True
    _run(qtbot, panel)
    assert panel.state.shown.outputs["contents"].item() == b"read by the model"
    assert len(asked) == 2

    _run(qtbot, panel)  # agreed once for this tag-set: not asked again
    assert len(asked) == 2


def test_a_worker_killed_mid_run_is_an_error_and_the_next_run_works(qtbot, panel, models):
    _open(panel, models, "control_flow")
    panel.repeat.setValue(1)
    panel.inputs.set_source("n", InputSource("expr", text="2147483647"))  # a very long loop

    assert panel.run()
    qtbot.waitUntil(lambda: "First call" in panel.status_label.text(), timeout=TIMEOUT)
    assert panel.busy and not panel.run_button.isEnabled() and panel.stop_button.isEnabled()
    os.kill(panel.state.engine.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT)

    assert "died while running 'serving_default'" in panel.error_label.text()
    assert "SIGKILL" in panel.error_label.text() and "fresh worker" in panel.error_label.text()
    assert panel.run_button.isEnabled() and not panel.state.runs

    panel.inputs.set_source("n", InputSource("expr", text="3"))
    panel.inputs.set_source("x", InputSource("expr", text="[1.0, 2.0]"))
    _run(qtbot, panel)
    assert panel.state.shown.outputs["y"].tolist() == [8.0, 16.0]
    assert panel.error_frame.isHidden()


def test_stop_ends_a_long_run_and_restart_gives_a_fresh_worker(qtbot, panel, models):
    _open(panel, models, "control_flow")
    panel.repeat.setValue(1)
    panel.inputs.set_source("n", InputSource("expr", text="2147483647"))
    assert panel.run()
    qtbot.waitUntil(lambda: "First call" in panel.status_label.text(), timeout=TIMEOUT)
    first = panel.state.engine.pid

    panel.stop_button.click()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT)

    assert panel.error_label.text().startswith("Stopped")
    assert not panel.state.engine.running
    panel.restart_worker()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT)
    assert panel.state.engine.running and panel.state.engine.pid != first
    assert panel.status_label.text() == "Fresh worker ready"


@pytest.mark.parametrize("starter", ["the run", "the device listing"])
def test_stop_during_the_workers_start_ends_the_run_and_leaves_no_worker(qtbot, models, starter):
    """Stop pressed while TensorFlow is still importing in the worker (its first seconds):
    the run ends as stopped and the start with it, whether the run or the device listing
    started the worker. The fake worker never gets ready: only Stop can end this."""
    started = threading.Event()
    pids: list[int] = []

    def log(line: str) -> None:  # on the engine's reader thread: the worker process exists
        if line.startswith("fake worker: importing"):
            pids.append(int(line.rsplit(" ", 1)[1]))
            started.set()

    engine = RunEngine(worker_command=(sys.executable, "-c", FAKE_WORKER, "slow-start"), log=log)
    panel = RunPanel(engine=engine)
    qtbot.addWidget(panel)
    _open(panel, models, "keras_export")
    if starter == "the device listing":
        panel.list_devices()
    else:
        assert panel.run()
    assert started.wait(60)
    if starter == "the device listing":
        assert panel.run()  # waits its turn behind the start
    assert panel.busy and panel.stop_button.isEnabled() and not panel.run_button.isEnabled()

    panel.stop_button.click()
    qtbot.waitUntil(lambda: not (panel.busy or panel._device_runner.busy), timeout=20_000)

    assert panel.status_label.text() == "Stopped" and panel.error_label.text().startswith("Stopped")
    assert panel.run_button.isEnabled() and not panel.stop_button.isEnabled()
    assert not engine.running and engine.pid is None and not panel.state.runs
    assert len(pids) == 1
    with pytest.raises(ProcessLookupError):  # ended and reaped: no worker left
        os.kill(pids[0], 0)
    assert panel.worker_label.text() == "worker not running"
    panel.shutdown()


def test_outputs_save_as_npz_and_compare_with_runs_and_files(qtbot, panel, models, tmp_path):
    _open(panel, models, "keras_export")
    _run(qtbot, panel)
    saved = panel.state.save_outputs(tmp_path / "run1.npz")
    assert load_outputs(saved).keys() == {"output_0"}
    np.testing.assert_array_equal(
        load_outputs(saved)["output_0"], panel.state.shown.outputs["output_0"]
    )

    panel.inputs.seed.setValue(7)  # other random inputs: other outputs
    _run(qtbot, panel)
    delta = float(_cell(panel, "output_0", DELTA))
    first, second = (r.outputs["output_0"] for r in panel.state.runs)
    expected = float(np.abs(first - second).max())
    assert _cell(panel, "output_0", DELTA) == f"{expected:.3g}" and delta > 0  # 3 digits shown
    assert "run #1" in panel.outputs.compare_note.text()

    panel.state.load_baseline(saved)
    assert panel.outputs.compare_combo.currentText() == "run1.npz"
    assert _cell(panel, "output_0", DELTA) == f"{delta:.3g}"

    panel.outputs.compare_combo.setCurrentIndex(panel.outputs.compare_combo.findData(""))
    assert _cell(panel, "output_0", DELTA) == ""
    with pytest.raises(Exception, match="will not write into the model folder"):
        panel.state.save_outputs(models.path("keras_export") / "out.npz")


def test_a_checkpoint_without_a_graph_cannot_be_run_and_says_why(panel, models):
    _open(panel, models, "ckpt_dtypes")

    assert not panel.run_button.isEnabled() and not panel.run()
    assert "this is a checkpoint without a graph" in panel.error_label.text()
    assert panel.outputs.table_model.rowCount() == 0
    assert panel.outputs.table_model.headerData(0, Qt.Orientation.Horizontal) == "Output"


def test_what_tf_print_prints_shows_in_the_panel_and_risky_runs_default_to_one(
    qtbot, panel, models, tmp_path
):
    panel.confirm_risky = lambda text: True
    _open(panel, models, "risky_nested")
    assert panel.repeat.value() == 1  # a model with file ops is called once by default
    (tmp_path / "a.txt").write_text("hello")
    pattern = repr(str(tmp_path / "*.txt"))
    panel.inputs.set_source("pattern", InputSource("strings", text=pattern))

    _run(qtbot, panel)

    assert (
        "matched 6" in panel.outputs.printed.toPlainText() and not panel.outputs.printed.isHidden()
    )


def test_inputs_as_run_are_shown_and_a_new_model_resets_every_label(qtbot, panel, models):
    _open(panel, models, "keras_export")
    assert panel.repeat.value() == 10
    _run(qtbot, panel)
    _run(qtbot, panel)
    pid = panel.state.engine.pid
    assert "run #1" in panel.outputs.compare_note.text() and panel.outputs.timings_label.text()

    panel.outputs.values_combo.setCurrentIndex(panel.outputs.values_combo.findData("inputs"))
    assert panel.outputs.table_model.keys == ["features"]
    np.testing.assert_array_equal(
        panel.outputs.table_model.record.outputs["features"],
        panel.state.runs[-1].inputs["features"],
    )
    assert panel.tensor_view.title == "features"
    panel.outputs.values_combo.setCurrentIndex(panel.outputs.values_combo.findData("outputs"))

    _open(panel, models, "module_multi_sig")
    assert panel.outputs.compare_note.text() == "" and panel.outputs.timings_label.text() == ""
    assert (
        panel.outputs.output_caption.text() == "Outputs"
        and panel.outputs.table_model.rowCount() == 0
    )
    assert panel.outputs.printed.isHidden() and panel.tensor_view.data is None
    assert panel.error_frame.isHidden() and panel.status_label.text() == ""
    assert panel.state.engine.pid == pid  # the worker stays warm for the next model
    _run(qtbot, panel)
    assert panel.state.runs[-1].result.start_seconds == 0.0  # no second TensorFlow import

    panel.set_model(None)
    assert panel.outputs.compare_note.text() == "" and not panel.run_button.isEnabled()
    assert panel.signature_combo.count() == 0 and panel.error_frame.isHidden()


def test_a_bad_input_is_said_once_and_moves_no_control(panel, models):
    _open(panel, models, "keras_export")
    panel.show()
    row = panel.inputs.rows["features"]
    before = row.kind.mapTo(panel, row.kind.rect().topLeft())
    panel.inputs.set_source("features", InputSource("expr", text="np.ones((1, 9), np.float32)"))
    assert row.text.placeholderText().startswith("np.ones((1, 10), np.float32)")

    assert not panel.run()

    assert "has shape (1, 9)" in row.error.text()
    assert "has shape" not in panel.error_label.text() and "'features'" in panel.error_label.text()
    assert row.kind.mapTo(panel, row.kind.rect().topLeft()) == before
    assert panel.run_button.mapTo(panel, panel.run_button.rect().topLeft()).y() < before.y()


def test_tensorflow_waits_while_a_task_runs_and_while_the_panel_is_behind_a_tab(qtbot, panel):
    """Listing devices imports TensorFlow in the worker (seconds of a core): not while a
    model or graph is opening, and not for a panel nobody looks at."""
    panel.set_model(open_model(sample_path()))
    panel.show()
    panel.set_on_screen(False)
    panel._on_device_timer_timeout()
    assert not panel._device_runner.busy and not panel.state.engine.running
    panel.set_on_screen(True)
    assert panel._device_timer.isActive()  # coming into view asks again
    release = threading.Event()
    other = TaskRunner()
    other.start(lambda progress=None, cancelled=None: release.wait(10))
    qtbot.waitUntil(tasks_running, timeout=10_000)
    panel._on_device_timer_timeout()
    assert not panel._device_runner.busy and panel._device_timer.isActive()  # tries later
    with qtbot.waitSignal(other.finished, timeout=10_000):
        release.set()
    panel._device_timer.stop()  # the rest (it lists them) is the test above, with TensorFlow


def _hide_tensorflow_from_the_worker(tmp_path, monkeypatch) -> None:
    """A `tensorflow` package first on the worker's PYTHONPATH whose import fails, as it does
    where TensorFlow is not installed; this process keeps its own TensorFlow."""
    shadow = tmp_path / "shadow" / "tensorflow"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ImportError(\"No module named 'tensorflow'\")\n", encoding="utf-8"
    )
    monkeypatch.setenv("PYTHONPATH", str(shadow.parent))


@pytest.mark.parametrize("first", ["the device listing", "a run"])
def test_without_tensorflow_the_panel_says_how_to_install_it_and_runs_nothing(
    qtbot, tmp_path, monkeypatch, first
):
    _hide_tensorflow_from_the_worker(tmp_path, monkeypatch)
    panel = RunPanel()
    qtbot.addWidget(panel)
    panel.set_model(open_model(sample_path()))
    if first == "a run":
        assert panel.run()
    else:
        panel.list_devices()
    qtbot.waitUntil(lambda: not (panel.busy or panel._device_runner.busy), timeout=TIMEOUT)

    reason = panel.tensorflow_label.text()
    assert not panel.tensorflow_frame.isHidden() and INSTALL_COMMAND in reason
    assert "No module named 'tensorflow'" in reason
    assert not panel.run_button.isEnabled() and panel.run_button.toolTip() == reason
    assert panel.device_combo.currentText() == NO_TENSORFLOW and panel.device_combo.count() == 1
    assert panel.error_frame.isHidden() and not panel.state.runs
    assert not panel.state.engine.running and panel.state.engine.pid is None
    assert not panel.run()  # the Ctrl+Enter path is refused too
    panel.copy_install_button.click()
    assert QApplication.clipboard().text() == INSTALL_COMMAND
    about = help.about_text("settings.ini", "sample", panel.tensorflow_status())
    assert "TensorFlow: not found (No module named 'tensorflow')" in about
    assert INSTALL_COMMAND in about
    panel.shutdown()


def test_with_tensorflow_about_and_the_panel_agree_and_no_gpu_is_said(qtbot, panel):
    panel.set_model(open_model(sample_path()))
    panel.list_devices()
    qtbot.waitUntil(lambda: panel.state.devices is not None, timeout=TIMEOUT)

    import tensorflow as tf

    assert panel.tensorflow_frame.isHidden() and panel.run_button.isEnabled()
    about = help.about_text("settings.ini", "sample", panel.tensorflow_status())
    assert f"TensorFlow: {tf.__version__}, imported by the run worker" in about
    combo = panel.device_combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts[0].startswith("CPU:0")
    if not tf.config.list_physical_devices("GPU"):
        assert texts[-1] == NO_GPU_VISIBLE and not combo.model().item(combo.count() - 1).isEnabled()


def test_the_panel_settles_once_the_devices_are_listed(qtbot, panel):
    """A screenshot waits on ``settling``: it holds while the listing is due or under way."""
    panel.set_model(open_model(sample_path()))
    assert panel.device_note.text() == "Devices not listed yet: TensorFlow has not been asked"
    panel.list_devices()
    assert panel.settling and panel.state.devices is None
    qtbot.waitUntil(lambda: not panel.settling, timeout=TIMEOUT)
    assert panel.state.devices is not None
    assert panel.device_combo.currentText().startswith("CPU:0")
