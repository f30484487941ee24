"""``smlens diff A B --outputs``: both exports run on the same inputs; expected figures come
from the fixtures' definitions (numpy on the same weights), never from the product."""

from __future__ import annotations

import json

import numpy as np
import pytest

from smlens.cli.main import main
from smlens.core.run.saved_run import load_run
from tests.fixtures.output_pairs import CLASS_NAMES, CLASSIFIER_X, logits
from tests.fixtures.warmup import WARMUP_X

X_EXPR = "x=" + json.dumps(CLASSIFIER_X.tolist())


def _diff(capsys, *args) -> tuple[int, str]:
    code = main(["diff", *map(str, args), "--color", "never"])
    return code, capsys.readouterr().out


def _json(capsys, *args) -> tuple[int, dict]:
    code, out = _diff(capsys, *args, "--json")
    return code, json.loads(out)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _outputs_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("outputs:"))


def test_a_reexport_is_within_tolerance_and_passes_fail_on_risky(models, capsys):
    root = models.path("pair_keras_reexport")
    args = [root / "a", root / "b", "--outputs", "--signature_def", "serving_default"]
    code, text = _diff(capsys, *args, "--fail-on", "risky")
    assert code == 0
    lines = text.splitlines()
    assert lines[3] == "outputs: 1 of 1 within tolerance on 8 inputs"  # the text opens with it


def test_a_shifted_classifier_names_the_changed_outputs_and_counts_top1(models, capsys):
    root = models.path("outputs_classifier")
    code, data = _json(
        capsys, root / "a", root / "shifted", "--outputs", "--input_exprs", X_EXPR,
        "--fail-on", "risky",
    )  # fmt: skip
    assert code == 1
    top_a = logits("a", CLASSIFIER_X).argmax(axis=1)
    top_b = logits("shifted", CLASSIFIER_X).argmax(axis=1)
    agree = int((top_a == top_b).sum())
    assert 0 < agree < len(CLASSIFIER_X)  # the fixture moves the argmax on some rows only
    (sig,) = data["outputs"]["signatures"]
    stats = sig["outputs"]
    for key in ("probabilities", "classes", "label"):
        assert stats[key]["top1_agree"] == agree and stats[key]["top1_rows"] == len(top_a)
        assert not stats[key]["within"]
    assert stats["scaled"]["within"]
    expected = np.abs(
        _softmax(logits("shifted", CLASSIFIER_X)) - _softmax(logits("a", CLASSIFIER_X))
    )
    assert stats["probabilities"]["max_abs"] == pytest.approx(expected.max(), abs=1e-6)
    first = int(np.flatnonzero(top_a != top_b)[0])
    assert stats["classes"]["first_index"] == [first]
    assert stats["classes"]["first_a"] == str(top_a[first])
    assert stats["classes"]["first_b"] == str(top_b[first])
    differ = len(top_a) - agree
    assert (stats["label"]["strings_equal"], stats["label"]["strings_differ"]) == (agree, differ)
    assert stats["label"]["first_b"] == repr(CLASS_NAMES[top_b[first]].encode())
    risky = [
        c["path"] for g in data["groups"]["outputs"] for s in g["children"] for c in s["children"]
    ]
    assert sorted(p[-1] for p in risky) == ["classes", "label", "probabilities"]
    assert all(p[:3] == ["outputs", "serve", "serving_default"] for p in risky)


def test_nan_on_one_side_only_is_beyond_tolerance_nan_on_both_is_equal(models, capsys):
    root = models.path("outputs_classifier")
    code, data = _json(capsys, root / "a", root / "nan", "--outputs", "--input_exprs", X_EXPR)
    assert code == 0  # --fail-on breaking: an output beyond tolerance is risky
    stats = data["outputs"]["signatures"][0]["outputs"]
    assert [k for k, s in stats.items() if not s["within"]] == ["scaled"]
    assert stats["scaled"]["nonfinite_mismatch"] == len(CLASSIFIER_X)  # one NaN per row
    assert stats["scaled"]["beyond"] == len(CLASSIFIER_X)
    assert stats["scaled"]["max_abs"] == "inf"
    _, data = _json(capsys, root / "nan", root / "nan", "--outputs", "--input_exprs", X_EXPR)
    assert all(s["within"] for s in data["outputs"]["signatures"][0]["outputs"].values())


def test_a_retrained_classifier_is_a_risky_change_with_top1_counted(models, capsys):
    root = models.path("retrained_classifier")
    args = [root / "a", root / "b", "--outputs", "--signature_def", "serving_default"]
    code, text = _diff(capsys, *args, "--batch", "16", "--fail-on", "risky")
    assert code == 1
    line = _outputs_line(text)
    assert line.startswith("outputs: output_0 beyond tolerance on ")
    assert "of 16 inputs, top-1 agrees on" in line
    assert "~ outputs/serve/serving_default/output_0" in text


def test_a_saved_run_rechecked_with_against_gives_the_same_verdict(models, capsys, tmp_path):
    root = models.path("outputs_classifier")
    saved = tmp_path / "golden.npz"
    live_code, live = _diff(
        capsys, root / "a", root / "shifted", "--outputs", "--input_exprs", X_EXPR,
        "--save-run", saved, "--fail-on", "risky",
    )  # fmt: skip
    run = load_run(saved)
    (sig,) = run.signatures
    np.testing.assert_array_equal(sig.calls[0].inputs["x"], CLASSIFIER_X)
    labels = sig.calls[0].outputs["a"]["label"]
    assert labels.tolist() == [CLASS_NAMES[i].encode() for i in logits("a", CLASSIFIER_X).argmax(1)]
    code, again = _diff(capsys, "--against", saved, root / "shifted", "--fail-on", "risky")
    assert (code, _outputs_line(again)) == (live_code, _outputs_line(live))
    code, same = _diff(capsys, "--against", saved, root / "a", "--fail-on", "risky")
    assert code == 0 and _outputs_line(same) == "outputs: 4 of 4 within tolerance on 4 inputs"


def test_warmup_inputs_are_the_records_tensors(models, capsys, tmp_path):
    path = models.path("warmup")
    saved = tmp_path / "warmup.npz"
    code, text = _diff(capsys, path, path, "--outputs", "--warmup", "--save-run", saved)
    assert code == 0
    by_key = {sig.signature: sig for sig in load_run(saved).signatures}
    np.testing.assert_array_equal(by_key["predict"].calls[0].inputs["x"], WARMUP_X)
    assert len(by_key["classify"].calls) == 2  # records 1 and 4 (multi_inference) name it
    assert "within tolerance" in _outputs_line(text)


def test_two_workers_in_parallel_give_the_same_figures(models, capsys):
    root = models.path("outputs_classifier")
    args = [root / "a", root / "shifted", "--outputs", "--input_exprs", X_EXPR]
    _, one = _json(capsys, *args)
    _, two = _json(capsys, *args, "--parallel")
    assert two["outputs"]["how"] == "two workers in parallel"
    assert two["outputs"]["signatures"] == one["outputs"]["signatures"]


def test_save_run_refuses_the_model_folder(models, capsys):
    root = models.path("outputs_classifier")
    code = main(
        ["diff", str(root / "a"), str(root / "copy"), "--save-run", str(root / "a" / "r.npz")]
    )
    assert code == 2
    assert "will not write into the model folder" in capsys.readouterr().err


def test_smlens_run_save_run_is_a_baseline_for_against(models, capsys, tmp_path):
    root = models.path("outputs_classifier")
    saved = tmp_path / "run.npz"
    run_args = ["run", "--dir", str(root / "a"), "--tag_set", "serve"]
    run_args += ["--signature_def", "serving_default", "--input_exprs", X_EXPR]
    assert main([*run_args, "--save-run", str(saved)]) == 0
    capsys.readouterr()
    code, text = _diff(capsys, "--against", saved, root / "shifted", "--fail-on", "risky")
    assert code == 1
    assert _outputs_line(text).startswith("outputs: classes beyond tolerance on 2 of 4")
