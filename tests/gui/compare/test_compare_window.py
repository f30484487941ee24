"""The compare window: opened by ``smlens A B`` and the main window, errors in its problem
bar, and ``--screenshot`` with two paths."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from smlens.gui.compare.window import CompareWindow
from tests.gui.window.smlens_process import run_smlens

DIFF_MS = 60_000


@pytest.fixture
def compare_window(qtbot) -> CompareWindow:
    win = CompareWindow()
    qtbot.addWidget(win)
    return win


def test_a_broken_b_shows_an_error_and_the_window_stays_usable(
    qtbot, compare_window, models, tmp_path
):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"\x00garbage")
    good = models.path("pair_retrained")
    compare_window.show()
    with qtbot.waitSignal(compare_window.compare_failed, timeout=DIFF_MS) as signal:
        compare_window.compare(good / "a", broken)
    assert str(broken) in signal.args[0]
    assert compare_window.problem_bar.level == "error"
    assert any(str(broken) in line for line in compare_window.problem_bar.lines)
    assert compare_window.isVisible() and compare_window.comparison is None
    assert compare_window.view.tree.rows() == []

    with qtbot.waitSignal(compare_window.diff_ready, timeout=DIFF_MS):
        compare_window.compare(good / "a", good / "b")
    assert compare_window.problem_bar.isHidden()
    assert compare_window.view.tree.group_titles()


def test_two_paths_in_the_main_window_open_the_comparison_and_show_b(qtbot, window, models):
    root = models.path("pair_widened_input")
    with qtbot.waitSignal(window.model_loaded, timeout=DIFF_MS):
        window.open_paths([root / "a", root / "b"])
    assert window.model.path == root / "b"
    compare = window.compare_window
    assert compare is not None and compare.isVisible()
    assert compare.wait(DIFF_MS)
    assert compare.comparison.diff.worst_severity == "breaking"
    assert "a → b" in compare.windowTitle()
    window.close()
    assert not compare.isVisible()  # closes with the main window


def test_compare_with_menu_entry_exists(window):
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "&Compare With…" in texts


def test_screenshot_with_two_paths_renders_the_comparison(models, tmp_path):
    root = models.path("pair_widened_input")
    out = tmp_path / "compare.png"
    run = run_smlens(["--screenshot", str(out), str(root / "a"), str(root / "b")], tmp_path, 180)
    assert run.returncode == 0, run.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1400, 900)
