"""Issue 13 in the window: every hostile model opens with its warnings in the problem bar
or fails with one line, every panel paints, and paths outside the folder are named."""

from __future__ import annotations

import pytest

from smlens.gui.window.main_window import MainWindow
from tests.fuzz.hostile import HOSTILE, make_hostile, snapshot
from tests.gui.window.loading import LOAD_MS, fail_to_open, open_in


@pytest.fixture
def window(window: MainWindow) -> MainWindow:
    """The shared main window, shown at a size every panel paints at."""
    window.resize(1200, 800)
    window.show()
    return window


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


def test_outside_paths_are_named_in_the_problem_bar(qtbot, window, models, tmp_path):
    open_in(qtbot, window, make_hostile(models, tmp_path, "asset_symlink"))
    assert window.problem_bar.lines == [
        "The model names files outside its folder (1 path)",
        "assets/passwd.txt: is a symlink to /etc/passwd, outside the model folder: not previewed",
    ]
    window.grab().save(str(tmp_path / "window_outside.png"))


def test_fifo_saved_model_is_an_error_line_not_a_hang(qtbot, window, models, tmp_path):
    folder = make_hostile(models, tmp_path, "fifo_saved_model")
    message = fail_to_open(qtbot, window, folder)
    assert message == (
        f"{folder / 'saved_model.pb'}: is a FIFO (named pipe), not a regular file: not opened"
    )
    assert window.problem_bar.lines == ["Could not open the model", message]
