"""TensorFlow's DataType enum: names, short names and numpy equivalents."""

from __future__ import annotations

import re
from dataclasses import dataclass

import ml_dtypes
import numpy as np


@dataclass(frozen=True)
class DType:
    """One value of tensorflow.DataType (types.proto)."""

    enum: int
    name: str  # "DT_FLOAT", as saved_model_cli prints it
    short: str  # "float32", as tf.dtypes names it
    numpy: np.dtype | None  # None for strings, resources and variants

    @property
    def is_ref(self) -> bool:
        return self.name.endswith("_REF")

    @property
    def known(self) -> bool:
        return not self.name.startswith(UNKNOWN_PREFIX)

    @property
    def text(self) -> str:
        """How a view shows it: the short name, or "unknown dtype -5"."""
        return self.short if self.known else f"unknown dtype {self.enum}"

    @property
    def enum_text(self) -> str:
        """How a message names it: the enum name, or "unknown dtype -5"."""
        return self.name if self.known else self.text


# Enum numbers types.proto does not define (a damaged or newer file) keep their number in
# the name, "DT_UNKNOWN_-5", so every number round-trips through ``dtype``.
UNKNOWN_PREFIX = "DT_UNKNOWN_"
_UNKNOWN = re.compile(r"DT_UNKNOWN_(-?\d+)")


# (enum, enum name, short name, numpy dtype) from tensorflow/core/framework/types.proto.
_TABLE = [
    (0, "DT_INVALID", "invalid", None),
    (1, "DT_FLOAT", "float32", np.dtype("<f4")),
    (2, "DT_DOUBLE", "float64", np.dtype("<f8")),
    (3, "DT_INT32", "int32", np.dtype("<i4")),
    (4, "DT_UINT8", "uint8", np.dtype("u1")),
    (5, "DT_INT16", "int16", np.dtype("<i2")),
    (6, "DT_INT8", "int8", np.dtype("i1")),
    (7, "DT_STRING", "string", None),
    (8, "DT_COMPLEX64", "complex64", np.dtype("<c8")),
    (9, "DT_INT64", "int64", np.dtype("<i8")),
    (10, "DT_BOOL", "bool", np.dtype("?")),
    (11, "DT_QINT8", "qint8", np.dtype("i1")),
    (12, "DT_QUINT8", "quint8", np.dtype("u1")),
    (13, "DT_QINT32", "qint32", np.dtype("<i4")),
    (14, "DT_BFLOAT16", "bfloat16", np.dtype(ml_dtypes.bfloat16)),
    (15, "DT_QINT16", "qint16", np.dtype("<i2")),
    (16, "DT_QUINT16", "quint16", np.dtype("<u2")),
    (17, "DT_UINT16", "uint16", np.dtype("<u2")),
    (18, "DT_COMPLEX128", "complex128", np.dtype("<c16")),
    (19, "DT_HALF", "float16", np.dtype("<f2")),
    (20, "DT_RESOURCE", "resource", None),
    (21, "DT_VARIANT", "variant", None),
    (22, "DT_UINT32", "uint32", np.dtype("<u4")),
    (23, "DT_UINT64", "uint64", np.dtype("<u8")),
    (24, "DT_FLOAT8_E5M2", "float8_e5m2", np.dtype(ml_dtypes.float8_e5m2)),
    (25, "DT_FLOAT8_E4M3FN", "float8_e4m3fn", np.dtype(ml_dtypes.float8_e4m3fn)),
    (26, "DT_FLOAT8_E4M3FNUZ", "float8_e4m3fnuz", np.dtype(ml_dtypes.float8_e4m3fnuz)),
    (27, "DT_FLOAT8_E4M3B11FNUZ", "float8_e4m3b11fnuz", np.dtype(ml_dtypes.float8_e4m3b11fnuz)),
    (28, "DT_FLOAT8_E5M2FNUZ", "float8_e5m2fnuz", np.dtype(ml_dtypes.float8_e5m2fnuz)),
    (29, "DT_INT4", "int4", np.dtype(ml_dtypes.int4)),
    (30, "DT_UINT4", "uint4", np.dtype(ml_dtypes.uint4)),
    (31, "DT_INT2", "int2", np.dtype(ml_dtypes.int2)),
    (32, "DT_UINT2", "uint2", np.dtype(ml_dtypes.uint2)),
    (33, "DT_FLOAT4_E2M1FN", "float4_e2m1fn", np.dtype(ml_dtypes.float4_e2m1fn)),
]

_BY_ENUM = {row[0]: DType(*row) for row in _TABLE}
_BY_NAME = {d.name: d for d in _BY_ENUM.values()} | {d.short: d for d in _BY_ENUM.values()}


def dtype(value: int | str) -> DType:
    """Look a dtype up by enum number, enum name ("DT_FLOAT") or short name ("float32")."""
    if isinstance(value, int):
        if value in _BY_ENUM:
            return _BY_ENUM[value]
        if value - 100 in _BY_ENUM:  # reference types: DT_FLOAT_REF = 101, ...
            base = _BY_ENUM[value - 100]
            return DType(value, base.name + "_REF", base.short + "_ref", base.numpy)
        return DType(value, f"{UNKNOWN_PREFIX}{value}", f"unknown_{value}", None)
    if value in _BY_NAME:
        return _BY_NAME[value]
    if value.endswith(("_REF", "_ref")) and value[:-4] in _BY_NAME:  # names dtype(101) gives
        return dtype(_BY_NAME[value[:-4]].enum + 100)
    unknown = _UNKNOWN.fullmatch(value)
    if unknown:
        return dtype(int(unknown[1]))
    raise KeyError(value)


def itemsize(value: int | str) -> int | None:
    """Bytes per element, or None where the size is not fixed (strings, resources)."""
    np_dtype = dtype(value).numpy
    return None if np_dtype is None else np_dtype.itemsize
