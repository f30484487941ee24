"""``smlens diff`` of one Keras classifier trained twice: the weights' deltas come first,
optimizer state and metrics are one line each unless ``--slots`` or ``--all``, and the JSON
flags every variable change with the role Keras's own objects give it."""

from __future__ import annotations

import json

import pytest

from smlens.cli.main import main
from tests.fixtures.trained import STEPS, keras_classifier, keras_roles


@pytest.fixture(scope="module")
def trained_twice(tmp_path_factory):
    """Two exports of the classifier, trained from two seeds for STEPS then 2 * STEPS
    batches, with each side's roles and iteration count from the live Keras objects."""
    import tensorflow as tf

    root = tmp_path_factory.mktemp("trained_twice")
    truth, iterations = {}, []
    for side, seed, steps in (("a", 0, STEPS), ("b", 1, 2 * STEPS)):
        model = keras_classifier(seed=seed, steps=steps)
        tf.saved_model.save(model, str(root / side))
        truth[side] = keras_roles(model)
        iterations.append(int(model.optimizer.iterations.numpy()))
    assert truth["a"] == truth["b"]  # one architecture: the same names and roles
    return root, truth["a"], iterations


def _diff_text(root, capsys, *extra: str) -> list[str]:
    main(["diff", str(root / "a"), str(root / "b"), "--color", "never", *extra])
    text = capsys.readouterr().out
    return text[text.index("\nvariables\n") :].splitlines()


def _listed(lines: list[str]) -> list[str]:
    """The variable names of the listed changes ("  ~ hidden/kernel: ...")."""
    return [line[4:].split(":", 1)[0] for line in lines if line.startswith("  ~ ")]


@pytest.mark.tf
def test_weights_first_and_training_state_one_line_each(trained_twice, capsys):
    root, truth, (steps_a, steps_b) = trained_twice
    lines = _diff_text(root, capsys)
    weights = {name for name, (role, _, _) in truth.items() if role == "weight"}
    assert set(_listed(lines)) == weights  # every weight moved; nothing else listed
    optimizer = [line for line in lines if line.startswith("  optimizer state: ")]
    metrics = [line for line in lines if line.startswith("  metrics: ")]
    assert len(optimizer) == len(metrics) == 1
    last_weight = max(i for i, line in enumerate(lines) if line.startswith("  ~ "))
    assert lines.index(optimizer[0]) > last_weight
    owners = {owner for _, owner, _ in truth.values() if owner}
    assert f"of {len(owners)} weights" in optimizer[0]
    assert f"iteration {steps_a} -> {steps_b}" in optimizer[0]
    moments = sum(role == "optimizer_state" for role, _, _ in truth.values())
    assert optimizer[0].startswith(f"  optimizer state: {moments + 1} changed")  # + iteration
    assert "count" in metrics[0] and "true_positives" in metrics[0]


@pytest.mark.tf
@pytest.mark.parametrize("flag", ["--slots", "--all"])
def test_slots_and_all_list_training_state_after_the_weights(trained_twice, capsys, flag):
    root, truth, _ = trained_twice
    listed = _listed(_diff_text(root, capsys, flag))
    roles = [truth[name][0] for name in listed]
    assert set(roles) == {"weight", "optimizer_state", "optimizer_scalar", "metric"}
    weights = [i for i, role in enumerate(roles) if role == "weight"]
    assert weights == list(range(len(weights)))  # weights before any optimizer line


@pytest.mark.tf
def test_json_flags_each_variable_by_role(trained_twice, capsys):
    root, truth, (steps_a, steps_b) = trained_twice
    main(["diff", str(root / "a"), str(root / "b"), "--json"])
    diff = json.loads(capsys.readouterr().out)
    changes = {c["path"][1]: c for c in diff["groups"]["variables"]}
    assert changes and all(c["role"] == truth[name][0] for name, c in changes.items())
    deltas = {d["name"]: d for d in diff["value_deltas"]}
    assert set(deltas) == set(truth)
    for name, (role, owner, _) in truth.items():
        assert (deltas[name]["role"], deltas[name]["slot_of"]) == (role, owner), name
    (iteration,) = [d for d in deltas.values() if d["name"].endswith("/iteration")]
    assert (iteration["scalar_a"], iteration["scalar_b"]) == (steps_a, steps_b)
