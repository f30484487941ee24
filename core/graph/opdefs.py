"""What the graph builder needs of TensorFlow's OpDefs (core/proto/tf_ops.binpb): each op's
inputs and outputs (list args expanded by their number or type-list attr), its func attrs
and its attr defaults, looked up once per op type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from smlens.core.formats import proto
from smlens.core.model import Node


class _Arg(NamedTuple):
    name: str
    type: int
    type_attr: str
    number_attr: str
    type_list_attr: str
    is_ref: bool


@dataclass(frozen=True)
class OpSpec:
    """What the graph builder needs of one OpDef, looked up once per op type."""

    inputs: tuple[_Arg, ...]
    outputs: tuple[_Arg, ...]
    func_attrs: tuple[str, ...]
    defaults: dict[str, Any]  # attr name -> AttrValue proto
    static_offsets: dict[str, int] | None  # output arg -> flat index, when no arg is a list


_SPECS: dict[str, OpSpec | None] = {}


def op_spec(op: str) -> OpSpec | None:
    """What the builder needs of ``op``'s OpDef; None for ops TensorFlow does not register."""
    if op not in _SPECS:
        op_def = proto.op_registry().get(op)
        _SPECS[op] = None if op_def is None else _make_op_spec(op_def)
    return _SPECS[op]


def _args(arg_defs) -> tuple[_Arg, ...]:
    return tuple(
        _Arg(a.name, a.type, a.type_attr, a.number_attr, a.type_list_attr, a.is_ref)
        for a in arg_defs
    )


def _make_op_spec(op_def) -> OpSpec:
    outputs = _args(op_def.output_arg)
    static = None
    if not any(a.number_attr or a.type_list_attr for a in outputs):
        static = {a.name: k for k, a in enumerate(outputs)}
    return OpSpec(
        inputs=_args(op_def.input_arg),
        outputs=outputs,
        func_attrs=tuple(a.name for a in op_def.attr if a.type in ("func", "list(func)")),
        defaults={a.name: a.default_value for a in op_def.attr if a.HasField("default_value")},
        static_offsets=static,
    )


def raw_attr(node: Node, spec: OpSpec | None, name: str):
    """The node's AttrValue proto for ``name``, else the OpDef's default, else None."""
    attrs = node._attr_proto
    if attrs is not None and name in attrs:
        return attrs[name]
    return spec.defaults.get(name) if spec else None


def arg_types(node: Node, spec: OpSpec, arg: _Arg) -> list[int]:
    """The dtype enums of one (possibly list-valued) arg of ``node``."""
    if arg.type_list_attr:
        raw = raw_attr(node, spec, arg.type_list_attr)
        return list(raw.list.type) if raw is not None else []
    if arg.type:
        one = arg.type
    else:
        raw = raw_attr(node, spec, arg.type_attr)
        one = raw.type if raw is not None else 0
    if one and arg.is_ref:
        one += 100  # DT_FLOAT_REF = DT_FLOAT + 100 (types.proto)
    count = 1
    if arg.number_attr:
        raw = raw_attr(node, spec, arg.number_attr)
        count = raw.i if raw is not None else 0
    return [one] * count


def flat_args(node: Node, spec: OpSpec, args: tuple[_Arg, ...]) -> list[tuple[str, int]]:
    """(arg name, dtype enum) per flat position of ``node``'s inputs or outputs, list args
    expanded by their number_attr or type_list_attr."""
    return [(a.name, t) for a in args for t in arg_types(node, spec, a)]
