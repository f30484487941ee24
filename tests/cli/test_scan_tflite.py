"""``smlens scan --tflite``: the readiness per signature, exit 1 when an op is unsupported,
0 when all convert, 2 with one line on an error; ``--json`` for scripts."""

from __future__ import annotations

import json

from smlens.cli.main import main
from tests.fixtures.tflite import FLEX_NODE, FLEX_OP, UNSUPPORTED_NODE, UNSUPPORTED_OP


def test_scan_tflite_names_the_unsupported_op_and_its_node_and_exits_1(models, capsys):
    path = models.path("tflite_flex_and_unsupported")

    assert main(["scan", "--dir", str(path), "--tflite"]) == 1
    captured = capsys.readouterr()

    lines = captured.out.splitlines()
    assert "Signature 'serving_default': does not convert: some ops are unsupported" in lines
    assert f"    {UNSUPPORTED_OP}, 1 node:" in lines
    assert f"    {FLEX_OP}, 1 node:" in lines
    nodes = [line.strip().split(" in ")[0] for line in lines if line.startswith("      ")]
    assert nodes == [FLEX_NODE, UNSUPPORTED_NODE]
    assert "converting with builtin ops only" in captured.err  # progress goes to stderr


def test_scan_tflite_json_of_a_keras_cnn_is_all_builtin_and_exits_0(models, capsys):
    path = models.path("keras_cnn")

    code = main(["scan", "--dir", str(path), "--tflite", "--json"])
    report = json.loads(capsys.readouterr().out)

    assert code == 0
    assert report["unsupported"] is False
    keys = {s["key"] for s in report["signatures"]}
    assert keys == {"serve", "serving_default"}  # what model.export writes
    for signature in report["signatures"]:
        assert signature["converted"] == "builtins"
        assert signature["counts"]["flex"] == signature["counts"]["unsupported"] == 0
        assert signature["counts"]["builtin"] > 0


def test_scan_tflite_out_into_the_model_folder_is_one_error_line(models, capsys):
    path = models.path("tflite_flex_only")
    target = path / "model.tflite"

    code = main(["scan", "--dir", str(path), "--tflite", "--tflite-out", str(target)])
    err = capsys.readouterr().err

    assert code == 2
    assert err.splitlines() == [
        f"smlens: error: {target}: the .tflite file must not go into the model folder"
    ]
    assert not target.exists()
