"""The compare window: opened by ``smlens A B`` and the main window, errors in its problem
bar, and ``--screenshot`` with two paths."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage

from smlens.gui.compare.window import CompareWindow
from smlens.gui.window.main_window import MainWindow

DIFF_MS = 60_000


@pytest.fixture
def window(qtbot) -> CompareWindow:
    win = CompareWindow()
    qtbot.addWidget(win)
    return win


def test_a_broken_b_shows_an_error_and_the_window_stays_usable(qtbot, window, models, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"\x00garbage")
    good = models.path("pair_retrained")
    window.show()
    with qtbot.waitSignal(window.compare_failed, timeout=DIFF_MS) as signal:
        window.compare(good / "a", broken)
    assert str(broken) in signal.args[0]
    assert window.problem_bar.level == "error"
    assert any(str(broken) in line for line in window.problem_bar.lines)
    assert window.isVisible() and window.comparison is None
    assert window.view.tree.rows() == []

    with qtbot.waitSignal(window.diff_ready, timeout=DIFF_MS):
        window.compare(good / "a", good / "b")
    assert window.problem_bar.isHidden()
    assert window.view.tree.group_titles()


def test_two_paths_in_the_main_window_open_the_comparison_and_show_b(qtbot, models, tmp_path):
    settings = QSettings(str(tmp_path / "smlens.ini"), QSettings.Format.IniFormat)
    main = MainWindow(settings=settings)
    qtbot.addWidget(main)
    root = models.path("pair_widened_input")
    with qtbot.waitSignal(main.model_loaded, timeout=DIFF_MS):
        main.open_paths([root / "a", root / "b"])
    assert main.model.path == root / "b"
    compare = main.compare_window
    assert compare is not None and compare.isVisible()
    assert compare.wait(DIFF_MS)
    assert compare.comparison.diff.worst_severity == "breaking"
    assert "a → b" in compare.windowTitle()
    main.close()
    assert not compare.isVisible()  # closes with the main window


def test_compare_with_menu_entry_exists(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "smlens.ini"), QSettings.Format.IniFormat)
    main = MainWindow(settings=settings)
    qtbot.addWidget(main)
    texts = [a.text() for a in main.menuBar().actions()[0].menu().actions()]
    assert "&Compare With…" in texts


def test_screenshot_with_two_paths_renders_the_comparison(models, tmp_path):
    root = models.path("pair_widened_input")
    out = tmp_path / "compare.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "smlens.cli.main",
            "--screenshot",
            str(out),
            str(root / "a"),
            str(root / "b"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1400, 900)
