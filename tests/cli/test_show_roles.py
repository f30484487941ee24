"""``smlens show --json``: each variable's role and, for optimizer state, its weight, as the
live Keras objects that were saved say."""

from __future__ import annotations

import json

import pytest

from smlens.cli.main import main
from tests.fixtures.trained import keras_classifier, keras_roles


@pytest.mark.tf
def test_show_json_gives_each_variable_its_role(tmp_path, capsys):
    import tensorflow as tf

    model = keras_classifier()
    tf.saved_model.save(model, str(tmp_path))
    truth = keras_roles(model)
    assert main(["show", "--dir", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    found = {v["name"]: (v["role"], v["slot_of"], v["trainable"]) for v in summary["variables"]}
    assert found == truth
    weights = list(model.weights)
    assert summary["num_parameters"] == sum(int(tf.size(w.value)) for w in weights)
    by_role = summary["variables_by_role"]
    assert by_role["weight"]["variables"] == len(weights)
    assert by_role["optimizer_state"]["variables"] + by_role["optimizer_scalar"]["variables"] == (
        len(model.optimizer.variables)
    )
    assert by_role["metric"]["variables"] == sum(len(m.variables) for m in model.metrics)
