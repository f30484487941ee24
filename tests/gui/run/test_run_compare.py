"""The Run panel's "Compare with another export or a saved run": the panel's signature and
inputs through another export, or this export held against a saved run, in the outputs
table the compare window shows. Expected figures come from the fixture's definition."""

from __future__ import annotations

import json

import pytest

from smlens.cli.main import main
from smlens.core import open_model
from smlens.core.run.inputs import InputSource
from smlens.gui.run.output_diff_table import KEY, TOP1, VERDICT
from smlens.gui.run.panel import RunPanel
from tests.fixtures.output_pairs import CLASSIFIER_X, logits

TIMEOUT = 180_000  # ms: the worker imports TensorFlow, then loads both exports
X_TEXT = json.dumps(CLASSIFIER_X.tolist())


@pytest.fixture
def panel(qtbot):
    widget = RunPanel()
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def _verdicts(dialog) -> dict[str, tuple[str, str]]:
    model = dialog.comparison.table_model
    return {
        model.data(model.index(r, KEY)): (
            model.data(model.index(r, VERDICT)),
            model.data(model.index(r, TOP1)),
        )
        for r in range(model.rowCount())
    }


def _compare(qtbot, panel: RunPanel, other):
    dialog = panel.compare_with(other)
    assert dialog is not None, panel.error_label.text()
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=TIMEOUT)
    assert dialog.run is not None, dialog.status.text()
    return dialog


def _top1_agree() -> int:
    top_a = logits("a", CLASSIFIER_X).argmax(axis=1)
    top_b = logits("shifted", CLASSIFIER_X).argmax(axis=1)
    return int((top_a == top_b).sum())


def test_compare_with_another_export_runs_the_panels_inputs_through_both(qtbot, panel, models):
    root = models.path("outputs_classifier")
    panel.set_model(open_model(root / "a"))
    panel.inputs.set_source("x", InputSource("expr", text=X_TEXT))
    assert panel.compare_button.isEnabled()

    dialog = _compare(qtbot, panel, root / "shifted")

    agree, rows = _top1_agree(), len(CLASSIFIER_X)
    verdicts = _verdicts(dialog)
    assert verdicts["scaled"] == ("within", f"{rows} of {rows}")
    for key in ("classes", "label", "probabilities"):
        assert verdicts[key] == ("beyond", f"{agree} of {rows}")
    assert dialog.run.diff.signatures[0].rows == rows
    assert f"worker pid {panel.state.engine.pid}" in panel.worker_label.text()  # the panel's


def test_compare_with_a_saved_run_holds_this_export_against_its_outputs(
    qtbot, panel, models, tmp_path, capsys
):
    """A saved run of A (kept by smlens diff --save-run) against B open in the panel: the
    same verdict as the live diff."""
    root = models.path("outputs_classifier")
    saved = tmp_path / "golden.npz"
    args = ["diff", str(root / "a"), str(root / "shifted"), "--outputs"]
    main([*args, "--input_exprs", f"x={X_TEXT}", "--save-run", str(saved), "--color", "never"])
    live = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("outputs:")
    )
    panel.set_model(open_model(root / "shifted"))

    dialog = _compare(qtbot, panel, saved)

    assert f"outputs: {dialog.comparison.verdict_text()}" == live
    assert dialog.run.diff.baseline == str(saved)
    agree, rows = _top1_agree(), len(CLASSIFIER_X)
    assert _verdicts(dialog)["probabilities"] == ("beyond", f"{agree} of {rows}")
