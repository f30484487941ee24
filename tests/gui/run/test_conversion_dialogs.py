"""File ▸ Freeze to GraphDef and File ▸ Wrap as SavedModel: the dialogs pre-fill the
fixtures' detected outputs and feeds, refuse an output inside the model folder with core's
message, run TensorFlow in their own worker (Cancel kills it), and on success open what
they wrote in the window. What was written is checked with TensorFlow's own parsers."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from smlens.core import open_model
from smlens.core.errors import SmlensError
from smlens.core.run.availability import INSTALL_COMMAND, TensorFlowStatus
from smlens.core.run.conversion import check_out
from smlens.gui.run.freeze_dialog import FreezeDialog
from smlens.gui.run.wrap_dialog import WrapDialog
from tests.gui.window.loading import open_in

pytestmark = pytest.mark.tf

TIMEOUT = 120_000  # ms: the worker imports TensorFlow, then converts


def _convert(qtbot, dialog) -> None:
    """Press Run and wait for the result (a failure shows its line in the assert)."""
    assert dialog.run_button.isEnabled(), dialog.run_button.toolTip()
    with qtbot.waitSignal(dialog.conversion_finished, timeout=TIMEOUT):
        dialog.run_button.click()
    assert not dialog.busy


def _graph_def(tf, path: Path):
    return tf.compat.v1.GraphDef.FromString(path.read_bytes())


def test_freeze_from_the_window_writes_the_checked_outputs_and_opens_them(
    qtbot, tf, window, models, tmp_path
):
    folder = models.path("tf1_ckpt_meta")
    open_in(qtbot, window, folder)
    assert window.freeze_action.isEnabled() and not window.wrap_action.isEnabled()
    window.freeze_action.trigger()
    dialog = window.conversion_dialog
    assert isinstance(dialog, FreezeDialog)
    assert dialog.fetches.checked() == ["y:0"]  # the fixture's output: relu named "y"
    out = tmp_path / "frozen.pb"
    dialog.out_edit.setText(str(out))

    _convert(qtbot, dialog)

    assert dialog.converted.fetches == {"y:0": "y:0"}
    assert dialog.result_view.toPlainText().splitlines() == dialog.converted.lines()
    nodes = {n.name: n.op for n in _graph_def(tf, out).node}
    assert nodes["y"] == "Relu" and nodes["x"] == "Placeholder"
    assert not {"VariableV2", "VarHandleOp", "RestoreV2"} & set(nodes.values())
    with qtbot.waitSignal(window.model_loaded, timeout=30_000):
        dialog.open_button.click()
    assert window.model.path == out and window.model.format == "graph_def"
    assert window.wrap_action.isEnabled()


def test_wrap_of_a_frozen_graph_gives_serving_default_over_the_checked_names(
    qtbot, tf, models, tmp_path
):
    from tensorflow.core.protobuf import saved_model_pb2

    dialog = WrapDialog(open_model(models.path("frozen_graph") / "frozen.pb"))
    qtbot.addWidget(dialog)
    assert dialog.checked_feeds() == ["x:0"] and dialog.fetches.checked() == ["y:0"]
    out = tmp_path / "served"
    dialog.out_edit.setText(str(out))

    _convert(qtbot, dialog)

    saved = saved_model_pb2.SavedModel.FromString((out / "saved_model.pb").read_bytes())
    (meta_graph,) = saved.meta_graphs
    assert list(meta_graph.meta_info_def.tags) == ["serve"]
    signature = meta_graph.signature_def["serving_default"]
    assert {k: v.name for k, v in signature.inputs.items()} == {"x": "x:0"}
    assert {k: v.name for k, v in signature.outputs.items()} == {"y": "y:0"}
    assert dialog.converted.feeds == {"x": "x:0"} and dialog.converted.fetches == {"y": "y:0"}
    dialog.shutdown()


def test_an_output_inside_the_model_folder_is_refused_with_cores_message(qtbot, models):
    folder = models.path("tf1_ckpt_meta")
    before = sorted(p.name for p in folder.iterdir())
    model = open_model(folder)
    dialog = FreezeDialog(model)
    qtbot.addWidget(dialog)
    inside = folder / "frozen.pb"
    dialog.out_edit.setText(str(inside))
    with pytest.raises(SmlensError) as refused:
        check_out(model, inside, False, is_dir=False)

    assert not dialog.run()

    assert not dialog.error_frame.isHidden()
    assert dialog.error_label.text() == str(refused.value)  # "OUT: is inside the model folder…"
    assert "inside the model folder" in dialog.error_label.text()
    assert not dialog.busy and dialog._engine is None  # no worker was started
    assert sorted(p.name for p in folder.iterdir()) == before


def test_cancel_kills_the_worker_and_writes_nothing(qtbot, tf, models, tmp_path):
    dialog = FreezeDialog(open_model(models.path("tf1_ckpt_meta")))
    qtbot.addWidget(dialog)
    out = tmp_path / "frozen.pb"
    dialog.out_edit.setText(str(out))
    assert dialog.run()
    qtbot.waitUntil(lambda: dialog.worker_running, timeout=TIMEOUT)
    pid = dialog.engine.pid

    with qtbot.waitSignal(dialog.conversion_failed, timeout=5_000) as failed:
        dialog.cancel_button.click()

    assert failed.args[0].startswith("Cancelled")
    qtbot.waitUntil(lambda: not dialog.worker_running, timeout=30_000)
    assert not dialog.busy and dialog.cancel_button.isHidden()
    assert dialog.converted is None and not out.exists()
    assert not Path(f"/proc/{pid}").exists() or _zombie(pid)
    assert not list(tmp_path.iterdir())  # no temporary file left beside the target


def _zombie(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" in status.read_text()
    except OSError:
        return True


def test_without_tensorflow_the_dialog_says_how_to_install_it(qtbot, models):
    missing = TensorFlowStatus(False, "No module named 'tensorflow'")
    dialog = WrapDialog(open_model(models.path("frozen_graph") / "frozen.pb"), tensorflow=missing)
    qtbot.addWidget(dialog)

    assert not dialog.tensorflow_frame.isHidden()
    assert INSTALL_COMMAND in dialog.tensorflow_label.text()
    assert dialog.tensorflow_label.text().startswith("Wrapping needs TensorFlow")
    assert not dialog.run_button.isEnabled()
    assert dialog.checked_feeds() == ["x:0"]  # the form is there all the same


def test_unchecking_every_output_disables_freeze(qtbot, models):
    dialog = FreezeDialog(open_model(models.path("tf1_ckpt_meta")))
    qtbot.addWidget(dialog)
    dialog.fetches.list.item(0).setCheckState(Qt.CheckState.Unchecked)

    assert dialog.fetches.checked() == []
    assert not dialog.run_button.isEnabled()
    assert "at least one output" in dialog.run_button.toolTip()


def test_a_saved_model_freezes_the_chosen_signature(qtbot, tf, models, tmp_path):
    model = open_model(models.path("tf1_multi_tag"))
    dialog = FreezeDialog(model)
    qtbot.addWidget(dialog)
    combo = dialog.signature_combo
    tag_set, key = combo.currentData()
    assert tag_set == "serve"
    signature = model.meta_graph(tag_set).signatures[key]
    shown = [
        dialog.signature_outputs.item(i).text() for i in range(dialog.signature_outputs.count())
    ]
    assert [line.split(":")[0] for line in shown] == list(signature.outputs)
    out = tmp_path / "frozen.pb"
    dialog.out_edit.setText(str(out))

    _convert(qtbot, dialog)

    nodes = {n.name for n in _graph_def(tf, out).node}
    for info in signature.outputs.values():
        assert info.name.rpartition(":")[0] in nodes
    dialog.shutdown()


def _mistyped_graph(tf, path: Path) -> Path:
    """A GraphDef TensorFlow refuses to import (an int32 Identity of a float placeholder),
    which smlens reads: only the worker finds out."""
    graph_def = tf.compat.v1.GraphDef()
    x = graph_def.node.add(name="x", op="Placeholder")
    x.attr["dtype"].type = tf.float32.as_datatype_enum
    y = graph_def.node.add(name="y", op="Identity", input=["x"])
    y.attr["T"].type = tf.int32.as_datatype_enum
    path.write_bytes(graph_def.SerializeToString())
    return path


def test_tensorflows_error_is_one_line_in_the_dialog(qtbot, tf, tmp_path):
    (tmp_path / "model").mkdir()
    source = _mistyped_graph(tf, tmp_path / "model" / "mistyped.pb")
    with tf.Graph().as_default(), pytest.raises(ValueError) as refused:
        tf.import_graph_def(tf.compat.v1.GraphDef.FromString(source.read_bytes()), name="")
    dialog = WrapDialog(open_model(source))
    qtbot.addWidget(dialog)
    dialog.fetches.name_edit.setText("y")
    dialog.fetches.add_button.click()
    out = tmp_path / "served"
    dialog.out_edit.setText(str(out))

    with qtbot.waitSignal(dialog.conversion_failed, timeout=TIMEOUT) as failed:
        dialog.run_button.click()

    expected = f"ValueError: {str(refused.value).splitlines()[0]}"
    assert failed.args[0] == expected and dialog.error_label.text() == expected
    assert not dialog.error_frame.isHidden() and dialog.open_button.isHidden()
    assert not out.exists()
    dialog.shutdown()
