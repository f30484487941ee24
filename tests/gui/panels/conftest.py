"""What the panel tests share: the panel under test, built bare."""

from __future__ import annotations

import pytest

from smlens.gui.base.panel import Panel


@pytest.fixture
def panel(qtbot, request) -> Panel:
    """A new instance of the test module's ``PANEL`` class, showing no model yet; qtbot
    closes and deletes it after the test."""
    widget = request.module.PANEL()
    qtbot.addWidget(widget)
    return widget
