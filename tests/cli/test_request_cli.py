"""``smlens show --request KEY`` and ``smlens check-request``: what a client sends TF
Serving, and a REST body held against the signature (exit 1 with one line per problem,
0 when it fits, 2 with one line on errors)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from smlens.cli.main import main

SERVED = ("keras_export", "module_multi_sig", "tf1_multi_tag", "serving_inputs")


def _signature_keys(tf, path) -> list[str]:
    """The callable signatures of the serve meta graph, as TensorFlow's loader lists them."""
    return sorted(tf.saved_model.load(str(path), tags=["serve"]).signatures)


@pytest.mark.parametrize("name", SERVED)
def test_printed_bodies_pass_check_request(models, tf, tmp_path, capsys, name):
    path = models.path(name)
    for key in _signature_keys(tf, path):
        for form in ("row", "columnar"):
            code = main(["show", "--dir", str(path), "--request", key, "--format", form])
            out, err = capsys.readouterr()
            if code == 2:  # a scalar input has no row form: said in one line
                assert form == "row" and "has no row form" in err and err.count("\n") == 1
                continue
            assert code == 0, err
            body = tmp_path / f"{key.replace('/', '_')}-{form}.json"
            body.write_text(out)
            assert json.loads(out)["signature_name"] == key
            assert (
                main(["check-request", "--dir", str(path), "--signature_def", key, str(body)]) == 0
            )
            assert f"fits signature {key!r}" in capsys.readouterr().out


def test_a_misspelt_key_fails_naming_the_nearest(models, tmp_path, capsys):
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"instances": [{"featurs": [0.0] * 10}]}))
    path = models.path("keras_export")
    code = main(
        ["check-request", "--dir", str(path), "--signature_def", "serving_default", str(body)]
    )
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert any(
        "'featurs' is not an input" in ln and "did you mean 'features'" in ln for ln in lines
    )
    assert all(ln.startswith(f"{body}: ") for ln in lines)


def test_a_wrong_shape_and_dtype_fail_one_line_each(models, tmp_path, capsys):
    body = tmp_path / "body.json"
    body.write_text(json.dumps({"inputs": {"features": [["a"] * 9]}}))
    path = models.path("keras_export")
    code = main(["check-request", "--dir", str(path), str(body)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1 and len(lines) == 2
    assert "holds a string ('a')" in lines[0] and "float32" in lines[0]
    assert "has shape (1, 9)" in lines[1] and "takes (?, 10)" in lines[1]


def test_bad_json_exits_2_with_one_line_naming_the_file_and_position(models, tmp_path):
    body = tmp_path / "body.json"
    body.write_text('{"instances": [1.0, 2.0,]}')
    path = models.path("keras_export")
    result = subprocess.run(
        [sys.executable, "-m", "smlens.cli.main", "check-request", "--dir", str(path), str(body)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"smlens: error: {body}: not JSON: ")
    assert "line 1, column 25" in line


def test_an_unknown_signature_is_an_error(models, tmp_path, capsys):
    body = tmp_path / "body.json"
    body.write_text("{}")
    path = models.path("keras_export")
    assert main(["check-request", "--dir", str(path), "--signature_def", "nope", str(body)]) == 2
    assert main(["show", "--dir", str(path), "--request", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("no signature 'nope'") == 2 and err.count("\n") == 2


def test_curl_and_grpc_forms(models, capsys):
    path = models.path("tf1_multi_tag")
    assert main(["show", "--dir", str(path), "--request", "regress", "--format", "curl"]) == 0
    curl = capsys.readouterr().out
    assert (
        "curl -d @body.json -X POST http://localhost:8501/v1/models/tf1_multi_tag:predict" in curl
    )
    assert "http://localhost:8501/v1/models/tf1_multi_tag:regress" in curl
    assert main(["show", "--dir", str(path), "--request", "predict", "--format", "grpc"]) == 0
    code = capsys.readouterr().out
    compile(code, "<grpc>", "exec")
    assert "request.model_spec.signature_name = 'predict'" in code
