"""Decode a tensorflow.TensorProto (Const nodes, attr values) into a numpy array.

Follows tensor_util.MakeNdarray: packed ``tensor_content`` for fixed-size dtypes, else the
typed ``*_val`` field, where fewer values than elements repeat the last one (none: zeros).
"""

from __future__ import annotations

import numpy as np

from smlens.core.errors import SmlensError
from smlens.core.model.dtypes import dtype as lookup_dtype

_WHERE = "TensorProto"

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


def tensor_proto_to_numpy(tp) -> np.ndarray:
    """The tensor's values, shaped; strings come back as an object array of bytes."""
    dt = lookup_dtype(tp.dtype)
    shape = _shape(tp)
    count = int(np.prod(shape, dtype=np.int64))
    if dt.name == "DT_STRING":
        return _broadcast(_object_array(list(tp.string_val)), count, dt.name).reshape(shape)
    if dt.numpy is None:
        raise SmlensError(_WHERE, f"cannot decode values of dtype {dt.name}")
    if tp.tensor_content:
        return _from_content(tp.tensor_content, dt.numpy, count, dt.name).reshape(shape)
    return _broadcast(_typed_values(tp, dt.name, dt.numpy), count, dt.name).reshape(shape)


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
    from smlens.core.formats import proto

    tp = proto.TensorProto()
    tp.ParseFromString(raw)
    return tensor_proto_to_numpy(tp)
