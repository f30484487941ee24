"""Decode StructuredValue (struct.proto), the object graph's function signatures."""

from __future__ import annotations

from typing import Any

from smlens.core.formats.attrs import decode_shape, decode_tensor
from smlens.core.model import NamedTuple, TensorSpec, TypeSpec
from smlens.core.model.dtypes import dtype

# TypeSpecProto.TypeSpecClass -> the Python class TensorFlow rebuilds (struct.proto).
_TYPE_SPEC_CLASSES = {
    1: "SparseTensorSpec",
    2: "IndexedSlicesSpec",
    3: "RaggedTensorSpec",
    4: "TensorArraySpec",
    5: "DatasetSpec",
    6: "IteratorSpec",
    7: "OptionalSpec",
    8: "PerReplicaSpec",
    9: "VariableSpec",
    10: "RowPartitionSpec",
}


def _tensor_spec(proto, kind: str = "TensorSpec", **bounds) -> TensorSpec:
    return TensorSpec(
        shape=decode_shape(proto.shape),
        dtype=dtype(proto.dtype).short,
        name=proto.name or None,
        kind=kind,
        **bounds,
    )


def decode_type_spec(proto) -> TypeSpec:
    name = proto.type_spec_class_name or _TYPE_SPEC_CLASSES.get(proto.type_spec_class, "TypeSpec")
    return TypeSpec(name, decode_structure(proto.type_state), proto.num_flat_components)


def decode_structure(proto) -> Any:
    """A StructuredValue as Python containers with TensorSpec / TypeSpec leaves."""
    kind = proto.WhichOneof("kind")
    if kind is None or kind == "none_value":
        return None
    value = getattr(proto, kind)
    if kind in ("float64_value", "int64_value", "string_value", "bool_value"):
        return value
    if kind == "tensor_shape_value":
        return decode_shape(value)
    if kind == "tensor_dtype_value":
        return dtype(value).short
    if kind == "tensor_spec_value":
        return _tensor_spec(value)
    if kind == "bounded_tensor_spec_value":
        return _tensor_spec(
            value,
            "BoundedTensorSpec",
            minimum=decode_tensor(value.minimum),
            maximum=decode_tensor(value.maximum),
        )
    if kind == "type_spec_value":
        return decode_type_spec(value)
    if kind == "list_value":
        return [decode_structure(v) for v in value.values]
    if kind == "tuple_value":
        return tuple(decode_structure(v) for v in value.values)
    if kind == "dict_value":
        return {k: decode_structure(v) for k, v in value.fields.items()}
    if kind == "named_tuple_value":
        return NamedTuple(
            value.name, tuple((p.key, decode_structure(p.value)) for p in value.values)
        )
    if kind in ("tensor_value", "numpy_value"):
        return decode_tensor(value)
    return None
