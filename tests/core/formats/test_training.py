"""Training folders: every checkpoint step and the SavedModel exported below are found,
the folder opens as its newest step, and two steps compare by their variable deltas."""

from __future__ import annotations

import os
import shutil

import numpy as np

from smlens.core import open_model
from smlens.core.analysis.summary import model_summary
from smlens.core.diff.model_diff import diff_models
from smlens.core.formats.training import find_training_folder, step_of
from tests.fixtures.training import EXPORT, STEPS


def test_three_steps_and_the_export_are_listed(models):
    folder = models.path("training_folder")
    found = find_training_folder(folder)

    assert [c.step for c in found.checkpoints] == list(STEPS)
    assert all(c.has_meta for c in found.checkpoints)
    assert found.exports == [folder / EXPORT]
    assert found.events and found.graphs == [folder / "graph.pbtxt"]
    assert len(found.checkpoints) + len(found.exports) == 4
    assert found.newest.label == "step 1,000"
    # a step's prefix finds the same folder
    assert find_training_folder(found.checkpoints[0].prefix).folder == folder


def test_the_folder_opens_as_its_newest_step_and_its_steps_match_tensorflow(models):
    import tensorflow as tf

    folder = models.path("training_folder")
    model = open_model(folder)
    assert step_of(model.checkpoint.prefix) == 1000
    assert tf.train.latest_checkpoint(str(folder)) == str(model.checkpoint.prefix)
    state = tf.train.get_checkpoint_state(str(folder))
    found = find_training_folder(folder)
    assert [str(c.prefix) for c in found.checkpoints] == list(state.all_model_checkpoint_paths)


def test_two_steps_compare_by_their_variable_deltas(models):
    found = find_training_folder(models.path("training_folder"))
    older, newer = (open_model(c.prefix) for c in found.checkpoints[1:])
    np.testing.assert_array_equal(newer.checkpoint.read("dense/bias"), [2.0, 2.0])
    diff = diff_models(older, newer)
    bias, kernel = diff.value_deltas["dense/bias"], diff.value_deltas["dense/kernel"]
    assert not bias.identical and bias.max_abs == 1.0  # one step of +1
    assert not kernel.identical and kernel.max_abs == 0.5
    assert diff.value_deltas["global_step"].max_abs == 1


def test_a_saved_model_or_a_single_checkpoint_is_no_training_folder(models):
    assert find_training_folder(models.path("keras_export")) is None
    assert find_training_folder(models.path("training_folder") / EXPORT) is None


def test_a_state_file_naming_a_prefix_too_long_for_the_file_system(models, tmp_path):
    folder = tmp_path / "run"
    shutil.copytree(models.path("training_folder"), folder)
    state = folder / "checkpoint"
    too_long = "a" * (os.pathconf(folder, "PC_NAME_MAX") + 1)
    state.write_text(state.read_text() + f'all_model_checkpoint_paths: "{too_long}"\n')
    found = find_training_folder(folder)  # the name is passed over, the steps stay
    assert [c.step for c in found.checkpoints] == list(STEPS)
    summary = model_summary(open_model(folder))
    assert [c["step"] for c in summary["training_folder"]["checkpoints"]] == list(STEPS)
