"""TF Serving's warmup file read without TensorFlow: the framing against TensorFlow's own
TFRecord reader, the tensors against tf.make_ndarray, the tf.Examples against
tf.io.parse_example, and each broken record reported with its index."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from smlens.cli.main import main
from smlens.core.analysis.warmup import (
    check_model_warmup,
    record_batch,
    record_inputs,
    signature_problems,
)
from smlens.core.formats.reader import open_model
from smlens.core.formats.tfrecord import iter_records
from smlens.core.formats.warmup import read_warmup, warmup_path
from tests.fixtures.warmup import (
    CONTEXT_X,
    EXAMPLE_X,
    WARMUP_RECORDS,
    WARMUP_X,
    examples_log,
    good_records,
    predict_log,
    write_warmup,
)


@pytest.fixture
def broken_copy(models, tmp_path):
    """A copy of the warmup fixture, whose warmup file a test rewrites."""
    dest = tmp_path / "model"
    shutil.copytree(models.path("warmup"), dest)
    return dest


def test_the_framing_matches_tensorflows_tfrecord_reader(models, tf):
    path = warmup_path(models.path("warmup"))
    expected = [bytes(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]
    read = [record.data for record in iter_records(path.read_bytes())]
    assert read == expected
    assert len(read) == len(WARMUP_RECORDS)


def test_records_are_read_as_the_fixture_wrote_them(models, tf):
    warmup = read_warmup(warmup_path(models.path("warmup")))
    assert warmup.problem == ""
    kinds = [(r.kind, r.signature) for r in warmup.records]
    assert kinds == [(kind, signature) for kind, signature, _ in WARMUP_RECORDS.values()]
    predict = warmup.records[0]
    np.testing.assert_array_equal(predict.inputs["x"].value, WARMUP_X)
    assert predict.inputs["x"].dtype == "DT_FLOAT"
    features = {"x": tf.io.FixedLenFeature([3], tf.float32)}
    classify = tf.io.parse_example(list(warmup.records[1].examples), features)
    np.testing.assert_array_equal(classify["x"].numpy(), np.array(EXAMPLE_X, np.float32))
    context = tf.io.parse_example(list(warmup.records[3].examples), features)
    np.testing.assert_array_equal(context["x"].numpy(), np.array([CONTEXT_X], np.float32))
    assert warmup.records[4].methods == ("tensorflow/serving/classify",)


def test_predict_tensors_equal_what_tensorflow_decodes(models, tf):
    """The record's TensorProto, decoded by tf.make_ndarray, equals what smlens read."""
    from tensorflow.core.framework import tensor_pb2

    path = warmup_path(models.path("warmup"))
    raw = next(iter(tf.data.TFRecordDataset(str(path)))).numpy()
    from smlens.core.formats import proto

    log = proto.message_class("tensorflow.serving.PredictionLog").FromString(raw)
    tp = tensor_pb2.TensorProto.FromString(log.predict_log.request.inputs["x"].SerializeToString())
    ours = read_warmup(path).records[0].inputs["x"].value
    np.testing.assert_array_equal(ours, tf.make_ndarray(tp))


def test_the_fixtures_records_fit_their_signatures(models):
    model = open_model(models.path("warmup"))
    report = check_model_warmup(model)
    assert report.problems == ()
    predict = model.meta_graph("serve").signatures["predict"]
    np.testing.assert_array_equal(record_inputs(report.records[0], predict)["x"], WARMUP_X)


def test_wrong_dtype_and_missing_key_are_reported_with_their_index(broken_copy, tf):
    records = good_records(tf)
    records[1] = predict_log(tf, "predict", {"x": WARMUP_X.astype(np.int32)})
    records[2] = predict_log(tf, "predict", {"z": WARMUP_X})
    records[3] = examples_log(tf, "classify", "predict", EXAMPLE_X)
    write_warmup(tf, broken_copy, records)
    report = check_model_warmup(open_model(broken_copy))
    texts = [str(p) for p in report.problems]
    assert any(t.startswith("record 1: input 'x' is int32") for t in texts), texts
    assert any(t.startswith("record 2: 'z' is not an input") for t in texts), texts
    assert any(t.startswith("record 2: no value for input 'x'") for t in texts), texts
    assert any(t.startswith("record 3: a classify request needs") for t in texts), texts
    assert {p.index for p in report.problems} == {1, 2, 3}


def test_a_bad_checksum_stops_the_file_at_that_record(broken_copy, tf):
    path = write_warmup(tf, broken_copy, good_records(tf))
    data = bytearray(path.read_bytes())
    second = next(r for r in iter_records(bytes(data)) if r.index == 2)
    data[second.offset + 12 + 3] ^= 0xFF  # a byte of record 2's data
    path.write_bytes(bytes(data))
    with pytest.raises(tf.errors.DataLossError):  # TensorFlow's own reader refuses it too
        list(tf.data.TFRecordDataset(str(path)))
    warmup = read_warmup(path)
    assert len(warmup.records) == 2
    assert warmup.problem_index == 2
    assert "checksum" in warmup.problem


def test_scan_reports_a_bad_warmup_file_and_exits_1(broken_copy, tf, capsys):
    records = good_records(tf)
    records[0] = predict_log(tf, "predict", {"x": WARMUP_X.astype(np.int32)})
    write_warmup(tf, broken_copy, records)
    assert main(["scan", "--dir", str(broken_copy)]) == 1
    out = capsys.readouterr().out
    assert "record 0: input 'x' is int32; 'predict' takes float32" in out


def test_scan_lists_the_records_of_a_good_warmup_file(models, capsys):
    assert main(["scan", "--dir", str(models.path("warmup"))]) == 0
    out = capsys.readouterr().out
    assert "Warmup file assets.extra/tf_serving_warmup_requests: 5 records" in out
    assert "x float32 (2, 3)" in out
    assert "Warmup records fit their signatures." in out


def test_each_records_batch_and_fit_against_the_signature_it_names(models):
    model = open_model(models.path("warmup"))
    signatures = model.meta_graph("serve").signatures
    records = check_model_warmup(model).records
    # from WARMUP_RECORDS: x's rows, then the tf.Examples (the context record holds one)
    batches = [len(WARMUP_X), len(EXAMPLE_X), len(EXAMPLE_X[:1]), 1, len(EXAMPLE_X)]
    assert [record_batch(r) for r in records] == batches
    assert all(signature_problems(r, signatures[r.signature]) == [] for r in records)
    (problem,) = signature_problems(records[4], signatures["regress"])
    assert problem == "the record names 'classify', not 'regress'"
