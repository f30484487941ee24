"""Daily use of the main window: it fits a 1024x700 screen, the theme and the last model
are remembered, a first start says it shows the sample, Help knows the shortcuts and the
TensorFlow found, risky and custom ops are said on open, and every variable (and a frozen
graph's every constant) exports."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from smlens.cli.main import main
from smlens.core import open_model
from smlens.gui.base import theme
from smlens.gui.compare.window import CompareWindow
from smlens.gui.window import help
from smlens.gui.window.main_window import SAMPLE_NOTE, THEME_KEY, MainWindow
from smlens.resources import sample_path
from tests.gui.window.loading import LOAD_MS


def _start(qtbot, window: MainWindow, paths=()) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.start(list(paths))


def test_the_window_fits_a_1024_by_700_screen(qtbot, window):
    _start(qtbot, window, [sample_path()])
    window.show()
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024 and window.height() == 700)


def test_a_first_start_shows_the_sample_and_says_so(qtbot, window):
    _start(qtbot, window)
    assert window.model.path == sample_path()
    assert window.statusBar().currentMessage() == SAMPLE_NOTE
    assert "the bundled sample" in window.windowTitle()
    assert window.recent_paths() == []  # the sample is not "the last model"


def test_a_later_start_reopens_the_last_model_unless_turned_off(qtbot, settings, models):
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    _start(qtbot, first, [models.path("keras_export")])

    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    _start(qtbot, second)
    assert second.model.path == models.path("keras_export")
    assert "Reopened the last model" in second.statusBar().currentMessage()

    second.reopen_action.setChecked(False)
    third = MainWindow(settings=settings)
    qtbot.addWidget(third)
    assert not third.reopen_action.isChecked()
    _start(qtbot, third)
    assert third.model.path == sample_path()


def test_the_chosen_theme_applies_and_is_remembered(window, settings, monkeypatch):
    monkeypatch.delenv("SMLENS_THEME", raising=False)
    try:
        window.theme_actions["dark"].trigger()
        assert theme.current().dark and settings.value(THEME_KEY) == "dark"
        assert QApplication.instance().palette().window().color().lightness() < 100
        window.theme_actions["light"].trigger()
        assert not theme.current().dark and settings.value(THEME_KEY) == "light"
        assert window.theme_actions["light"].isChecked()
        assert not window.theme_actions["dark"].isChecked()
    finally:  # back to the light look the other tests expect
        theme.set_preference("system")
        monkeypatch.setenv("SMLENS_THEME", "light")
        theme.apply_theme(QApplication.instance())


def test_help_lists_the_shortcuts_and_about_says_where_things_are(window):
    keys = dict((what, key) for key, what in help.shortcuts(window))
    assert keys["Open Folder"] == "Ctrl+O" and keys["Keyboard Shortcuts"] == "F1"
    assert "Ctrl+Return" in keys.values()
    about = help.about_text(window.settings.fileName(), str(sample_path()))
    found = importlib.util.find_spec("tensorflow") is not None
    assert ("TensorFlow: found at" in about) == found
    assert ("tensorflow" in about) == found or "TensorFlow: not found" in about
    assert window.settings.fileName() in about and help.version() in about


def test_file_and_custom_ops_are_said_in_the_problem_bar_on_open(qtbot, window, models):
    _start(qtbot, window, [models.path("risky_nested")])
    [line] = window.problem_bar.lines
    assert line.startswith("File or system ops: MatchingFiles, PrintV2, ReadFile")
    assert "Run makes one call" in line and window.problem_bar.level == "warning"

    _start(qtbot, window, [models.path("custom_op_renamed")])
    [line] = window.problem_bar.lines
    assert "TFText>WhitespaceTokenizeWithOffsetsV2" in line and "tensorflow-text" in line

    _start(qtbot, window, [models.path("keras_export")])
    assert window.problem_bar.lines == []


@pytest.mark.tf
def test_every_variable_exports_to_one_npz_keyed_by_resolved_name(qtbot, window, tmp_path):
    import tensorflow as tf

    _start(qtbot, window, [sample_path()])
    out = tmp_path / "all.npz"
    with qtbot.waitSignal(window._export_runner.finished, timeout=LOAD_MS):
        window.export_variables(out)

    model = open_model(sample_path())
    reader = tf.train.load_checkpoint(str(model.checkpoint.prefix))
    with np.load(out, allow_pickle=False) as saved:
        assert sorted(saved.files) == sorted(v.name for v in model.distinct_variables())
        for v in model.distinct_variables():
            np.testing.assert_array_equal(saved[v.name], reader.get_tensor(v.key))
    assert "Exported 6 variables" in window.statusBar().currentMessage()
    assert not list(tmp_path.glob("*.partial"))


def test_cli_tensor_all_writes_the_same_npz_and_refuses_without_out(tmp_path, capsys, tf):
    out = tmp_path / "cli.npz"
    assert main(["tensor", "--dir", str(sample_path()), "--all", "--out", str(out)]) == 0
    loaded = tf.saved_model.load(str(sample_path())).variables
    assert f"saved {len(loaded)} variables" in capsys.readouterr().out
    with np.load(out) as saved:
        assert sorted(saved.files) == sorted(v.name.removesuffix(":0") for v in loaded)
        for v in loaded:
            np.testing.assert_array_equal(saved[v.name.removesuffix(":0")], v.numpy())
    assert main(["tensor", "--dir", str(sample_path()), "--all"]) == 2
    assert "--out FILE.npz" in capsys.readouterr().err
    inside = sample_path() / "x.npz"
    assert main(["tensor", "--dir", str(sample_path()), "--all", "--out", str(inside)]) == 2
    assert not os.path.exists(inside)


def test_a_training_folder_opens_a_step_and_compares_two_from_the_overview(qtbot, window, models):
    folder = models.path("training_folder")
    _start(qtbot, window, [folder])
    overview = window.panels["overview"]
    assert overview.values["step"].text().startswith("1,000")

    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        overview.path_requested.emit(str(folder / "model.ckpt-999"))
    assert window.model.checkpoint.prefix.endswith("model.ckpt-999")

    older, newer = folder / "model.ckpt-999", folder / "model.ckpt-1000"
    window.compare_window = CompareWindow(window)
    qtbot.addWidget(window.compare_window)
    with qtbot.waitSignal(window.compare_window.diff_ready, timeout=LOAD_MS) as ready:
        overview.compare_requested.emit(str(older), str(newer))
    deltas = ready.args[0].diff.value_deltas
    assert deltas["dense/bias"].max_abs == 1.0 and deltas["dense/kernel"].max_abs == 0.5


def _tf_frozen_weights(tf, path) -> dict:
    """Const node name -> value for the Consts big enough to be frozen weights, read by TF."""
    from smlens.core.model.constants import CONSTANT_MIN_BYTES

    graph_def = tf.compat.v1.GraphDef.FromString(path.read_bytes())
    return {
        n.name: tf.make_ndarray(n.attr["value"].tensor)
        for n in graph_def.node
        if n.op == "Const" and n.attr["value"].tensor.ByteSize() >= CONSTANT_MIN_BYTES
    }


def _assert_npz_holds(out, weights: dict) -> None:
    with np.load(out, allow_pickle=False) as saved:
        assert sorted(saved.files) == sorted(weights)
        for name, value in weights.items():
            assert saved[name].dtype == value.dtype and saved[name].tobytes() == value.tobytes()


def test_export_all_of_a_frozen_graph_writes_its_constants(qtbot, window, tmp_path, models, tf):
    path = models.path("frozen_training_graph") / "frozen.pb"
    weights = _tf_frozen_weights(tf, path)
    _start(qtbot, window, [path])
    out = tmp_path / "frozen.npz"
    with qtbot.waitSignal(window._export_runner.finished, timeout=LOAD_MS):
        window.export_variables(out)
    _assert_npz_holds(out, weights)
    assert f"Exported {len(weights)} constants" in window.statusBar().currentMessage()


def test_cli_tensor_all_of_a_frozen_graph_writes_its_constants(tmp_path, capsys, models, tf):
    path = models.path("frozen_training_graph") / "frozen.pb"
    weights = _tf_frozen_weights(tf, path)
    out = tmp_path / "cli.npz"
    assert main(["tensor", "--dir", str(path), "--all", "--out", str(out)]) == 0
    assert f"saved {len(weights)} constants to {out}" in capsys.readouterr().out
    _assert_npz_holds(out, weights)
