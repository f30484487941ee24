"""The TFLite dry run in the worker: TensorFlow's converter names the op TFLite runs only
through Select TF ops, the op it cannot run at all, and their nodes; a Keras CNN is all
builtin; nothing is written into the model folder; a cancel leaves no worker."""

from __future__ import annotations

import collections
import os

import pytest

from smlens.core.errors import SmlensError
from smlens.core.formats.reader import open_model
from smlens.core.run.client import RunCancelled, RunEngine
from smlens.core.run.tflite import BUILTIN, FLEX, UNSUPPORTED, TFLiteNode
from smlens.core.run.tflite_request import TFLiteRequest
from tests.fixtures.tflite import FLEX_NODE, FLEX_OP, UNSUPPORTED_NODE, UNSUPPORTED_OP


@pytest.fixture(scope="module")
def engine():
    with RunEngine() as warm:
        yield warm


def _functions_holding(path, node_name: str) -> dict[str, str]:
    """function name -> op of its node ``node_name``, read by TensorFlow's own proto."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel.FromString((path / "saved_model.pb").read_bytes())
    return {
        fn.signature.name: node.op
        for mg in saved.meta_graphs
        for fn in mg.graph_def.library.function
        for node in fn.node_def
        if node.name == node_name
    }


def _files(path) -> dict[str, int]:
    return {
        os.path.relpath(os.path.join(root, name), path): os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(path)
        for name in names
    }


def test_the_dry_run_names_the_flex_op_and_the_unsupported_op_with_their_nodes(models, engine):
    path = models.path("tflite_flex_and_unsupported")
    before = _files(path)
    request = TFLiteRequest.of(open_model(path))

    readiness = engine.check_tflite(request)

    [signature] = readiness.signatures
    assert signature.key == "serving_default"
    assert signature.converted == ""  # Igamma has no kernel even with Select TF ops
    assert readiness.unsupported
    [flex] = signature.of_kind(FLEX)
    [unsupported] = signature.of_kind(UNSUPPORTED)
    assert flex.op == FLEX_OP
    assert unsupported.op == UNSUPPORTED_OP
    flex_home = _functions_holding(path, FLEX_NODE)
    unsupported_home = _functions_holding(path, UNSUPPORTED_NODE)
    assert set(flex_home.values()) == {FLEX_OP}
    assert set(unsupported_home.values()) == {UNSUPPORTED_OP}
    [flex_node] = flex.nodes
    [unsupported_node] = unsupported.nodes
    assert flex_node == TFLiteNode(FLEX_NODE, flex_node.function)
    assert flex_node.function in flex_home
    assert unsupported_node == TFLiteNode(UNSUPPORTED_NODE, unsupported_node.function)
    assert unsupported_node.function in unsupported_home
    assert f"TF Select ops: {FLEX_OP}" in signature.builtins_error
    assert f"Custom ops: {UNSUPPORTED_OP}" in signature.select_error
    assert {op.op for op in signature.of_kind(BUILTIN)} >= {"RESHAPE", "RELU"}
    assert _files(path) == before  # no .tflite, nothing else either


def _interpreter_ops(tf, path, key: str) -> collections.Counter:
    """The ops of TensorFlow's own conversion, as its TFLite interpreter lists them."""
    converter = tf.lite.TFLiteConverter.from_saved_model(str(path), signature_keys=[key])
    interpreter = tf.lite.Interpreter(model_content=converter.convert())
    return collections.Counter(op["op_name"] for op in interpreter._get_ops_details())


def test_a_keras_cnn_converts_with_builtin_ops_only(models, engine, tf):
    path = models.path("keras_cnn")
    before = _files(path)
    request = TFLiteRequest.of(open_model(path), signature_key="serving_default")

    readiness = engine.check_tflite(request)

    [signature] = readiness.signatures
    assert signature.converted == "builtins"
    assert not readiness.unsupported
    assert signature.of_kind(FLEX) == signature.of_kind(UNSUPPORTED) == []
    assert signature.builtins_error == signature.select_error == ""
    builtins = collections.Counter({op.op: op.count for op in signature.of_kind(BUILTIN)})
    assert builtins == _interpreter_ops(tf, path, "serving_default")
    assert {"CONV_2D", "MAX_POOL_2D", "FULLY_CONNECTED"} <= set(builtins)
    assert _files(path) == before


def test_a_tflite_file_is_written_only_where_asked_and_holds_the_flex_op(
    models, engine, tf, tmp_path
):
    path = models.path("tflite_flex_only")
    out = tmp_path / "inverse.tflite"
    request = TFLiteRequest.of(open_model(path), output=out)

    readiness = engine.check_tflite(request)

    [signature] = readiness.signatures
    assert signature.converted == "select"
    assert signature.written == str(out.resolve())
    assert [op.op for op in signature.of_kind(FLEX)] == [FLEX_OP]
    assert _custom_codes(out.read_bytes()) == [f"Flex{FLEX_OP}"]


def _custom_codes(flatbuffer: bytes) -> list[str]:
    """The custom op codes of a .tflite file, read with TensorFlow's TFLite schema."""
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(flatbuffer, 0))
    return [c.customCode.decode() for c in model.operatorCodes if c.customCode]


def test_the_tflite_file_is_refused_inside_the_model_folder(models):
    path = models.path("tflite_flex_only")
    model = open_model(path)

    with pytest.raises(SmlensError, match="must not go into the model folder"):
        TFLiteRequest.of(model, output=path / "variables" / "x.tflite")
    with pytest.raises(SmlensError, match="no signature 'nope'"):
        TFLiteRequest.of(model, signature_key="nope")


def test_a_cancel_during_the_conversion_leaves_no_worker(models):
    path = models.path("tflite_flex_and_unsupported")
    request = TFLiteRequest.of(open_model(path))
    converting = []

    def progress(_fraction: float, text: str) -> None:
        if "converting" in text:
            converting.append(engine.pid)

    with RunEngine() as engine:
        with pytest.raises(RunCancelled):
            engine.check_tflite(request, progress=progress, cancelled=lambda: bool(converting))

        assert converting, "the worker never reported converting"
        assert not engine.running
        with pytest.raises(ProcessLookupError):
            os.kill(converting[0], 0)
