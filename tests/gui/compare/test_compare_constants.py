"""The Variables tab on two frozen graphs of one model, before and after more training: the
frozen weights are its rows, marked as constants (italics, the op that reads each), their drift
and histogram numpy's on TensorFlow's own reading of the Const nodes (tf.make_ndarray)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from smlens.core.model.constants import CONSTANT_MIN_BYTES
from smlens.gui.compare.variables import COLUMNS, READ_BY_COLUMN
from smlens.gui.compare.view import CompareView
from tests.fixtures.frozen_pairs import RETRAINED_WEIGHTS, UNCHANGED_WEIGHTS

DIFF_MS = 60_000


def _tf_graph(tf, path):
    """(Const name -> value for the frozen weights, Const name -> "Op reader" of the op that
    reads it past the Identity convert_variables_to_constants keeps), as TF reads it."""
    graph_def = tf.compat.v1.GraphDef.FromString(path.read_bytes())
    nodes = {n.name: n for n in graph_def.node}

    def first_reader(name):
        return next(n for n in graph_def.node if name in (i.partition(":")[0] for i in n.input))

    values, readers = {}, {}
    for n in graph_def.node:
        if n.op == "Const" and n.attr["value"].tensor.ByteSize() >= CONSTANT_MIN_BYTES:
            values[n.name] = tf.make_ndarray(n.attr["value"].tensor)
            reader = first_reader(n.name)
            if reader.op == "Identity":
                reader = first_reader(reader.name)
            readers[n.name] = f"{nodes[reader.name].op} {reader.name}"
    return values, readers


@pytest.fixture
def frozen(qtbot, models, tf):
    root = models.path("pair_frozen_retrained")
    paths = root / "a" / "frozen.pb", root / "b" / "frozen.pb"
    view = CompareView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.diff_ready, timeout=DIFF_MS):
        view.compare(*paths)
    (values_a, readers), (values_b, _) = _tf_graph(tf, paths[0]), _tf_graph(tf, paths[1])
    return view, values_a, values_b, readers  # the view owns the panel: keep it alive


def _cell(panel, name: str, column: int, role=Qt.ItemDataRole.DisplayRole):
    row = panel.names().index(name)
    return panel.table_model.index(row, column).data(role)


def test_the_frozen_weights_are_rows_marked_as_constants_with_their_reader(qtbot, frozen):
    view, values_a, values_b, readers = frozen
    panel = view.variables
    assert set(panel.names()) == set(values_a) == {*RETRAINED_WEIGHTS, *UNCHANGED_WEIGHTS}
    assert not panel.table.isColumnHidden(READ_BY_COLUMN)
    assert panel.table.horizontalHeader().visualIndex(READ_BY_COLUMN) == 1
    for name in panel.names():
        assert _cell(panel, name, READ_BY_COLUMN) == readers[name]
        assert _cell(panel, name, 0, Qt.ItemDataRole.FontRole).italic()
        assert f"read by {readers[name]}" in _cell(panel, name, 0, Qt.ItemDataRole.ToolTipRole)
        before, after = values_a[name].astype(np.float64), values_b[name].astype(np.float64)
        moved = not np.array_equal(before, after)
        assert _cell(panel, name, COLUMNS.index("Status")) == ("changed" if moved else "identical")
        shown = _cell(panel, name, COLUMNS.index("Max |Δ|"))
        assert shown == (f"{np.abs(after - before).max():.4g}" if moved else "0")


def test_histogram_of_a_constant_equals_numpys(qtbot, frozen):
    view, values_a, values_b, readers = frozen
    panel = view.variables
    with qtbot.waitSignal(panel.histogram_ready, timeout=DIFF_MS) as signal:
        assert panel.select_variable("hidden/kernel")
    hist = signal.args[0]
    expected = (
        values_b["hidden/kernel"].astype(np.float64) - values_a["hidden/kernel"].astype(np.float64)
    ).reshape(-1)
    edges, counts = panel.curve.getData()
    assert panel.plot.isVisibleTo(panel)
    np.testing.assert_array_equal(counts, np.histogram(expected, bins=edges)[0])
    assert counts.sum() == expected.size == 16 * 64
    assert hist.changed == np.count_nonzero(expected)
    assert f"constant (a frozen weight), read by {readers['hidden/kernel']}" in (
        panel.caption.text()
    )


def test_a_pair_of_savedmodels_shows_no_read_by_column(qtbot, models):
    root = models.path("pair_exported_twice")
    view = CompareView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.diff_ready, timeout=DIFF_MS):
        view.compare(root / "a", root / "b")
    panel = view.variables
    assert panel.names() and panel.table.isColumnHidden(READ_BY_COLUMN)
    assert _cell(panel, panel.names()[0], READ_BY_COLUMN) == ""
    assert _cell(panel, panel.names()[0], 0, Qt.ItemDataRole.FontRole) is None
