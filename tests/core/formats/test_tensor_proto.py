from __future__ import annotations

import tracemalloc

import ml_dtypes
import numpy as np
import pytest

from smlens.core.errors import SmlensError
from smlens.core.formats import proto
from smlens.core.formats.tensor_proto import (
    content_digest,
    tensor_bytes_digest,
    tensor_proto_to_numpy,
)

DTYPES = [
    "float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8",
    "uint16", "uint32", "uint64", "complex64", "complex128", "float8_e4m3fn", "float8_e5m2",
    "int4",
]  # fmt: skip


def tf_dtype(tf, name: str):
    from tensorflow.python.framework import dtypes

    return getattr(dtypes, name)


def decode_both(tf, tf_proto):
    """(ours, TensorFlow's) decoding of one TensorProto."""
    ours = tensor_proto_to_numpy(proto.TensorProto.FromString(tf_proto.SerializeToString()))
    return ours, tf.make_ndarray(tf_proto)


def assert_same_tensor(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert (ours.dtype, ours.shape) == (theirs.dtype, theirs.shape)
    if ours.dtype == object:
        assert ours.tolist() == theirs.tolist()
    else:
        assert np.array_equal(ours.reshape(-1).view(np.uint8), theirs.reshape(-1).view(np.uint8))


def sample(name: str, shape: tuple[int, ...]) -> np.ndarray:
    values = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) - 3.5
    if name.startswith("complex"):
        values = values + 1j * values[::-1]
    if name.startswith(("int", "uint")):
        values = np.round(values) % 7
    return values.astype(ml_dtypes.finfo(name).dtype if "float8" in name else name)


@pytest.mark.parametrize("name", DTYPES)
def test_arrays_match_tensorflow(tf, name):
    tp = tf.make_tensor_proto(sample(name, (2, 3, 2)), dtype=tf_dtype(tf, name))
    assert_same_tensor(*decode_both(tf, tp))


@pytest.mark.parametrize("name", DTYPES)
def test_one_typed_value_broadcasts_like_tensorflow(tf, name):
    tp = tf.make_tensor_proto(sample(name, (1,))[0], dtype=tf_dtype(tf, name), shape=[2, 3])
    assert not tp.tensor_content  # the typed *_val field path
    ours, theirs = decode_both(tf, tp)
    assert_same_tensor(ours, theirs)
    assert ours.shape == (2, 3)


@pytest.mark.parametrize("name", DTYPES)
def test_scalars_match_tensorflow(tf, name):
    ours, theirs = decode_both(tf, tf.make_tensor_proto(sample(name, (1,))[0]))
    assert ours.shape == ()
    assert_same_tensor(ours, theirs)


def test_special_floats_keep_their_bits(tf):
    values = np.array([np.nan, -np.nan, np.inf, -0.0, 6e-8, 65504.0], dtype=np.float16)
    for tp in (tf.make_tensor_proto(values), tf.make_tensor_proto(values[1], shape=[3])):
        assert_same_tensor(*decode_both(tf, tp))
    ours, _ = decode_both(tf, tf.make_tensor_proto(values))
    assert np.signbit(ours[3]) and np.isnan(ours[0])


def test_bool_and_strings_match_tensorflow(tf):
    cases = [
        tf.make_tensor_proto(np.array([[True, False, True]])),
        tf.make_tensor_proto(True, shape=[4]),
        tf.make_tensor_proto([[b"", "h\u00e9".encode()], [b"\x00\xff", b"x" * 200]]),
        tf.make_tensor_proto(b"last", shape=[3]),
        tf.make_tensor_proto(b"scalar"),
    ]
    for tp in cases:
        ours, theirs = decode_both(tf, tp)
        assert_same_tensor(ours, theirs)
    strings, _ = decode_both(tf, cases[2])
    assert strings.dtype == object and strings[1, 0] == b"\x00\xff"


def test_fewer_values_repeat_the_last(tf):
    tp = tf.make_tensor_proto(0.0, shape=[2, 2])
    del tp.float_val[:]
    tp.float_val.extend([1.0, 2.0, 3.0])
    ours, theirs = decode_both(tf, tp)
    assert_same_tensor(ours, theirs)
    assert ours.tolist() == [[1.0, 2.0], [3.0, 3.0]]


@pytest.mark.parametrize("name", ["float32", "complex64", "int64", "bfloat16", "uint64"])
def test_no_values_mean_zeros(tf, name):
    tp = tf.make_tensor_proto(sample(name, (1,))[0], dtype=tf_dtype(tf, name), shape=[3])
    for field in ("float_val", "scomplex_val", "int64_val", "half_val", "uint64_val"):
        tp.ClearField(field)
    ours, theirs = decode_both(tf, tp)
    assert_same_tensor(ours, theirs)
    assert not ours.any()


def test_quantized_and_empty_strings():
    tp = proto.TensorProto(dtype=11)  # DT_QINT8
    tp.tensor_shape.dim.add().size = 3
    tp.int_val.extend([-5, 100])
    assert tensor_proto_to_numpy(tp).tolist() == [-5, 100, 100]
    tp = proto.TensorProto(dtype=7)  # DT_STRING with no values
    tp.tensor_shape.dim.add().size = 2
    assert tensor_proto_to_numpy(tp).tolist() == [b"", b""]


def _proto(dtype: int, dims: list[int], **fields):
    tp = proto.TensorProto(dtype=dtype, **fields)
    for d in dims:
        tp.tensor_shape.dim.add().size = d
    return tp


@pytest.mark.parametrize(
    "tp, words",
    [
        (_proto(1, [2], float_val=[1.0, 2.0, 3.0]), "3 values for 2 elements"),
        (_proto(1, [2], tensor_content=b"\x00" * 7), "7 bytes, shape needs 8"),
        (_proto(1, [-1], float_val=[1.0]), "fully known shape"),
        (_proto(20, [1]), "DT_RESOURCE"),
        (_proto(8, [1], scomplex_val=[1.0]), "odd number"),
    ],
    ids=["too-many", "content-size", "unknown-dim", "resource", "odd-complex"],
)
def test_malformed_protos_raise(tp, words):
    with pytest.raises(SmlensError, match=words):
        tensor_proto_to_numpy(tp)


def _splat(tf, value, shape) -> bytes:
    tp = tf.make_tensor_proto(value, shape=shape)
    assert not tp.tensor_content  # one typed value, repeated to the shape
    return tp.SerializeToString()


def test_equal_values_have_one_digest_however_they_are_stored(tf):
    packed = tf.make_tensor_proto(np.array([1.0, 2.0, 3.0, 3.0, 3.0], np.float32))
    assert packed.tensor_content
    repeated = proto.TensorProto.FromString(packed.SerializeToString())
    repeated.ClearField("tensor_content")
    repeated.float_val.extend([1.0, 2.0, 3.0])  # TF repeats the last value to the shape
    assert np.array_equal(tf.make_ndarray(repeated), tf.make_ndarray(packed))
    assert content_digest(repeated) == content_digest(_parsed(packed))
    zeros = tf.make_tensor_proto(np.zeros((4, 4), np.int32))
    empty = proto.TensorProto.FromString(_splat(tf, 0, [4, 4]))
    empty.ClearField("int_val")  # no values: zeros
    assert np.array_equal(tf.make_ndarray(empty), tf.make_ndarray(zeros))
    assert content_digest(empty) == content_digest(_parsed(zeros))


def test_different_values_shapes_or_dtypes_have_different_digests(tf):
    cases = [
        tf.make_tensor_proto(np.array([1.0, 2.0, 3.0, 3.0], np.float32)),
        tf.make_tensor_proto(np.array([1.0, 2.0, 3.0, 4.0], np.float32)),
        tf.make_tensor_proto(np.array([[1.0, 2.0], [3.0, 3.0]], np.float32)),
        tf.make_tensor_proto(np.array([1.0, 2.0, 3.0, 3.0], np.float64)),
        tf.make_tensor_proto(np.array([b"a", b"bc", b"bc"])),
        tf.make_tensor_proto(np.array([b"ab", b"c", b"bc"])),
        tf.make_tensor_proto(np.float32(np.nan), shape=[3]),
        tf.make_tensor_proto(np.float32(-0.0), shape=[3]),
    ]
    digests = {content_digest(_parsed(tp)) for tp in cases}
    assert len(digests) == len(cases)


def test_a_constant_broadcast_to_2_40_elements_is_refused_and_digested_in_bounded_memory(tf):
    raw = _splat(tf, 1.5, [2**20, 2**20])
    tp = proto.TensorProto.FromString(raw)
    tracemalloc.start()
    try:
        with pytest.raises(SmlensError, match=r"1,099,511,627,776 elements would take 4\.0 TiB"):
            tensor_proto_to_numpy(tp)
        digest = tensor_bytes_digest(raw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    smaller = _splat(tf, 1.5, [2**20, 2**20 - 1])
    assert digest != tensor_bytes_digest(smaller)
    assert digest == tensor_bytes_digest(_splat(tf, 1.5, [2**20, 2**20]))


def _parsed(tp):
    return proto.TensorProto.FromString(tp.SerializeToString())
