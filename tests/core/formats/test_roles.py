"""Every variable's role, checked against what TensorFlow's own objects say it is: the Keras
model's weights, its optimizer's variables and its metrics' variables; a TF1 Adam's slots."""

from __future__ import annotations

import pytest

from smlens.core import open_model
from smlens.core.model.roles import METRIC, OPTIMIZER_SCALAR, OPTIMIZER_STATE, WEIGHT
from tests.fixtures.trained import keras_classifier, keras_roles, write_tf1_adam


@pytest.fixture(scope="module")
def keras_exports(tmp_path_factory):
    import tensorflow as tf

    root = tmp_path_factory.mktemp("keras_roles")
    model = keras_classifier()
    tf.saved_model.save(model, str(root / "saved_model"))
    tf.train.Checkpoint(model=model, keras_api=model.keras_api).write(str(root / "ckpt" / "ckpt"))
    return root, keras_roles(model)


@pytest.mark.tf
@pytest.mark.parametrize("part", ["saved_model", "ckpt"])
def test_keras_variables_get_the_role_keras_gives_them(keras_exports, part):
    root, truth = keras_exports
    model = open_model(root / part)
    found = {v.name: v for v in model.distinct_variables()}
    assert set(found) == set(truth)
    kinds = {role for role, _, _ in truth.values()}
    assert kinds == {WEIGHT, OPTIMIZER_STATE, OPTIMIZER_SCALAR, METRIC}
    for name, (role, owner, trainable) in truth.items():
        v = found[name]
        assert (v.role, v.slot_of) == (role, owner), name
        if part == "saved_model":  # a checkpoint alone does not store trainability
            assert v.trainable == trainable, name


@pytest.mark.tf
def test_keras_moments_name_their_slot(keras_exports):
    root, truth = keras_exports
    model = open_model(root / "saved_model")
    slots = {v.slot_name for v in model.variables if v.role == OPTIMIZER_STATE}
    assert slots == {"momentum", "velocity"}
    assert sum(role == OPTIMIZER_STATE for role, _, _ in truth.values()) == 12


@pytest.mark.tf
def test_tf1_adam_slots_and_scalars_by_name(tmp_path):
    truth = write_tf1_adam(tmp_path)
    model = open_model(tmp_path)
    found = {v.name: (v.role, v.slot_of) for v in model.variables}
    assert found == truth
    assert {role for role, _ in truth.values()} == {WEIGHT, OPTIMIZER_STATE, OPTIMIZER_SCALAR}


def test_old_slot_edges_are_optimizer_state(models):
    model = open_model(models.path("ckpt_optimizer"))
    roles = {v.name: v.role for v in model.variables if v.slot_of is not None}
    assert roles and set(roles.values()) == {OPTIMIZER_STATE}
    assert model.variable("net.kernel").role == WEIGHT
    scalars = {v.name for v in model.variables if v.role == OPTIMIZER_SCALAR}
    assert {name.rsplit("/", 1)[-1] for name in scalars} >= {"beta1_power", "beta2_power"}
