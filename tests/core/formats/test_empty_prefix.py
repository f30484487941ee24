"""A checkpoint saved with an empty prefix (dir/.index, dir/.meta) opens from its folder,
its files and its state file, with TensorFlow's values."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from smlens.core.formats.bundle import CheckpointPrefix
from smlens.core.formats.reader import open_model


def test_the_fixture_is_what_saver_writes_for_an_empty_prefix(models, tf):
    folder = models.path("ckpt_empty_prefix")
    assert {p.name for p in folder.iterdir()} >= {".index", ".meta", "checkpoint"}
    assert tf.train.latest_checkpoint(str(folder)) == str(folder) + "/"


@pytest.mark.parametrize("opened", ["folder", "folder/", ".index", ".meta", "prefix"])
def test_it_opens_every_way_with_tensorflows_values(models, tf, opened):
    folder = models.path("ckpt_empty_prefix")
    path = {
        "folder": str(folder),
        "folder/": str(folder) + "/",
        ".index": str(folder / ".index"),
        ".meta": str(folder / ".meta"),
        "prefix": str(folder) + "/",
    }[opened]
    model = open_model(path)
    reader = tf.train.load_checkpoint(str(folder) + "/")
    assert {v.name for v in model.variables} == set(reader.get_variable_to_shape_map())
    for variable in model.variables:
        ours = model.checkpoint.read(variable.key)
        assert np.array_equal(ours, reader.get_tensor(variable.key))
    assert model.meta_graphs, "the .meta beside it gives the graph"
    assert {n.name for n in model.meta_graphs[0].graph.nodes} >= {"x", "y", "dense/kernel"}
    assert not model.problems


def test_a_copied_folder_whose_state_names_another_machines_empty_prefix(models, tmp_path):
    copy = tmp_path / "copied"
    shutil.copytree(models.path("ckpt_empty_prefix"), copy)
    (copy / "checkpoint").write_text(
        'model_checkpoint_path: "/elsewhere/run/"\nall_model_checkpoint_paths: "/elsewhere/run/"\n'
    )
    model = open_model(copy)
    assert model.checkpoint.prefix == str(copy) + "/"
    assert len(model.variables) == 2 and not model.problems


def test_a_prefix_keeps_an_empty_name():
    prefix = CheckpointPrefix.of("/models/run/")
    assert (prefix.name, prefix.index.as_posix(), str(prefix)) == (
        "",
        "/models/run/.index",
        "/models/run/",
    )
    named = CheckpointPrefix.of("/models/run/model.ckpt-10")
    assert named.file(".meta").as_posix() == "/models/run/model.ckpt-10.meta"
    assert CheckpointPrefix.of_file(prefix.index, ".index") == prefix
