"""Decode a tensorflow.TensorProto (Const nodes, attr values) into a numpy array.

Follows tensor_util.MakeNdarray: packed ``tensor_content`` for fixed-size dtypes, else the
typed ``*_val`` field, where fewer values than elements repeat the last one (none: zeros).
A proto of a few bytes can so claim 2**40 elements: the element count is checked before
anything is built (``MAX_DECODED_BYTES``), and ``content_digest`` fingerprints a constant's
values from its fields without building them.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from smlens.core.errors import SmlensError
from smlens.core.model.dtypes import dtype as lookup_dtype
from smlens.core.model.text import human_bytes

_WHERE = "TensorProto"
MAX_DECODED_BYTES = 1 << 30  # the most a constant built from a repeated value may take
_STRING_BYTES = 8  # what an object array spends per element, at the least

# dtype name -> (TensorProto field, numpy dtype the field's values are read as)
_TYPED_FIELDS = {
    "DT_FLOAT": ("float_val", np.float32),
    "DT_DOUBLE": ("double_val", np.float64),
    "DT_INT64": ("int64_val", np.int64),
    "DT_BOOL": ("bool_val", np.bool_),
    "DT_UINT32": ("uint32_val", np.uint32),
    "DT_UINT64": ("uint64_val", np.uint64),
    "DT_COMPLEX64": ("scomplex_val", np.float32),  # (real, imag) pairs
    "DT_COMPLEX128": ("dcomplex_val", np.float64),
    "DT_HALF": ("half_val", np.int64),  # 16-bit patterns in an int32 field
    "DT_BFLOAT16": ("half_val", np.int64),
}
_INT_VAL_TYPES = {
    "DT_INT32", "DT_INT16", "DT_INT8", "DT_UINT8", "DT_UINT16", "DT_INT4", "DT_UINT4",
    "DT_QINT8", "DT_QUINT8", "DT_QINT16", "DT_QUINT16", "DT_QINT32",
}  # fmt: skip


def tensor_proto_to_numpy(tp, max_bytes: int = MAX_DECODED_BYTES) -> np.ndarray:
    """The tensor's values, shaped; strings come back as an object array of bytes.

    SmlensError, before anything is allocated, when repeating the stored values up to the
    shape would take more than ``max_bytes`` (packed content is as big as the file holds).
    """
    dt = lookup_dtype(tp.dtype)
    shape = _shape(tp)
    count = math.prod(shape)
    if dt.name == "DT_STRING":
        _check_size(count, _STRING_BYTES, dt.name, max_bytes)
        return _broadcast(_object_array(list(tp.string_val)), count, dt.name).reshape(shape)
    if dt.numpy is None:
        raise SmlensError(_WHERE, f"cannot decode values of dtype {dt.enum_text}")
    if tp.tensor_content:
        return _from_content(tp.tensor_content, dt.numpy, count, dt.name).reshape(shape)
    _check_size(count, dt.numpy.itemsize, dt.name, max_bytes)
    return _broadcast(_typed_values(tp, dt.name, dt.numpy), count, dt.name).reshape(shape)


def _check_size(count: int, itemsize: int, name: str, max_bytes: int) -> None:
    if count * itemsize > max_bytes:
        raise SmlensError(
            _WHERE,
            f"a {name} constant of {count:,} elements would take "
            f"{human_bytes(count * itemsize)} to decode, over the {human_bytes(max_bytes)} limit",
        )


def content_digest(tp) -> str:
    """A fingerprint of the tensor's values that is equal for equal values however they are
    stored (packed content, a repeated last value, or no values for zeros), computed from
    the stored values only: a splat constant of 2**40 elements costs what its proto does.

    Values are hashed as runs: the elements before the trailing run of the last value,
    then that value and the length of the run.
    """
    dt = lookup_dtype(tp.dtype)
    shape = _shape(tp)
    count = math.prod(shape)
    if dt.name == "DT_STRING":
        stored = _object_array(list(tp.string_val))
    elif dt.numpy is None:
        raise SmlensError(_WHERE, f"cannot decode values of dtype {dt.enum_text}")
    elif tp.tensor_content:
        stored = _from_content(tp.tensor_content, dt.numpy, count, dt.name)
    else:
        stored = _typed_values(tp, dt.name, dt.numpy)
    if stored.size > count:
        raise SmlensError(_WHERE, f"{dt.name} tensor has {stored.size} values for {count} elements")
    if stored.size == 0 and count:
        stored = np.zeros(1, dtype=stored.dtype) if stored.dtype != object else _object_array([b""])
    head, last = _trailing_run(stored)
    digest = hashlib.sha1(f"{dt.name} {shape}".encode())
    _update(digest, head)
    _update(digest, last)
    digest.update(f" run to {count}".encode())
    return digest.hexdigest()


def _trailing_run(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the values before the trailing run of the last one, that last value)."""
    if values.size == 0:
        return values, values
    last = values[-1:]
    if values.dtype == object:
        same = np.array([v == last[0] for v in values], dtype=bool)
    else:  # compared as bits, so NaN and -0.0 runs are runs
        width = values.dtype.itemsize
        bits = np.ascontiguousarray(values).view(np.uint8).reshape(-1, width)
        same = np.all(bits == bits[-1], axis=1)
    differing = np.flatnonzero(~same)
    end = int(differing[-1]) + 1 if differing.size else 0
    return values[:end], last


def _update(digest, values: np.ndarray) -> None:
    digest.update(len(values).to_bytes(8, "little"))
    if values.dtype != object:
        digest.update(np.ascontiguousarray(values).tobytes())
        return
    for item in values:  # strings: each with its length, so boundaries count
        raw = item if isinstance(item, bytes) else str(item).encode()
        digest.update(len(raw).to_bytes(8, "little") + raw)


def _shape(tp) -> tuple[int, ...]:
    dims = tuple(d.size for d in tp.tensor_shape.dim)
    if tp.tensor_shape.unknown_rank or any(d < 0 for d in dims):
        raise SmlensError(_WHERE, "a constant tensor must have a fully known shape")
    return dims


def _from_content(content: bytes, np_dtype: np.dtype, count: int, name: str) -> np.ndarray:
    if len(content) != count * np_dtype.itemsize:
        needed = count * np_dtype.itemsize
        raise SmlensError(_WHERE, f"{name} content is {len(content)} bytes, shape needs {needed}")
    return np.frombuffer(content, dtype=np_dtype).copy()


def _typed_values(tp, name: str, np_dtype: np.dtype) -> np.ndarray:
    if name in _INT_VAL_TYPES:
        return np.array(tp.int_val, dtype=np.int64).astype(np_dtype)
    if name.startswith("DT_FLOAT8"):
        return np.frombuffer(tp.float8_val, dtype=np.uint8).view(np_dtype)  # one byte each
    if name not in _TYPED_FIELDS:
        raise SmlensError(_WHERE, f"cannot decode values of dtype {name}")
    field, stored = _TYPED_FIELDS[name]
    values = np.array(getattr(tp, field), dtype=stored)
    if field == "half_val":
        return values.astype(np.uint16).view(np_dtype)
    if np_dtype.kind == "c":
        if values.size % 2:
            raise SmlensError(_WHERE, f"{field} holds an odd number of parts")
        return values.view(np_dtype)
    return values.astype(np_dtype, copy=False)


def _broadcast(values: np.ndarray, count: int, name: str) -> np.ndarray:
    """TF's rule: repeat the last value up to ``count`` elements; no values mean zeros."""
    if values.size > count:
        raise SmlensError(_WHERE, f"{name} tensor has {values.size} values for {count} elements")
    if values.size == count:
        return values
    if values.size == 0:
        return np.full(count, b"" if values.dtype == object else 0, dtype=values.dtype)
    fill = np.full(count - values.size, values[-1], dtype=values.dtype)
    return np.concatenate([values, fill])


def _object_array(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def tensor_bytes_to_numpy(raw: bytes) -> np.ndarray:
    """A serialized TensorProto's values (the codec ``TensorValue.numpy`` calls)."""
    return tensor_proto_to_numpy(_parse(raw))


def tensor_bytes_digest(raw: bytes) -> str:
    """``content_digest`` of a serialized TensorProto."""
    return content_digest(_parse(raw))


def _parse(raw: bytes):
    from smlens.core.formats import proto

    tp = proto.TensorProto()
    tp.ParseFromString(raw)
    return tp
