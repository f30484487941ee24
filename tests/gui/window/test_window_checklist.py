"""Issue 3's list, driven through the whole window: Ctrl+O, the object graph's jump to a
variable stored twice, keyboard navigation of the variables, tooltips, and the look
following a system switch to dark."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from smlens.gui.base import theme
from smlens.gui.panels.objects import NAME as OBJECT_NAME
from smlens.gui.panels.variables import ALIASES, COLUMNS, KEY
from tests.gui.window.loading import LOAD_MS, open_in


def test_ctrl_o_opens_a_chosen_folder(qtbot, window, models, monkeypatch):
    path = models.path("tf1_multi_tag")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args: str(path))
    file_menu = window.menuBar().actions()[0].menu()
    (action,) = [a for a in file_menu.actions() if a.shortcut() == QKeySequence.StandardKey.Open]
    assert (
        action.shortcut().matches(QKeySequence("Ctrl+O")) == QKeySequence.SequenceMatch.ExactMatch
    )
    with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
        action.trigger()
    assert window.model.path == path


def test_object_graph_copy_of_a_variable_jumps_to_its_one_row(qtbot, window, models):
    window.resize(1200, 800)
    window.show()
    open_in(qtbot, window, models.path("keras_export"))
    objects, variables = window.panels["objects"], window.panels["variables"]
    node = window.model.variable("_all_variables/0/.ATTRIBUTES/VARIABLE_VALUE")
    item = objects.item_for(
        next(v.object_id for v in window.model.variables if v.key.startswith("_all_variables/0/"))
    )
    assert node.key == "variables/0/.ATTRIBUTES/VARIABLE_VALUE"
    with qtbot.waitSignal(variables.tensor_view.loaded, timeout=LOAD_MS):
        objects.tree.setCurrentItem(item)
    assert item.text(OBJECT_NAME) == "0"
    assert variables.selected_variable().key == "variables/0/.ATTRIBUTES/VARIABLE_VALUE"
    assert variables.tensor_view.title == "sequential/dense/kernel"
    assert variables.tensor_view.info_label.text() == "float32 · (10, 8) · 80 values"


def test_arrow_keys_walk_the_variables_and_show_each(qtbot, window, models):
    window.resize(1200, 800)
    window.show()
    open_in(qtbot, window, models.path("keras_export"))
    panel = window.panels["variables"]
    panel.table.setFocus()
    with qtbot.waitSignal(panel.tensor_view.loaded, timeout=LOAD_MS):
        QTest.keyClick(panel.table, Qt.Key.Key_Down)  # the first row
    first = panel.selected_variable().name
    with qtbot.waitSignal(panel.tensor_view.loaded, timeout=LOAD_MS):
        QTest.keyClick(panel.table, Qt.Key.Key_Down)
    assert panel.selected_variable().name != first
    assert panel.tensor_view.title == panel.selected_variable().name
    assert not panel.tensor_view.busy_bar.isVisibleTo(panel.tensor_view)


def test_variable_headers_and_cells_have_tooltips(window, qtbot, models):
    open_in(qtbot, window, models.path("keras_export"))
    model = window.panels["variables"].table_model
    tips = [
        model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        for c in (KEY, ALIASES)
    ]
    assert all(tips) and "twice" in tips[1]
    assert len(COLUMNS) == model.columnCount()
    assert "also stored as" in model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)


def test_a_switch_to_dark_restyles_plots_already_shown(qapp, window, monkeypatch):
    plot = window.panels["variables"].tensor_view.hist_plot
    monkeypatch.setenv("SMLENS_THEME", "dark")
    try:
        theme.apply_theme(qapp)
        theme.restyle_plots(qapp)
        assert plot.backgroundBrush().color().name() == theme.DARK.base
        assert pg.getConfigOption("background") == theme.DARK.base
    finally:
        monkeypatch.setenv("SMLENS_THEME", "light")
        theme.apply_theme(qapp)
        theme.restyle_plots(qapp)
    assert plot.backgroundBrush().color().name() == theme.LIGHT.base


@pytest.mark.parametrize("key", ["functions", "ops", "assets"])
def test_reopening_models_many_times_keeps_the_tables_whole(window, models, key):
    # these tables once set header alignment through horizontalHeaderItem(); with PySide6
    # 6.12 the model's clear() then freed the item under its wrapper and, some opens
    # later, the heap was corrupt and the app aborted
    from smlens.core import open_model

    panel = window.panels[key]
    opened = [open_model(models.path(n)) for n in ("keras_export", "lookup", "tf1_multi_tag")]
    for i in range(150):
        panel.set_model(opened[i % 3] if i % 4 else None)
    panel.set_model(opened[0])
    model = panel.table_model
    aligns = [
        model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.TextAlignmentRole)
        for c in range(model.columnCount())
    ]
    assert any(int(a) & int(Qt.AlignmentFlag.AlignRight) for a in aligns if a is not None)
