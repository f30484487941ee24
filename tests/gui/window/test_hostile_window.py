"""Issue 13 in the window: every hostile model opens with its warnings in the problem bar
or fails with one line, every panel paints, and paths outside the folder are named."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from smlens.gui.window.main_window import MainWindow
from tests.fuzz.hostile import HOSTILE, make_hostile, snapshot

LOAD_MS = 30_000


@pytest.fixture
def window(qtbot, tmp_path) -> MainWindow:
    settings = QSettings(str(tmp_path / "smlens.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    return win


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_models_open_or_fail_with_one_line_and_every_panel_paints(
    qtbot, window, models, tmp_path, name
):
    folder = make_hostile(models, tmp_path, name)
    before = snapshot(tmp_path)
    outcome = []
    window.model_loaded.connect(lambda *a: outcome.append("loaded"))
    window.load_failed.connect(lambda *a: outcome.append("failed"))
    window.open_path(folder)
    qtbot.waitUntil(lambda: bool(outcome), timeout=LOAD_MS)
    bar = window.problem_bar
    if outcome == ["failed"]:
        assert bar.level == "error" and len(bar.lines) == 2
        assert bar.lines[1].startswith(str(folder)) and "\n" not in bar.lines[1]
    for dock in window.docks.values():  # a paintEvent that raises fails the test (pytest-qt)
        dock.show()
        dock.widget().grab()
    window.grab()
    assert snapshot(tmp_path) == before


def _loaded(qtbot, window: MainWindow, folder) -> None:
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_path(folder)


def test_outside_paths_are_named_in_the_problem_bar(qtbot, window, models, tmp_path):
    _loaded(qtbot, window, make_hostile(models, tmp_path, "asset_symlink"))
    assert window.problem_bar.lines == [
        "The model names files outside its folder (1 path)",
        "assets/passwd.txt: is a symlink to /etc/passwd, outside the model folder: not previewed",
    ]
    window.grab().save(str(tmp_path / "window_outside.png"))


def test_fifo_saved_model_is_an_error_line_not_a_hang(qtbot, window, models, tmp_path):
    folder = make_hostile(models, tmp_path, "fifo_saved_model")
    with qtbot.waitSignal(window.load_failed, timeout=LOAD_MS) as signal:
        window.open_path(folder)
    message = signal.args[0]
    assert message == (
        f"{folder / 'saved_model.pb'}: is a FIFO (named pipe), not a regular file: not opened"
    )
    assert window.problem_bar.lines == ["Could not open the model", message]
