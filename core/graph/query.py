"""Questions the graph view asks of an op graph: search, trace, and one node's details.

Plain functions of an OpGraph (build.py), so the inspector and the search box show
what a test can check without a window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from smlens.core.errors import SmlensError
from smlens.core.formats.attrs import decode_attr
from smlens.core.graph.build import Edge, OpGraph, OpNode, TensorType
from smlens.core.graph.calls import Callee
from smlens.core.graph.opdefs import flat_args, op_spec
from smlens.core.model import FuncRef, Node, Placeholder, Shape, TensorValue
from smlens.core.model.dtypes import dtype as lookup_dtype
from smlens.core.tasks import CancelCheck, Cancelled, Progress

# --- Search and trace ---------------------------------------------------------------------


def search_nodes(
    graph: OpGraph,
    pattern: str,
    fields: tuple[str, ...] = ("name", "op", "attr"),
    ignore_case: bool = True,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> list[str]:
    """Names of the nodes whose name, op type or an attr (as "key=text") matches a regex.

    Matching attrs decodes every node's attrs (seconds at 100,000 ops), hence the callbacks.
    """
    regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    hits = []
    for i, n in enumerate(graph.nodes):
        if i % 2000 == 0:
            if cancelled is not None and cancelled():
                raise Cancelled(pattern)
            if progress is not None:
                progress(i / max(1, len(graph.nodes)), "searching")
        if _matches(n, regex, fields):
            hits.append(n.name)
    return hits


def _matches(n: OpNode, regex, fields) -> bool:
    if "name" in fields and regex.search(n.name):
        return True
    if "op" in fields and regex.search(n.op):
        return True
    if "attr" in fields and n.node is not None:
        return any(regex.search(f"{k}={attr_text(v)}") for k, v in n.node.attrs.items())
    return False


def trace(graph: OpGraph, node: str, direction: str = "inputs", control: bool = True) -> set[str]:
    """Every node ``node`` depends on ("inputs") or that depends on it ("outputs"),
    transitively; the node itself is left out unless a cycle leads back to it."""
    upstream = direction == "inputs"
    if not upstream and direction != "outputs":
        raise ValueError(f"direction must be 'inputs' or 'outputs', not {direction!r}")
    adjacency = graph.in_edges if upstream else graph.out_edges
    seen: set[int] = set()
    stack = [graph.index[node]]
    while stack:
        for i in adjacency[stack.pop()]:
            e = graph.edges[i]
            if e.control and not control:
                continue
            other = e.src if upstream else e.dst
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return {graph.nodes[i].name for i in seen}


# --- Inspector ----------------------------------------------------------------------------

SMALL_CONST = 64  # Const values with at most this many elements are shown in full


@dataclass(frozen=True)
class AttrDetail:
    name: str
    text: str  # display text
    value: Any  # decoded value (see attrs.decode_attr)
    is_default: bool = False  # filled in from the OpDef: the export stripped it


@dataclass(frozen=True)
class PortDetail:
    """One input or output tensor of a node."""

    index: int  # flat position
    arg: str  # the OpDef's arg name: "a", "inputs:1" for the 2nd tensor of a list arg
    dtype: str
    shape: Shape | None
    peers: tuple[str, ...]  # inputs: the source "node:k"; outputs: consuming node names


@dataclass(frozen=True)
class ConstValue:
    """A Const node's value: small ones decoded, big ones as a handle (``tensor.numpy()``)."""

    dtype: str
    shape: Shape
    tensor: Any  # TensorValue
    values: Any = None  # numpy array when small, else None
    problem: str = ""  # why a small value could not be decoded (a corrupt TensorProto)


@dataclass
class NodeDetails:
    name: str
    op: str
    kind: str
    device: str
    inputs: list[PortDetail]
    outputs: list[PortDetail]
    control_inputs: list[str]
    control_outputs: list[str]
    attrs: list[AttrDetail]
    callees: list[Callee]
    variable_key: str | None
    value: ConstValue | None = None
    original_names: list[str] = field(default_factory=list)  # experimental_debug_info


def node_details(graph: OpGraph, name: str, small_const: int = SMALL_CONST) -> NodeDetails:
    """Everything the inspector shows of one node, with stripped default attrs filled in.

    A Const of at most ``small_const`` elements comes with its values; a bigger one with a
    handle only, so selecting a node never decodes a large tensor.
    """
    i = graph.index[name]
    n = graph.nodes[i]
    node = n.node
    ins = [graph.edges[k] for k in graph.in_edges[i]]
    outs = [graph.edges[k] for k in graph.out_edges[i]]
    return NodeDetails(
        name=n.name,
        op=n.op,
        kind=n.kind,
        device=node.device if node else "",
        inputs=_input_ports(graph, n, [e for e in ins if not e.control]),
        outputs=_output_ports(graph, i, [e for e in outs if not e.control]),
        control_inputs=[graph.nodes[e.src].name for e in ins if e.control],
        control_outputs=[graph.nodes[e.dst].name for e in outs if e.control],
        attrs=attr_details(node) if node else [],
        callees=list(n.callees),
        variable_key=n.variable_key,
        value=_const_value(node, small_const),
        original_names=list(node.experimental_debug_info) if node else [],
    )


def _port_names(names: list[tuple[str, int]]) -> list[str]:
    counts: dict[str, int] = {}
    for arg, _ in names:
        counts[arg] = counts.get(arg, 0) + 1
    seen: dict[str, int] = {}
    labels = []
    for arg, _ in names:
        k = seen.get(arg, 0)
        seen[arg] = k + 1
        labels.append(arg if counts[arg] == 1 else f"{arg}:{k}")
    return labels


def _arg_labels(graph: OpGraph, n: OpNode, outputs: bool) -> list[str]:
    node = n.node
    if node is None:
        return []
    if node.op in graph.library:
        fn = graph.library[node.op]
        return [a.name for a in (fn.outputs if outputs else fn.inputs)]
    spec = op_spec(node.op)
    if spec is None:
        return []
    return _port_names(flat_args(node, spec, spec.outputs if outputs else spec.inputs))


def _input_ports(graph: OpGraph, n: OpNode, edges: list[Edge]) -> list[PortDetail]:
    labels = _arg_labels(graph, n, outputs=False)
    ports = []
    for e in sorted(edges, key=lambda e: e.dst_input):
        t = graph.edge_tensor(e)
        label = labels[e.dst_input] if e.dst_input < len(labels) else f"input:{e.dst_input}"
        peer = f"{graph.nodes[e.src].name}:{e.src_output}"
        ports.append(PortDetail(e.dst_input, label, t.dtype, t.shape, (peer,)))
    return ports


def _output_ports(graph: OpGraph, i: int, edges: list[Edge]) -> list[PortDetail]:
    labels = _arg_labels(graph, graph.nodes[i], outputs=True)
    types = graph.outputs(i)
    consumers: dict[int, list[str]] = {}
    for e in edges:
        consumers.setdefault(e.src_output, []).append(graph.nodes[e.dst].name)
    ports = []
    for k in range(max(len(types), max(consumers, default=-1) + 1)):
        t = types[k] if k < len(types) else TensorType("", None)
        label = labels[k] if k < len(labels) else f"output:{k}"
        ports.append(PortDetail(k, label, t.dtype, t.shape, tuple(consumers.get(k, ()))))
    return ports


def attr_details(node: Node) -> list[AttrDetail]:
    """Every attr of ``node``, plus the OpDef defaults a stripped export left out."""
    details = [AttrDetail(k, attr_text(v), v) for k, v in node.attrs.items()]
    spec = op_spec(node.op)
    if spec is not None:
        for name, default in spec.defaults.items():
            if name not in node.attrs:
                value = decode_attr(default)
                details.append(AttrDetail(name, attr_text(value), value, is_default=True))
    return sorted(details, key=lambda d: d.name)


def attr_text(value: Any) -> str:
    """An attr value as the inspector prints it."""
    if isinstance(value, bytes):
        try:
            return repr(value.decode("utf-8"))
        except UnicodeDecodeError:
            return value.hex()
    if isinstance(value, list):
        return "[" + ", ".join(attr_text(v) for v in value) + "]"
    if isinstance(value, str) and value.startswith("DT_"):
        return _short_dtype(value)
    if isinstance(value, FuncRef):
        return value.name
    if isinstance(value, Placeholder):
        return "$" + value.name
    if isinstance(value, TensorValue):
        return f"{_short_dtype(value.dtype)} tensor {value.shape}"
    if value is None:
        return ""
    return str(value)


def _short_dtype(name: str) -> str:
    try:
        return lookup_dtype(name).short
    except KeyError:  # a dtype this build of the tables does not know
        return name


def _const_value(node: Node | None, small: int) -> ConstValue | None:
    if node is None or node.op not in ("Const", "HostConst"):
        return None
    tensor = node.attrs.get("value")
    if not isinstance(tensor, TensorValue):
        return None
    size = tensor.shape.num_elements()
    if size is None or size > small:
        return ConstValue(tensor.dtype, tensor.shape, tensor)
    try:
        return ConstValue(tensor.dtype, tensor.shape, tensor, tensor.numpy())
    except SmlensError as e:
        return ConstValue(tensor.dtype, tensor.shape, tensor, problem=e.message)
