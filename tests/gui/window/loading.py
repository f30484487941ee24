"""Opening a model in the main window from a test, waiting for the window's own signals."""

from __future__ import annotations

from smlens.gui.window.main_window import MainWindow

LOAD_MS = 30_000


def open_in(qtbot, window: MainWindow, path) -> None:
    """Open ``path`` and wait until every panel shows it."""
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        window.open_path(path)


def fail_to_open(qtbot, window: MainWindow, path) -> str:
    """Open ``path``, which must fail; the one line the window says about it."""
    with qtbot.waitSignal(window.load_failed, timeout=LOAD_MS) as signal:
        window.open_path(path)
    return signal.args[0]
