"""show --json of a training folder lists its steps and the exports below it, as
TensorFlow's own checkpoint state names them."""

from __future__ import annotations

import json
from pathlib import Path

from smlens.cli.main import main


def _summary(capsys, path: Path) -> dict:
    assert main(["show", "--dir", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_training_folder_lists_every_step_and_export(models, tf, capsys):
    folder = models.path("training_folder")
    found = _summary(capsys, folder)["training_folder"]
    state = tf.train.get_checkpoint_state(str(folder))
    listed = [str(folder / c["prefix"]) for c in found["checkpoints"]]
    assert listed == list(state.all_model_checkpoint_paths)
    steps = [c["step"] for c in found["checkpoints"]]
    assert steps == [int(p.rsplit("-", 1)[1]) for p in state.all_model_checkpoint_paths]
    shown = [c["prefix"] for c in found["checkpoints"] if c["shown"]]
    assert [str(folder / p) for p in shown] == [state.model_checkpoint_path]
    assert all(c["has_meta"] for c in found["checkpoints"])
    exports = [folder / e for e in found["exports"]]
    assert exports and all(tf.saved_model.contains_saved_model(str(e)) for e in exports)
    assert found["graphs"] == ["graph.pbtxt"]


def test_a_saved_model_and_a_lone_checkpoint_are_no_training_folder(models, capsys):
    assert _summary(capsys, models.path("keras_export"))["training_folder"] is None
    assert _summary(capsys, models.path("tf1_ckpt_meta"))["training_folder"] is None
