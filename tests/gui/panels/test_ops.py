"""OpPanel: op counts per tag-set; stateful, risky and custom ops marked; sort and filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from smlens.core import open_model
from smlens.core.analysis.ops import op_counts
from smlens.gui.base.theme import current
from smlens.gui.panels.ops import FUNCTIONS, MAIN, NOTES, OP, TOTAL, OpPanel

PANEL = OpPanel


@pytest.fixture(scope="module")
def custom_op(tmp_path_factory) -> Path:
    """A frozen GraphDef with an op TensorFlow's registry does not know."""
    import tensorflow as tf

    graph = tf.compat.v1.GraphDef()
    x = graph.node.add(name="x", op="Placeholder")
    x.attr["dtype"].type = tf.float32.as_datatype_enum
    graph.node.add(name="mystery", op="MyCustomOp", input=["x"])
    path = tmp_path_factory.mktemp("custom") / "custom.pb"
    path.write_bytes(graph.SerializeToString())
    return path


def _rows(panel: OpPanel) -> dict[str, list]:
    proxy = panel.proxy
    return {
        proxy.index(r, OP).data(): [proxy.index(r, c).data() for c in range(5)]
        for r in range(proxy.rowCount())
    }


@pytest.mark.parametrize("name", ["keras_export", "control_flow", "tf1_ckpt_meta"])
def test_counts_equal_core_op_counts(panel, models, name):
    model = open_model(models.path(name))
    panel.set_model(model)
    counts = op_counts(model.meta_graphs[0])
    rows = _rows(panel)
    assert set(rows) == set(counts)
    for op, count in counts.items():
        assert rows[op][MAIN] == f"{count.main:,}"
        assert rows[op][FUNCTIONS] == f"{count.functions:,}"
        assert rows[op][TOTAL] == f"{count.total:,}"
        assert ("stateful" in rows[op][NOTES]) == count.stateful
    totals = [int(panel.proxy.index(r, TOTAL).data()) for r in range(panel.proxy.rowCount())]
    assert totals == sorted(totals, reverse=True)  # numeric, largest first


@pytest.mark.parametrize(
    ("name", "known"),
    [("risky_readfile", {"ReadFile"}), ("risky_nested", {"MatchingFiles", "PrintV2"})],
)
def test_risky_ops_are_flagged_in_the_warning_colour(panel, models, name, known):
    model = open_model(models.path(name))
    panel.set_model(model)
    risky = {op for op, count in op_counts(model.meta_graphs[0]).items() if count.risky}
    assert known <= risky
    rows = _rows(panel)
    assert {op for op, row in rows.items() if "risky" in row[NOTES]} == risky
    for r in range(panel.proxy.rowCount()):
        background = panel.proxy.index(r, TOTAL).data(Qt.ItemDataRole.BackgroundRole)
        warned = background is not None and background.color() == QColor(current().warn_bg)
        assert warned == (panel.proxy.index(r, OP).data() in risky)
    assert f"{len(risky)} risky" in panel.summary_label.text()
    panel.filter_edit.setText("risky")
    assert set(_rows(panel)) == risky


@pytest.mark.tf
def test_custom_ops_are_marked(panel, custom_op):
    panel.set_model(open_model(custom_op))
    rows = _rows(panel)
    assert "custom op" in rows["MyCustomOp"][NOTES] and rows["Placeholder"][NOTES] == ""
    index = next(
        panel.proxy.index(r, OP)
        for r in range(panel.proxy.rowCount())
        if panel.proxy.index(r, OP).data() == "MyCustomOp"
    )
    assert index.data(Qt.ItemDataRole.FontRole).italic()
    assert panel.summary_label.text() == "2 op types · 2 nodes · 1 custom"


def test_tag_set_selector_switches_meta_graphs(panel, models):
    model = open_model(models.path("tf1_multi_tag"))
    panel.set_model(model)
    combo = panel.tag_combo
    assert not combo.isHidden()
    assert [combo.itemText(i) for i in range(combo.count())] == ["serve", "serve, gpu", "train"]
    for tag_set in ("serve,gpu", "train"):
        panel.select_tag_set(tag_set)
        assert set(_rows(panel)) == set(op_counts(model.meta_graph(tag_set)))
    gpu, train = (
        sum(c.total for c in op_counts(model.meta_graph(t)).values())
        for t in ("serve,gpu", "train")
    )
    assert gpu != train and f"{train:,} nodes" in panel.summary_label.text()


def test_single_meta_graph_hides_the_selector_and_filter_narrows(panel, models):
    model = open_model(models.path("keras_export"))
    panel.set_model(model)
    assert panel.tag_combo.isHidden()
    panel.filter_edit.setText("VariableOp")
    expected = {op for op in op_counts(model.meta_graphs[0]) if "variableop" in op.lower()}
    assert set(_rows(panel)) == expected and "ReadVariableOp" in expected
    assert panel.summary_label.text().startswith(f"{len(expected)} shown · ")


def test_a_bare_checkpoint_shows_a_placeholder(panel, models):
    panel.set_model(open_model(models.path("ckpt_dtypes")))
    assert panel.stack.showing_placeholder
    assert panel.proxy.rowCount() == 0
