"""VariablePanel: rows from the model, numeric sorting, filtering, selection and values."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from smlens.core import open_model
from smlens.core.model import Model, Shape, Variable
from smlens.core.model.text import short_dtype
from smlens.gui.base.theme import current
from smlens.gui.panels.variables import (
    ALIASES,
    BYTES,
    COLUMNS,
    DTYPE,
    KEY,
    NAME,
    PARAMS,
    ROLE,
    SHAPE,
    SLOT_OF,
    VariablePanel,
    parameter_count,
)
from tests.fixtures.trained import keras_classifier, keras_roles

PANEL = VariablePanel


def _column(panel: VariablePanel, col: int, role=Qt.ItemDataRole.DisplayRole) -> list:
    proxy = panel.proxy
    return [proxy.index(r, col).data(role) for r in range(proxy.rowCount())]


@pytest.mark.parametrize("name", ["keras_export", "tf1_multi_tag", "ckpt_dtypes"])
def test_one_row_per_variable_with_its_dtype_and_shape(panel, models, name):
    model = open_model(models.path(name))
    panel.set_model(model)
    assert panel.proxy.rowCount() == len(model.distinct_variables())
    shown = {
        key: (dtype, shape)
        for key, dtype, shape in zip(
            _column(panel, KEY), _column(panel, DTYPE), _column(panel, SHAPE), strict=True
        )
    }
    expected = {v.key: (short_dtype(v.dtype), str(v.shape)) for v in model.distinct_variables()}
    assert shown == expected
    header = [
        panel.table_model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(COLUMNS))
    ]
    assert header == list(COLUMNS)


def test_keras_names_and_parameter_count_count_each_tensor_once(panel, models):
    model = open_model(models.path("keras_export"))
    panel.set_model(model)
    assert "sequential/dense/kernel" in _column(panel, NAME)
    # 10*8 + 8 + 8*1 + 1, though Keras stores every variable under two keys
    assert parameter_count(model) == 97
    assert panel.count_label.text() == "4 variables · 97 parameters"


def test_keras_variables_stored_twice_show_once_with_their_other_key(panel, models, qtbot):
    import tensorflow as tf

    path = models.path("keras_export")
    model = open_model(path)
    panel.set_model(model)
    loaded = tf.saved_model.load(str(path))
    assert panel.proxy.rowCount() == len(loaded.variables) == 4 < len(model.variables)
    assert sorted(_column(panel, NAME)) == sorted(v.name.split(":")[0] for v in loaded.variables)
    aliases = _column(panel, ALIASES)
    assert all(a.startswith("_all_variables/") for a in aliases)
    assert not panel.table.isColumnHidden(ALIASES)
    tips = _column(panel, NAME, Qt.ItemDataRole.ToolTipRole)
    assert all("also stored as: _all_variables/" in tip for tip in tips)
    # the object graph's _all_variables node finds the one row
    with qtbot.waitSignal(panel.tensor_view.loaded, timeout=10_000):
        assert panel.select_variable("_all_variables/0/.ATTRIBUTES/VARIABLE_VALUE")
    assert panel.selected_variable().key == "variables/0/.ATTRIBUTES/VARIABLE_VALUE"


def test_alias_column_hides_when_no_variable_is_stored_twice(panel, models):
    panel.set_model(open_model(models.path("tf1_multi_tag")))
    assert panel.table.isColumnHidden(ALIASES)


@pytest.mark.parametrize("col", [PARAMS, BYTES])
def test_number_columns_sort_numerically(panel, models, col):
    model = open_model(models.path("ckpt_dtypes"))
    panel.set_model(model)
    panel.table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    by_key = {v.key: v for v in model.variables}
    numbers = [
        by_key[k].num_elements if col == PARAMS else (by_key[k].nbytes or -1)
        for k in _column(panel, KEY)
    ]
    assert numbers == sorted(numbers, reverse=True)
    assert numbers[0] > 100 > numbers[-1]  # 120 (float_4d) first: a text sort puts "96" first
    assert panel.proxy.index(0, col).data(Qt.ItemDataRole.TextAlignmentRole) & int(
        Qt.AlignmentFlag.AlignRight
    )


def test_filter_matches_name_or_key_as_regex_or_substring(panel, models):
    panel.set_model(open_model(models.path("keras_export")))
    panel.filter_edit.setText("dense_1/(kernel|bias)")
    assert set(_column(panel, NAME)) == {"sequential/dense_1/kernel", "sequential/dense_1/bias"}
    panel.filter_edit.setText("_all_variables/0/")  # only in the key the row also has
    assert _column(panel, ALIASES) == ["_all_variables/0/.ATTRIBUTES/VARIABLE_VALUE"]
    assert _column(panel, KEY) == ["variables/0/.ATTRIBUTES/VARIABLE_VALUE"]
    panel.filter_edit.setText("dense/kernel[")  # no valid regex: a substring, matching nothing
    assert panel.proxy.rowCount() == 0
    assert panel.count_label.text().startswith("0 of 4 variables")
    panel.filter_edit.clear()
    assert panel.proxy.rowCount() == 4


def test_select_variable_selects_scrolls_and_shows_its_values(panel, models, qtbot):
    model = open_model(models.path("ckpt_dtypes"))
    panel.set_model(model)
    panel.filter_edit.setText("string")  # hides the row: selecting clears the filter
    key = "float_3d/.ATTRIBUTES/VARIABLE_VALUE"
    with qtbot.waitSignal(panel.tensor_view.loaded, timeout=10_000):
        assert panel.select_variable(key)
    assert panel.filter_edit.text() == ""
    assert panel.selected_variable().key == key
    rows = panel.table.selectionModel().selectedRows()
    assert [panel.proxy.index(r.row(), KEY).data() for r in rows] == [key]
    np.testing.assert_array_equal(panel.tensor_view.data.array, model.checkpoint.read(key))
    assert not panel.select_variable("no/such/key")


def test_clicking_a_row_shows_that_tensor(panel, models, qtbot):
    model = open_model(models.path("tf1_multi_tag"))
    panel.set_model(model)
    row = _column(panel, KEY).index("w")
    with qtbot.waitSignal(panel.tensor_view.loaded, timeout=10_000):
        panel.table.selectRow(row)
    assert panel.tensor_view.title == "w"
    np.testing.assert_array_equal(panel.tensor_view.data.array, np.ones((3, 2), np.float32))


def test_optimizer_slots_are_one_click_away_and_muted(panel, models):
    model = open_model(models.path("ckpt_optimizer"))
    panel.set_model(model)
    slots = {v.key for v in model.variables if v.slot_of is not None}
    assert len(slots) == 4
    assert set(_column(panel, NAME)) == {"kernel", "bias"}  # the weights, by default
    assert panel.count_label.text() == "2 of 8 variables · 8 parameters"  # 3 x 2 kernel, 2 bias
    panel.role_bar.buttons["all"].click()
    assert panel.proxy.rowCount() == len(model.variables)
    assert not panel.table.isColumnHidden(SLOT_OF)
    colors = _column(panel, NAME, Qt.ItemDataRole.ForegroundRole)
    weights = {"net/kernel/.ATTRIBUTES/VARIABLE_VALUE", "net/bias/.ATTRIBUTES/VARIABLE_VALUE"}
    for key, color in zip(_column(panel, KEY), colors, strict=True):
        assert (color is not None and QColor(color) == QColor(current().muted)) == (
            key not in weights
        )
    assert {"kernel (m)", "kernel (v)", "bias (m)", "bias (v)"} <= set(_column(panel, SLOT_OF))
    assert panel.count_label.text() == "8 variables · 8 parameters"  # nor slots, nor beta powers


def _saved_keras_model(tmp_path):
    import tensorflow as tf

    model = keras_classifier()
    tf.saved_model.save(model, str(tmp_path))
    return model, keras_roles(model)


@pytest.mark.tf
def test_keras_training_state_is_grouped_by_role(panel, tmp_path):
    keras_model, truth = _saved_keras_model(tmp_path)
    panel.set_model(open_model(tmp_path))
    bar = panel.role_bar
    assert not bar.isHidden() and bar.group == "weights"
    assert set(_column(panel, NAME)) == {name for name, t in truth.items() if t[0] == "weight"}
    optimizer = len(keras_model.optimizer.variables)
    metrics = sum(len(m.variables) for m in keras_model.metrics)
    assert bar.buttons["optimizer"].text() == f"Optimizer {optimizer}"
    assert bar.buttons["metrics"].text() == f"Metrics {metrics}"
    assert bar.buttons["other"].isHidden()
    bar.buttons["optimizer"].click()
    shown = dict(zip(_column(panel, NAME), _column(panel, SLOT_OF), strict=True))
    expected = {name: t[1] for name, t in truth.items() if t[0].startswith("optimizer")}
    assert set(shown) == set(expected)
    for name, owner in expected.items():
        assert shown[name].startswith(f"{owner} (") if owner else shown[name] == ""
    bar.buttons["metrics"].click()
    assert set(_column(panel, ROLE)) == {"metric"}
    assert len(_column(panel, NAME)) == metrics
    params = sum(int(np.prod(w.shape)) for w in keras_model.weights)
    assert panel.count_label.text() == f"{metrics} of {len(truth)} variables · {params} parameters"


@pytest.mark.tf
def test_selecting_an_optimizer_moment_shows_its_role(panel, tmp_path, qtbot):
    _, truth = _saved_keras_model(tmp_path)
    model = open_model(tmp_path)
    panel.set_model(model)
    moment = next(v for v in model.variables if truth[v.name][0] == "optimizer_state")
    with qtbot.waitSignal(panel.tensor_view.loaded, timeout=10_000):
        assert panel.select_variable(moment.key)
    assert panel.role_bar.group == "all"  # switched to show the row
    assert panel.selected_variable().key == moment.key
    assert f"of the weight {truth[moment.name][1]}" in panel.tensor_view.caption_text()


def test_a_model_without_values_says_so_on_selection(panel, tmp_path, qtbot):
    var = Variable("w", "w", "DT_FLOAT", Shape((4, 2)))
    panel.set_model(Model(path=tmp_path, format="checkpoint", variables=[var]))
    with qtbot.waitSignal(panel.tensor_view.failed, timeout=10_000) as blocker:
        panel.select_variable("w")
    assert "no variable values" in blocker.args[0]


@pytest.mark.parametrize(("width", "side_by_side"), [(900, True), (700, False)])
def test_a_wide_panel_puts_the_values_beside_the_table(panel, qtbot, models, width, side_by_side):
    """At the default window size the Variables dock is ~900 px wide: the values take the
    full height beside the table, so a tensor shows at least 15 rows."""
    model = open_model(models.path("keras_export"))
    panel.resize(width, 540)
    panel.show()
    panel.set_model(model)
    qtbot.waitUntil(lambda: panel.width() == width)
    horizontal = panel.splitter.orientation() == Qt.Orientation.Horizontal
    assert horizontal == side_by_side
    key = max(model.distinct_variables(), key=lambda v: v.num_elements).key
    with qtbot.waitSignal(panel.tensor_view.loaded, timeout=10_000):
        panel.select_variable(key)
    panel.tensor_view.tabs.setCurrentWidget(panel.tensor_view.table)
    table = panel.tensor_view.table
    qtbot.waitUntil(lambda: table.viewport().height() > 0)
    rows = table.viewport().height() // table.verticalHeader().defaultSectionSize()
    if side_by_side:
        assert rows >= 15
        assert panel.table.width() >= 0.35 * width


def test_the_columns_get_the_room_until_a_tensor_is_chosen(qtbot, models):
    panel = VariablePanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 500)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_model(open_model(models.path("keras_export")))
    header = panel.table.horizontalHeader()
    bytes_end = header.sectionPosition(BYTES) + header.sectionSize(BYTES)
    qtbot.waitUntil(lambda: panel.table.viewport().width() >= bytes_end)
    table_before = panel.splitter.sizes()[0]
    assert table_before > sum(panel.splitter.sizes()) * 0.45
    panel.table.selectRow(0)
    qtbot.waitUntil(lambda: panel.splitter.sizes()[0] < table_before)
    assert panel.splitter.sizes()[0] == pytest.approx(sum(panel.splitter.sizes()) * 0.45, abs=2)
