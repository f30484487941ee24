"""Decode AttrValue protos (attr_value.proto) into plain Python values."""

from __future__ import annotations

from typing import Any

from smlens.core.formats.tensor_proto import tensor_bytes_to_numpy
from smlens.core.model import FuncRef, Placeholder, Shape, TensorValue
from smlens.core.model.dtypes import dtype

_LIST_FIELDS = ("s", "i", "f", "b", "type", "shape", "tensor", "func")


def decode_shape(proto) -> Shape:
    """A TensorShapeProto as a Shape (unknown_rank -> dims None)."""
    if proto.unknown_rank:
        return Shape(None)
    return Shape(tuple(int(d.size) for d in proto.dim))


def decode_tensor(proto) -> TensorValue:
    return TensorValue(
        dtype(proto.dtype).name,
        decode_shape(proto.tensor_shape),
        proto.SerializeToString(deterministic=True),
        _decode=tensor_bytes_to_numpy,
    )


def _scalar(kind: str, value) -> Any:
    if kind == "type":
        return dtype(value).name
    if kind == "shape":
        return decode_shape(value)
    if kind == "tensor":
        return decode_tensor(value)
    if kind == "func":
        return FuncRef(value.name, decode_attr_map(value.attr))
    if kind == "s":
        return bytes(value)
    return value


def decode_attr(proto) -> Any:
    """One AttrValue as bytes, int, float, bool, dtype name, Shape, TensorValue, FuncRef,
    Placeholder, or a list of those."""
    kind = proto.WhichOneof("value")
    if kind is None:
        return None
    if kind == "placeholder":
        return Placeholder(proto.placeholder)
    if kind == "list":
        lst = proto.list
        for name in _LIST_FIELDS:
            values = getattr(lst, name)
            if len(values):
                return [_scalar(name, v) for v in values]
        return []
    return _scalar(kind, getattr(proto, kind))


def decode_attr_map(attr_map) -> dict[str, Any]:
    return {key: decode_attr(attr_map[key]) for key in sorted(attr_map)}


def func_names(value: Any) -> list[str]:
    """The function names a decoded attr refers to (func or list(func))."""
    if isinstance(value, FuncRef):
        return [value.name]
    if isinstance(value, list):
        return [v.name for v in value if isinstance(v, FuncRef)]
    return []
