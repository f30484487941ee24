"""Weights inside their nodes: captured variables, the reads of them, and small constants
fold into the op that consumes them, as Netron draws a Conv with its kernel and bias.

A TF2 function gets each variable as a captured resource argument read by a
``ReadVariableOp`` (often reshaped or cast before use); a TF1 graph has ``VariableV2`` /
``VarHandleOp`` nodes read through ``w/read``. Shown as nodes they fill the first screen
with hundreds of handles (ResNet50: 320) and push the computation out of view. Folded, each
becomes a row of its consumer ("kernel 7x7x3x64 float32"), and the folded nodes stay in the
graph: search, the inspector and a trace still reach them, through the node they fold into.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from smlens.core.graph.build import OpGraph
from smlens.core.model import Shape, Variable
from smlens.core.tasks import gc_paused

VARIABLE_OPS = frozenset({"VarHandleOp", "VariableV2", "Variable", "VarHandleOpV2"})
CONST_OPS = frozenset({"Const", "HostConst"})
# Ops that only pass a weight on (read, rename, reshape, cast): folded along with it.
PASS_OPS = frozenset(
    {"ReadVariableOp", "Identity", "Reshape", "Cast", "ExpandDims", "Squeeze", "Transpose"}
)
SMALL_VALUES = 8  # a folded Const with at most this many elements shows its values


class Weight(NamedTuple):
    """One row of a node: a variable (through any reads) or a constant it consumes."""

    source: int  # node id of the variable, captured argument or Const
    input: int  # the consumer's data input it enters at (-1: unknown)
    key: str | None  # checkpoint key, for variables


@dataclass
class Folding:
    """Which nodes are drawn inside which, and the rows each host shows."""

    host: dict[int, int] = field(default_factory=dict)  # folded node id -> the node holding it
    weights: dict[int, list[Weight]] = field(default_factory=dict)  # host id -> its rows

    def shown(self, node_id: int) -> int:
        """The node drawn for ``node_id``: itself, or the node it folds into."""
        return self.host.get(node_id, node_id)

    def __len__(self) -> int:
        return len(self.host)


def _is_source(graph: OpGraph, i: int) -> bool:
    n = graph.nodes[i]
    if n.kind == "arg":
        return n.variable_key is not None
    return n.kind == "op" and (n.op in VARIABLE_OPS or n.op in CONST_OPS)


def fold_weights(graph: OpGraph) -> Folding:
    """Fold variables, their reads and small-input constants into their consumers.

    A node folds when it is a weight source (a variable or captured variable argument, or a
    Const) or a pass-through op (PASS_OPS) all of whose data inputs fold or are variables,
    and all its data outputs go to one node. A variable read in several places stays
    shown; each read of it still folds, so every consumer lists it. A read whose value
    nothing uses hides with the variable it reads. One pass in topological
    order from the sources: linear in the graph's size.
    """
    with gc_paused():
        return _fold(graph)


def _fold(graph: OpGraph) -> Folding:
    nodes, edges = graph.nodes, graph.edges
    data_in: list[list[int]] = [[] for _ in nodes]  # source ids per node, data edges only
    consumers: list[set[int]] = [set() for _ in nodes]
    for e in edges:
        if not e.control:
            data_in[e.dst].append(e.src)
            consumers[e.src].add(e.dst)
    weighty = [_is_source(graph, i) for i in range(len(nodes))]  # a weight or derived from one
    variable = [weighty[i] and nodes[i].op not in CONST_OPS for i in range(len(nodes))]
    stack = [i for i, w in enumerate(weighty) if w]
    seen = set(stack)
    order: list[int] = []
    while stack:  # every weight-derived node, sources first
        i = stack.pop()
        order.append(i)
        for j in consumers[i]:
            if j in seen or nodes[j].op not in PASS_OPS or nodes[j].kind != "op":
                continue
            if all(weighty[s] for s in data_in[j]):
                weighty[j] = True
                variable[j] = any(variable[s] for s in data_in[j])
                seen.add(j)
                stack.append(j)
    # A read nothing uses (Keras reads an embedding table once for its unused shape) hides
    # with what it reads, so it does not keep its variable on screen.
    dead = [j for j in order if not consumers[j] and nodes[j].op in PASS_OPS]
    for j in dead:
        for src in data_in[j]:
            consumers[src].discard(j)
    folding = Folding()
    for i in order:
        if len(consumers[i]) == 1:
            (dst,) = consumers[i]
            if nodes[dst].kind == "op":  # a function's return value shows its producer
                folding.host[i] = dst
    for j in dead:
        if data_in[j]:
            folding.host[j] = data_in[j][0]
    for i in list(folding.host):  # a chain folds into the node at its end
        h = folding.host[i]
        while h in folding.host:
            h = folding.host[h]
        folding.host[i] = h
    _list_rows(graph, folding, variable)
    return folding


def _list_rows(graph: OpGraph, folding: Folding, variable: list[bool]) -> None:
    """A row per variable or Const behind each host's data inputs."""
    nodes = graph.nodes
    for e in graph.edges:
        if e.control or e.dst in folding.host:
            continue
        if e.src not in folding.host and not (variable[e.src] and nodes[e.src].kind == "op"):
            continue
        for source in _sources(graph, e.src, folding, variable):
            key = nodes[source].variable_key
            folding.weights.setdefault(e.dst, []).append(Weight(source, e.dst_input, key))


def _sources(graph: OpGraph, start: int, folding: Folding, variable: list[bool]) -> list[int]:
    """The variables (else the Consts) a folded chain ending at ``start`` reads."""
    found_vars, found_consts, stack, seen = [], [], [start], {start}
    while stack:
        i = stack.pop()
        n = graph.nodes[i]
        if n.kind == "arg" or n.op in VARIABLE_OPS:
            found_vars.append(i)
            continue
        if n.op in CONST_OPS:
            found_consts.append(i)
            continue
        for k in graph.in_edges[i]:
            e = graph.edges[k]
            if not e.control and e.src not in seen:
                seen.add(e.src)
                stack.append(e.src)
    return found_vars or found_consts


# --- Row texts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WeightRow:
    """What a weight row says: "kernel" and "7x7x3x64 float32", or a Const's values."""

    label: str
    text: str
    key: str | None
    node: str  # the folded source node's name


def weight_rows(
    graph: OpGraph, folding: Folding, host: int, variables: dict[str, Variable] | None = None
) -> list[WeightRow]:
    """The rows of node ``host``, variables named and shaped from the model when known."""
    rows = []
    for w in folding.weights.get(host, ()):
        n = graph.nodes[w.source]
        var = (variables or {}).get(w.key) if w.key else None
        if var is not None:
            label = var.name.rsplit("/", 1)[-1]
            rows.append(WeightRow(label, _shape_text(var.shape, var.dtype), w.key, n.name))
        elif n.op in CONST_OPS:
            rows.append(WeightRow(_const_label(n.name), _const_text(n), None, n.name))
        else:
            label = n.name.rsplit("/", 1)[-1]
            types = graph.outputs(w.source)
            text = _shape_text(types[0].shape, types[0].dtype) if types else ""
            rows.append(WeightRow(label, text, w.key, n.name))
    return rows


def _const_label(name: str) -> str:
    last = name.rsplit("/", 1)[-1]
    return last if last.lower() not in ("const", "y", "x") else last.lower()


def _shape_text(shape: Shape | None, dtype: str) -> str:
    if shape is None or shape.dims is None:
        return _short(dtype)
    dims = "\N{MULTIPLICATION SIGN}".join("?" if d < 0 else str(d) for d in shape.dims) or "scalar"
    return f"{dims} {_short(dtype)}".strip()


def _short(dtype: str) -> str:
    from smlens.core.model.dtypes import dtype as lookup_dtype

    if not dtype:
        return ""
    try:
        return lookup_dtype(dtype).short
    except KeyError:
        return dtype.removeprefix("DT_").lower()


def _const_text(n) -> str:
    """A small Const's values ("= [1, 1, 1, 64]"), else its shape and dtype."""
    from smlens.core.model import TensorValue

    tensor = n.node.attrs.get("value") if n.node is not None else None
    if not isinstance(tensor, TensorValue):
        return ""
    size = tensor.shape.num_elements()
    if size is not None and size <= SMALL_VALUES:
        try:
            values = tensor.numpy().reshape(-1).tolist()
        except Exception:  # a corrupt TensorProto: its shape is still worth showing
            return _shape_text(tensor.shape, tensor.dtype)
        shown = ", ".join(_number(v) for v in values)
        return f"= {shown}" if size == 1 and not tensor.shape.dims else f"= [{shown}]"
    return _shape_text(tensor.shape, tensor.dtype)


def _number(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, bytes):
        return repr(v.decode("utf-8", "replace"))[:20]
    return str(v)
