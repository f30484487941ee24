"""The TF Serving request of each signature: REST bodies in row and columnar form that
check_request takes and that TensorFlow runs once turned into tensors as TF Serving turns
them, a gRPC PredictRequest that builds, and check_request's problems for bodies that do
not fit."""

from __future__ import annotations

import base64
import copy

import numpy as np
import pytest

from smlens.core.analysis.request_check import check_request
from smlens.core.analysis.serving_request import SEND_MARK, serving_request
from smlens.core.formats.reader import open_model
from tests.fixtures.serving_inputs import MIXED_INPUTS

# (fixture, tag-set): a Keras export, a tf.Module with unknown dims and an unknown rank, a
# TF1 export with classify / regress / predict signatures, and string / bytes / int inputs.
SERVED = (
    ("keras_export", "serve"),
    ("module_multi_sig", "serve"),
    ("tf1_multi_tag", "serve"),
    ("serving_inputs", "serve"),
)


def _signatures(models, name: str, tag_set: str):
    mg = open_model(models.path(name)).meta_graph(tag_set)
    return mg, mg.callable_signatures


@pytest.mark.parametrize(("name", "tag_set"), SERVED)
def test_generated_bodies_pass_the_check_for_every_signature(models, name, tag_set):
    mg, signatures = _signatures(models, name, tag_set)
    assert signatures
    for key, sig in signatures.items():
        request = serving_request(key, sig, mg=mg)
        bodies = [request.columnar] + ([request.row] if request.row is not None else [])
        for body in bodies:
            check = check_request(body, mg, expected=key)
            assert check.problems == (), (key, body)
            assert check.signature == key


def _as_tensors(tf, body: dict, fn) -> dict:
    """The tensors TF Serving makes of a body (row instances stacked along dim 0, b64
    decoded), with the dtypes TensorFlow's loaded signature declares."""
    specs = fn.structured_input_signature[1]
    if "inputs" in body:
        columns = body["inputs"]
    elif len(specs) == 1:
        columns = {next(iter(specs)): body["instances"]}
    else:
        columns = {k: [inst[k] for inst in body["instances"]] for k in specs}
    return {k: tf.constant(_decoded(v), dtype=specs[k].dtype) for k, v in columns.items()}


def _decoded(value):
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    if isinstance(value, dict):
        return base64.b64decode(value["b64"])
    return value


@pytest.mark.parametrize(
    "name", ["keras_export", "module_multi_sig", "serving_inputs", "tf1_multi_tag"]
)
def test_tensorflow_runs_each_signature_on_the_generated_bodies(models, tf, name):
    """TF1's classify and regress signatures run too: their serialized tf.Examples hold the
    features the graph parses."""
    loaded = tf.saved_model.load(str(models.path(name)), tags=["serve"])
    mg, signatures = _signatures(models, name, "serve")
    assert set(signatures) == set(loaded.signatures)
    for key, sig in signatures.items():
        fn = loaded.signatures[key]
        request = serving_request(key, sig, mg=mg)
        for body in filter(None, (request.row, request.columnar)):
            outputs = fn(**_as_tensors(tf, body, fn))
            assert set(outputs) == set(fn.structured_outputs)


def test_strings_are_json_strings_and_bytes_inputs_b64(models):
    _, signatures = _signatures(models, "serving_inputs", "serve")
    row = serving_request("serving_default", signatures["serving_default"]).row
    (instance,) = row["instances"]
    assert set(instance) == {name for name, _, _ in MIXED_INPUTS}
    assert instance["text"] == ""
    assert instance["image_bytes"] == {"b64": ""}
    assert instance["count"] == [0, 0] and all(type(v) is int for v in instance["count"])
    assert instance["flag"] is False
    assert instance["weights"] == [0.0, 0.0, 0.0]


def test_a_scalar_input_has_no_row_form_but_a_columnar_one(models):
    _, signatures = _signatures(models, "serving_inputs", "serve")
    request = serving_request("scalar", signatures["scalar"])
    assert request.row is None and "'scale' is a scalar" in request.row_note
    assert request.columnar["inputs"] == {"scale": 0.0}


def test_classify_signatures_get_a_classify_curl_line(models, tf):
    mg, signatures = _signatures(models, "tf1_multi_tag", "serve")
    request = serving_request("classify", signatures["classify"], "mnist", mg)
    assert request.verb == "classify"
    assert "curl -d @body.json -X POST http://localhost:8501/v1/models/mnist:predict" in (
        request.curl
    )
    assert "http://localhost:8501/v1/models/mnist:classify" in request.curl
    # the fixture parses one feature, x: FixedLenFeature([3], tf.float32)
    assert '"examples": [{"x": [0.0, 0.0, 0.0]}]' in request.curl
    # the serialized tf.Examples a classify signature takes are binary, holding x
    (column,) = request.columnar["inputs"].values()
    (leaf,) = column
    example = tf.train.Example.FromString(base64.b64decode(leaf["b64"]))
    assert list(example.features.feature["x"].float_list.value) == [0.0, 0.0, 0.0]


def test_the_grpc_snippet_builds_a_predict_request(models, tf):
    _, signatures = _signatures(models, "serving_inputs", "serve")
    loaded = tf.saved_model.load(str(models.path("serving_inputs")))
    for key, sig in signatures.items():
        code = serving_request(key, sig, "mixed").grpc
        compile(code, f"<grpc {key}>", "exec")
        build, _send = code.split(SEND_MARK)
        try:
            import tensorflow_serving.apis.predict_pb2  # noqa: F401
        except ImportError:
            continue  # tensorflow-serving-api not installed: compiling is what can be checked
        namespace: dict = {}
        exec(build.replace("import grpc\n", ""), namespace)
        request = namespace["request"]
        assert request.model_spec.name == "mixed"
        assert request.model_spec.signature_name == key
        specs = loaded.signatures[key].structured_input_signature[1]
        assert set(request.inputs) == set(specs)
        for input_key, proto in request.inputs.items():
            assert proto.dtype == specs[input_key].dtype.as_datatype_enum
            value = tf.make_ndarray(proto)
            assert tf.TensorShape(value.shape).is_compatible_with(specs[input_key].shape)


# --- bodies that do not fit -------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_serve(models):
    return open_model(models.path("keras_export")).meta_graph("serve")


@pytest.fixture(scope="module")
def mixed_serve(models):
    return open_model(models.path("serving_inputs")).meta_graph("serve")


def _row(mg):
    return copy.deepcopy(serving_request("serving_default", mg.signatures["serving_default"]).row)


def _columnar(mg):
    sig = mg.signatures["serving_default"]
    return copy.deepcopy(serving_request("serving_default", sig).columnar)


def test_a_misspelt_input_names_the_nearest(mixed_serve):
    body = _columnar(mixed_serve)
    body["inputs"]["wieghts"] = body["inputs"].pop("weights")
    problems = check_request(body, mixed_serve).problems
    assert any("'wieghts' is not an input" in p and "did you mean 'weights'" in p for p in problems)
    assert any("no value for input 'weights'" in p for p in problems)


def test_a_misspelt_signature_name_names_the_nearest(keras_serve):
    body = _row(keras_serve)
    body["signature_name"] = "serving_defualt"
    (problem,) = check_request(body, keras_serve).problems
    assert "'serving_defualt' is not a signature" in problem
    assert "did you mean 'serving_default'" in problem


def test_a_misspelt_body_key_names_the_nearest(keras_serve):
    body = _row(keras_serve)
    body["instance"] = body.pop("instances")
    problems = check_request(body, keras_serve).problems
    assert any("'instance' is not a key" in p and "did you mean 'instances'" in p for p in problems)


def test_a_wrong_shape_fails(keras_serve):
    body = _row(keras_serve)
    body["instances"][0] = [0.0] * 9  # the Keras model takes 10 features
    (problem,) = check_request(body, keras_serve).problems
    assert "has shape (1, 9)" in problem and "takes (?, 10)" in problem


def test_instances_of_different_shapes_fail(keras_serve):
    body = {"instances": [[0.0] * 10, [0.0] * 11]}
    problems = check_request(body, keras_serve).problems
    assert any("different shape in different instances" in p for p in problems)


def test_a_wrong_dtype_fails(mixed_serve):
    body = _columnar(mixed_serve)
    body["inputs"]["count"] = [[0.5, 1]]
    body["inputs"]["text"] = [7]
    body["inputs"]["flag"] = [1]
    problems = check_request(body, mixed_serve).problems
    assert any(
        "inputs['count'] holds a decimal number (0.5)" in p and "int64" in p for p in problems
    )
    assert any("inputs['text'] holds an integer (7)" in p for p in problems)
    assert any("inputs['flag'] holds an integer (1)" in p and "bool" in p for p in problems)
    assert len(problems) == 3


def test_bad_base64_and_out_of_range_ints_fail(mixed_serve):
    body = _columnar(mixed_serve)
    body["inputs"]["image_bytes"] = [{"b64": "not base64!"}]
    body["inputs"]["count"] = [[2**63, 0]]
    problems = check_request(body, mixed_serve).problems
    assert any("not base64" in p for p in problems)
    assert any("out of int64's range" in p for p in problems)


def test_inputs_that_disagree_on_the_batch_fail(mixed_serve):
    body = _columnar(mixed_serve)
    body["inputs"]["text"] = ["a", "b"]
    (problem,) = check_request(body, mixed_serve).problems
    assert "disagree on the batch size" in problem and "text 2" in problem


def test_instances_naming_different_inputs_fail(mixed_serve):
    body = _row(mixed_serve)
    second = copy.deepcopy(body["instances"][0])
    del second["flag"]
    body["instances"].append(second)
    problems = check_request(body, mixed_serve).problems
    assert any("instances[1] lacks 'flag'" in p for p in problems)


def test_a_missing_input_and_bare_instances_fail(mixed_serve):
    body = _columnar(mixed_serve)
    del body["inputs"]["text"]
    assert check_request(body, mixed_serve).problems == (
        "inputs: no value for input 'text' (string (?,))",
    )
    bare = {"instances": [1.0, 2.0]}
    (problem,) = check_request(bare, mixed_serve).problems
    assert "bare values" in problem and "5 inputs" in problem


def test_both_forms_or_neither_fail(keras_serve):
    row = _row(keras_serve)
    both = {**row, "inputs": {"features": [[0.0] * 10]}}
    assert "both instances and inputs" in check_request(both, keras_serve).problems[0]
    (problem,) = check_request({"signature_name": "serving_default"}, keras_serve).problems
    assert "neither instances" in problem


def test_the_expected_signature_is_held_against_the_body(models):
    mg = open_model(models.path("module_multi_sig")).meta_graph("serve")
    body = {"instances": [[0.0] * 10]}  # calls serving_default (no signature_name)
    problems = check_request(body, mg, expected="other").problems
    assert problems[0] == (
        "the body has no signature_name: TF Serving calls signature 'serving_default', not 'other'"
    )


def test_shapes_and_values_read_as_tf_serving_stacks_them(keras_serve):
    body = {"instances": [[float(i)] * 10 for i in range(3)]}
    check = check_request(body, keras_serve)
    assert check.problems == () and check.batch == 3 and check.form == "row"
    assert np.array(body["instances"]).shape == (3, 10)


def test_a_signature_outside_the_serve_tag_set_says_how_tf_serving_loads_it(models):
    model = open_model(models.path("tf1_multi_tag"))
    gpu = model.meta_graph("serve,gpu")
    request = serving_request("predict", gpu.signatures["predict"], mg=gpu)
    assert any("--saved_model_tags=serve,gpu" in note for note in request.notes)
    serve = model.meta_graph("serve")
    assert serving_request("predict", serve.signatures["predict"], mg=serve).notes == ()


def test_ints_a_float32_cannot_hold_exactly_fail(keras_serve):
    """json_tensor.cc refuses a lossy conversion: 2**24 + 1 has no float32."""
    body = {"instances": [[0.0] * 9 + [2**24 + 1]]}
    (problem,) = check_request(body, keras_serve).problems
    assert f"{2**24 + 1}, which float32 cannot hold exactly" in problem
    assert check_request({"instances": [[0.0] * 9 + [2**24 - 1]]}, keras_serve).problems == ()


def test_int_range_is_checked_over_every_value(mixed_serve):
    body = _columnar(mixed_serve)
    body["inputs"]["count"] = [[0, 1], [5, -(2**63) - 1]]
    body["inputs"]["text"] = ["a", "b"]
    body["inputs"]["image_bytes"] = [{"b64": ""}, {"b64": "%%"}]
    body["inputs"]["flag"] = [True, False]
    body["inputs"]["weights"] = [[0, 0, 0], [1, 1, 1]]
    problems = check_request(body, mixed_serve).problems
    assert any("out of int64's range" in p for p in problems)
    assert any("not base64 ({'b64': '%%'})" in p for p in problems)
    assert len(problems) == 2


def test_a_tf2_signature_parsing_tf_examples_gets_them_filled(models, tf):
    """The parse signature's ParseExampleV2 sits in a library function the signature calls:
    its features (the fixture's parsed_features_spec) fill the serialized tf.Example."""
    from tests.fixtures.serving_inputs import parsed_features_spec

    mg, signatures = _signatures(models, "serving_inputs", "serve")
    request = serving_request("parse", signatures["parse"], mg=mg)
    (leaf,) = request.columnar["inputs"]["examples"]
    example = tf.train.Example.FromString(base64.b64decode(leaf["b64"]))
    assert set(example.features.feature) == set(parsed_features_spec(tf))
    assert list(example.features.feature["scores"].float_list.value) == [0.0, 0.0]
    assert list(example.features.feature["age"].int64_list.value) == [0]


def test_lists_nested_deeper_than_any_rank_are_one_problem(keras_serve):
    deep: list = [1.0]
    for _ in range(900):  # json.loads takes this; no tensor has 900 dims
        deep = [deep]
    (problem,) = check_request({"instances": [deep]}, keras_serve).problems
    assert "nests lists over 254 deep" in problem


# --- without TensorFlow: signatures built by hand -----------------------------------------


class _MetaGraph:
    """The two things check_request reads of a meta graph."""

    def __init__(self, signatures):
        self.callable_signatures = signatures
        self.tag_set = "serve"


def test_a_signature_without_inputs_has_no_rest_request():
    from smlens.core.model import Shape, Signature, TensorInfo

    out = TensorInfo("y", "DT_FLOAT", Shape(()), "y:0")
    sig = Signature("serving_default", "tensorflow/serving/predict", {}, {"y": out})
    request = serving_request("serving_default", sig)
    assert request.row is None and "no inputs" in request.row_note
    assert any("REST API refuses it" in note for note in request.notes)
    (problem,) = check_request({"inputs": {}}, _MetaGraph({"serving_default": sig})).problems
    assert "takes no inputs" in problem


def test_complex_and_sparse_inputs_are_named_as_rest_limits():
    from smlens.core.model import Shape, Signature, TensorInfo

    inputs = {
        "z": TensorInfo("z", "DT_COMPLEX64", Shape((-1,)), "z:0"),
        "s": TensorInfo("s", "DT_FLOAT", Shape((-1, 3)), "", encoding="coo_sparse"),
    }
    sig = Signature("serving_default", "tensorflow/serving/predict", inputs, {})
    notes = serving_request("serving_default", sig).notes
    assert any("'z' is complex64" in n for n in notes)
    assert any("'s' is a coo sparse tensor" in n for n in notes)
    body = {"inputs": {"z": [0.0], "s": [[0.0, 0.0, 0.0]]}}
    problems = check_request(body, _MetaGraph({"serving_default": sig})).problems
    assert any("'s' is a coo sparse tensor" in p for p in problems)
    assert any("complex64, which TF Serving's JSON reader does not convert" in p for p in problems)


def test_the_model_name_is_tf_servings_folder_above_a_version(tmp_path):
    from smlens.core.analysis.serving_request import model_name

    version = tmp_path / "mnist" / "3"
    version.mkdir(parents=True)
    assert model_name(version) == "mnist"
    assert model_name(tmp_path / "mnist") == "mnist"
    assert model_name(tmp_path / "my model") == "MODEL"  # no name a URL takes as it is
