"""TensorFlow's message classes, built from a vendored descriptor set, without TensorFlow.

The schemas live in a private DescriptorPool, so they never clash with TensorFlow's own
generated modules when both are imported in one process (as in the tests).
Regenerate with ``python -m smlens.core.formats.proto.regen``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf.message import DecodeError

from smlens.core.formats.pieces import parse
from smlens.core.formats.text_proto import Unsupported, text_to_wire

_HERE = Path(__file__).resolve().parent


@cache
def _pool() -> descriptor_pool.DescriptorPool:
    fds = descriptor_pb2.FileDescriptorSet.FromString((_HERE / "tf_schemas.binpb").read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file_proto in fds.file:
        pool.Add(file_proto)
    return pool


@cache
def message_class(full_name: str):
    """The generated message class for a fully qualified name like 'tensorflow.SavedModel'."""
    return message_factory.GetMessageClass(_pool().FindMessageTypeByName(full_name))


@cache
def enum_names(full_name: str) -> dict[int, str]:
    """Number -> name of a proto enum, e.g. 'tensorflow.DataType' -> {1: 'DT_FLOAT', ...}."""
    return {v.number: v.name for v in _pool().FindEnumTypeByName(full_name).values}


@cache
def op_registry() -> dict:
    """Op name -> OpDef for every op TensorFlow registers (from tf_ops.binpb)."""
    data = (_HERE / "tf_ops.binpb").read_bytes()  # ~0.1 s as one call, holding the GIL
    op_list = parse(message_class("tensorflow.OpList")(), data)
    return {op.name: op for op in op_list.op}


def parse_text(text: str, message):
    """text_format.Parse that resolves ``Any`` fields ([type.googleapis.com/tensorflow.X])
    against the vendored schemas, as TensorFlow's own text reader does.

    The text goes through ``text_to_wire`` and protobuf's C parser (a tenth of the time);
    whatever that pass does not take on, text_format.Parse reads, with its own errors.
    """
    try:
        parse(message, text_to_wire(text, message.DESCRIPTOR, _pool()))
        return message
    except (Unsupported, DecodeError):
        message.Clear()
    return text_format.Parse(text, message, descriptor_pool=_pool())


def __getattr__(name: str):
    # proto.SavedModel, proto.BundleEntryProto, ... resolved lazily in the tensorflow package.
    if name[:1].isupper():
        return message_class(f"tensorflow.{name}")
    raise AttributeError(name)
