"""What every GUI test shares: Python's cyclic garbage collected only on the UI thread, as the
app does, and a main window whose settings live in the test's own folder."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QSettings

from smlens.gui.base.collector import collect_garbage_on_the_ui_thread
from smlens.gui.window.main_window import MainWindow


@pytest.fixture(autouse=True)
def _garbage_on_the_ui_thread(qapp):
    collect_garbage_on_the_ui_thread()
    yield
    gc.collect()  # this test's widgets go now, on this thread, not in a later worker


@pytest.fixture
def settings(tmp_path) -> QSettings:
    """An INI file in the test's folder, so no test reads or writes the user's settings."""
    return QSettings(str(tmp_path / "smlens.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings) -> MainWindow:
    """A main window, not yet shown, that qtbot closes and deletes after the test."""
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    return win
