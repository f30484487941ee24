"""The side-by-side graphs of a changed function: both sides open, the changed nodes are
highlighted on each, and a selection on one side selects its counterpart on the other."""

from __future__ import annotations

from smlens.core.diff.changes import node_marks
from smlens.core.diff.compare import diff_models
from smlens.core.formats.reader import open_model
from smlens.gui.compare.split import FunctionSplitView

LAYOUT_MS = 60_000


def test_renamed_layer_function_opens_side_by_side_in_step(qtbot, models):
    root = models.path("pair_keras_renamed_layer")
    a, b = open_model(root / "a"), open_model(root / "b")
    diff = diff_models(a, b, values=False)
    (functions,) = diff.groups["functions"]
    call = next(c for c in functions.children if c.path[-1].startswith("__inference___call__"))
    marks = node_marks(call)
    renamed = next(n for n in marks.a_to_b if "MatMul" in n)  # probs_1 -> probabilities_1
    assert marks.a_to_b[renamed] != renamed
    assert any(k == "added" and "dense_extra" in n for n, k in marks.b.items())

    view = FunctionSplitView()
    qtbot.addWidget(view)
    view.resize(1400, 800)
    view.show()
    with qtbot.waitSignal(view.layouts_applied, timeout=LAYOUT_MS):
        view.show_function(a, b, call)

    assert view.marked("a") and view.marked("b")
    assert len(view.marked("b")) >= len(view.marked("a"))
    assert "added in B" in view.legend.text()
    view.select("a", renamed)
    assert view.panels["a"].selected == renamed
    assert view.panels["b"].selected == marks.a_to_b[renamed]
