"""The Overview's TFLite readiness: the button runs TensorFlow's converter in a worker off
the UI thread and the result names the Flex and unsupported ops with their nodes; Cancel
kills that worker; a model that is no SavedModel has nothing to convert."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from smlens.core import open_model
from smlens.gui.panels.overview import OverviewPanel
from tests.fixtures.tflite import FLEX_NODE, FLEX_OP, UNSUPPORTED_NODE, UNSUPPORTED_OP

PANEL = OverviewPanel
CHECK_TIMEOUT_MS = 240_000  # a cold worker: the TensorFlow import, then three conversions


def _rows(tree) -> list[list[str]]:
    """Every row of the tree, expanded or not, as its column texts."""
    rows = []

    def walk(item):
        rows.append([item.text(c) for c in range(tree.columnCount())])
        for i in range(item.childCount()):
            walk(item.child(i))

    for i in range(tree.topLevelItemCount()):
        walk(tree.topLevelItem(i))
    return rows


def _gone(pid: int) -> bool:
    """Whether no process ``pid`` exists any more (killed and reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def overview(panel):
    yield panel
    panel.shutdown()


def test_the_button_shows_the_flex_and_the_unsupported_op_with_their_nodes(overview, models, qtbot):
    overview.set_model(open_model(models.path("tflite_flex_and_unsupported")))
    view = overview.tflite
    assert view.check_button.isEnabled()
    assert view.tree.isHidden()  # on request only

    with qtbot.waitSignal(view.readiness_shown, timeout=CHECK_TIMEOUT_MS):
        qtbot.mouseClick(view.check_button, Qt.MouseButton.LeftButton)

    rows = _rows(view.tree)
    assert rows[0][0].startswith("serving_default: does not convert")
    by_op = {row[0]: row for row in rows if row[0] in (FLEX_OP, UNSUPPORTED_OP)}
    assert by_op[FLEX_OP][1] == "Flex (Select TF ops)"
    assert by_op[FLEX_OP][3].startswith(f"{FLEX_NODE} in ")
    assert by_op[UNSUPPORTED_OP][1] == "unsupported"
    assert by_op[UNSUPPORTED_OP][3].startswith(f"{UNSUPPORTED_NODE} in ")
    assert view.status_label.text().startswith("Some ops are unsupported")


def test_cancel_kills_the_worker_of_the_check(overview, models, qtbot):
    overview.set_model(open_model(models.path("tflite_flex_and_unsupported")))
    view = overview.tflite

    with qtbot.waitSignal(
        view.check_progressed,
        timeout=CHECK_TIMEOUT_MS,
        check_params_cb=lambda _fraction, text: "converting" in text,
    ):
        view.check_button.click()
    pid = view.engine.pid
    assert not view.cancel_button.isHidden()
    with qtbot.waitSignal(view.check_failed) as failed:
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)

    assert failed.args == ["Cancelled"]
    qtbot.waitUntil(lambda: _gone(pid), timeout=10_000)
    assert not view.engine.running
    assert view.check_button.isEnabled()
    assert view.cancel_button.isHidden()


def test_a_checkpoint_has_no_tflite_check(overview, models):
    overview.set_model(open_model(models.path("ckpt_sharded")))

    assert overview.tflite.isHidden()
    assert not overview.tflite.check_button.isEnabled()
