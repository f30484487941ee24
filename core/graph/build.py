"""The op graph of a main graph or library function: every NodeDef a node, every tensor an edge.

Stage two of the graph view (parse → graph → name scopes → layout → render), after
TensorBoard's graph plugin: plain data built from the neutral model, so scopes.py and
layout.py are tested without a window and the Qt view only paints what they return.
Nodes and edges are compact records with integer ids rather than a networkx graph: at
100,000 ops networkx alone takes about a second to build, more than the rest of this module.
``OpGraph.to_networkx`` gives the networkx view for analysis. An edge's dtype and shape are
decoded when asked for, since decoding every node's attrs up front costs seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from smlens.core.errors import Problem
from smlens.core.formats.attrs import decode_shape
from smlens.core.formats.convert import find_node
from smlens.core.graph.calls import Callee, node_callees
from smlens.core.graph.opdefs import arg_types, flat_args, op_spec, raw_attr
from smlens.core.model import Call, Function, MetaGraph, Model, Node, Shape
from smlens.core.model.dtypes import dtype as lookup_dtype
from smlens.core.tasks import gc_paused

# Ops whose func attr runs the callee on the op's own inputs, shifted by this many leading
# inputs (If/Case take the branch selector first). Other func attrs (datasets, XLA) differ.
_CALL_INPUT_SHIFT = {
    "PartitionedCall": 0,
    "StatefulPartitionedCall": 0,
    "While": 0,
    "StatelessWhile": 0,
    "If": 1,
    "StatelessIf": 1,
    "Case": 1,
    "StatelessCase": 1,
}
_VARIABLE_OPS = frozenset({"VarHandleOp", "VariableV2", "Variable", "VarHandleOpV2"})


class Edge(NamedTuple):
    """A tensor (or a control dependency) from one node to another, by node id."""

    src: int
    dst: int
    src_output: int  # flat output index of src; -1 on control edges
    dst_input: int  # position among dst's data inputs; -1 on control edges

    @property
    def control(self) -> bool:
        return self.src_output < 0


class TensorType(NamedTuple):
    dtype: str  # enum name, "DT_FLOAT"; "" when the graph does not say
    shape: Shape | None  # None when the export kept no _output_shapes


@dataclass(slots=True)
class OpNode:
    """One node of the op graph: a NodeDef, or a function's argument or return value."""

    name: str
    op: str  # op type; "_Arg" / "_Retval" for arguments and return values, as TF names them
    kind: str = "op"  # "op" | "arg" | "ret"
    node: Node | None = None  # the NodeDef; None for args and rets
    index: int = -1  # position among the function's inputs (args) or outputs (rets)
    callees: tuple[Callee, ...] = ()
    variable_key: str | None = None  # checkpoint key of the variable this node reads or is


@dataclass
class OpGraph:
    """Nodes and edges of one graph, with the tensor types and links the inspector shows."""

    function: str  # library function name; "" for the meta graph's main graph
    nodes: list[OpNode]
    edges: list[Edge]
    index: dict[str, int]  # node name -> id
    library: dict[str, Function] = field(repr=False, default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    control_outputs: dict[str, str] = field(default_factory=dict)  # FunctionDef.control_ret
    _types: dict[int, list[TensorType]] = field(default_factory=dict, repr=False)
    _dtypes: dict[int, list[str]] = field(default_factory=dict, repr=False)

    def node(self, name: str) -> OpNode:
        return self.nodes[self.index[name]]

    @cached_property
    def in_edges(self) -> list[list[int]]:
        """Per node id, the ids of its incoming edges."""
        lists: list[list[int]] = [[] for _ in self.nodes]
        for i, e in enumerate(self.edges):
            lists[e.dst].append(i)
        return lists

    @cached_property
    def out_edges(self) -> list[list[int]]:
        lists: list[list[int]] = [[] for _ in self.nodes]
        for i, e in enumerate(self.edges):
            lists[e.src].append(i)
        return lists

    def outputs(self, node_id: int) -> list[TensorType]:
        """The types of a node's outputs, from its attrs, its OpDef or the function signature."""
        if node_id not in self._types:
            self._types[node_id] = self._output_types(self.nodes[node_id])
        return self._types[node_id]

    def edge_dtype(self, edge: Edge) -> str:
        """The dtype an edge carries, without decoding shapes: what folded edges need."""
        if edge.control:
            return ""
        if edge.src not in self._dtypes:
            n = self.nodes[edge.src]
            if n.kind == "op":
                self._dtypes[edge.src] = _output_dtypes(n.node, self.library)
            else:
                self._dtypes[edge.src] = [t.dtype for t in self.outputs(edge.src)]
        dtypes = self._dtypes[edge.src]
        return dtypes[edge.src_output] if edge.src_output < len(dtypes) else ""

    def edge_tensor(self, edge: Edge) -> TensorType:
        """The dtype and shape an edge carries; empty for control edges."""
        if edge.control:
            return TensorType("", None)
        types = self.outputs(edge.src)
        return types[edge.src_output] if edge.src_output < len(types) else TensorType("", None)

    @property
    def calls(self) -> list[Call]:
        return [
            Call(self.function, n.name, c.attr, c.function) for n in self.nodes for c in n.callees
        ]

    def to_networkx(self):
        """A networkx.MultiDiGraph keyed by node name, with every edge's tensor type."""
        import networkx as nx

        g = nx.MultiDiGraph(function=self.function)
        g.add_nodes_from((n.name, {"op": n.op, "kind": n.kind}) for n in self.nodes)
        for e in self.edges:
            t = self.edge_tensor(e)
            g.add_edge(
                self.nodes[e.src].name,
                self.nodes[e.dst].name,
                src_output=e.src_output,
                dst_input=e.dst_input,
                dtype=t.dtype,
                shape=t.shape,
                control=e.control,
            )
        return g

    def _output_types(self, n: OpNode) -> list[TensorType]:
        if n.kind == "ret":
            return []
        if n.kind == "arg":
            fn = self.library[self.function]
            shapes = fn.arg_attrs.get(n.index, {}).get("_output_shapes") or [None]
            return [TensorType(fn.inputs[n.index].dtype, shapes[0])]
        shapes = _output_shapes(n.node)
        dtypes = _output_dtypes(n.node, self.library)
        return [
            TensorType(dtypes[k] if k < len(dtypes) else "", shapes[k] if k < len(shapes) else None)
            for k in range(max(len(shapes), len(dtypes)))
        ]


def _output_dtypes(node: Node, library: dict[str, Function]) -> list[str]:
    if node.op in library:
        return [a.dtype for a in library[node.op].outputs]
    spec = op_spec(node.op)
    if spec is None:
        return []
    return [lookup_dtype(t).name if t else "" for _, t in flat_args(node, spec, spec.outputs)]


def _output_shapes(node: Node) -> list[Shape]:
    attrs = node._attr_proto
    if attrs is None or "_output_shapes" not in attrs:
        return []
    return [decode_shape(s) for s in attrs["_output_shapes"].list.shape]


def _output_offset(node: Node, out_arg: str, library: dict[str, Function]) -> int | None:
    """Flat index of the first tensor of output arg ``out_arg`` ("node:out_arg:idx" syntax)."""
    if node.op in library:
        names = [a.name for a in library[node.op].outputs]
        return names.index(out_arg) if out_arg in names else None
    spec = op_spec(node.op)
    if spec is None:
        return None
    if spec.static_offsets is not None:
        return spec.static_offsets.get(out_arg)
    start = 0
    for arg in spec.outputs:
        if arg.name == out_arg:
            return start
        start += len(arg_types(node, spec, arg))
    return None


# --- Building -----------------------------------------------------------------------------


class _Builder:
    """Turns NodeDef input strings into edges, for the main graph or one FunctionDef."""

    def __init__(self, label: str, library: dict[str, Function], in_function: bool):
        self.label, self.library, self.in_function = label, library, in_function
        self.nodes: list[OpNode] = []
        self.index: dict[str, int] = {}
        self.edges: list[Edge] = []
        self.problems: list[Problem] = []

    def add(self, node: OpNode) -> int:
        if node.name in self.index:  # a malformed graph: inputs reach the later one
            self.problems.append(Problem("graph", self._where(node.name), "duplicate name"))
        self.index[node.name] = len(self.nodes)
        self.nodes.append(node)
        return len(self.nodes) - 1

    def connect(self, dst: int, inputs: list[str]) -> None:
        position = 0
        for text in inputs:
            if text.startswith("^"):
                src = self._lookup(text[1:], text, dst)
                if src is not None:
                    self.edges.append(Edge(src, dst, -1, -1))
                continue
            resolved = self.resolve(text, dst)
            if resolved is not None:
                self.edges.append(Edge(resolved[0], dst, resolved[1], position))
            position += 1

    def resolve(self, text: str, dst: int) -> tuple[int, int] | None:
        """(source node id, flat output index) of a data input string."""
        parts = text.split(":")
        src = self._lookup(parts[0], text, dst)
        if src is None:
            return None
        if len(parts) == 1:
            return src, 0
        if not parts[-1].isdigit():
            self._problem(dst, f"input {text!r}: {parts[-1]!r} is not an output index")
            return None
        if len(parts) == 2 or not self.in_function:
            return src, int(parts[-1])
        node = self.nodes[src].node
        offset = None if node is None else _output_offset(node, parts[1], self.library)
        if offset is None:
            self._problem(dst, f"input {text!r}: output {parts[1]!r} is not in its op's OpDef")
            return src, int(parts[2])
        return src, offset + int(parts[2])

    def _lookup(self, name: str, text: str, dst: int) -> int | None:
        src = self.index.get(name)
        if src is None:
            self._problem(dst, f"input {text!r} names no node")
        return src

    def _problem(self, dst: int, message: str) -> None:
        self.problems.append(Problem("graph", self._where(self.nodes[dst].name), message))

    def _where(self, node: str) -> str:
        return f"{self.label}/{node}" if self.label else node


def _add_nodes(builder: _Builder, nodes: list[Node]) -> None:
    library = builder.library
    for n in nodes:
        builder.add(OpNode(n.name, n.op, node=n, callees=node_callees(n, library)))


def _connect_all(builder: _Builder, nodes: list[Node], first: int) -> None:
    for i, n in enumerate(nodes, start=first):
        builder.connect(i, n.inputs)


def _unique(name: str, taken: dict[str, int]) -> str:
    while name in taken:
        name += "_ret"
    return name


def _build_function(fn: Function, library: dict[str, Function]) -> _Builder:
    b = _Builder(fn.name, library, in_function=True)
    for i, arg in enumerate(fn.inputs):
        b.add(OpNode(arg.name, "_Arg", "arg", index=i))
    first = len(b.nodes)
    _add_nodes(b, fn.nodes)
    _connect_all(b, fn.nodes, first)
    for i, out in enumerate(fn.outputs):
        ret = b.add(OpNode(_unique(out.name, b.index), "_Retval", "ret", index=i))
        if out.name in fn.ret:
            b.connect(ret, [fn.ret[out.name]])
    return b


def build_graph(
    model: Model | None, meta_graph: MetaGraph, function_name: str | None = None
) -> OpGraph:
    """The op graph of ``meta_graph``'s main graph, or of the library function named so.

    ``model`` gives the checkpoint keys variables link to (None: no links). Object-graph
    concrete function names are library function names, so they work here too. Raises
    KeyError for a name the library does not hold; broken inputs become ``problems``.
    """
    library = meta_graph.functions
    with gc_paused():
        if function_name:
            b = _build_function(library[function_name], library)
        else:
            b = _Builder("", library, in_function=False)
            _add_nodes(b, meta_graph.graph.nodes)
            _connect_all(b, meta_graph.graph.nodes, 0)
    graph = OpGraph(function_name or "", b.nodes, b.edges, b.index, library, b.problems)
    if function_name:
        graph.control_outputs = dict(library[function_name].control_ret)
    _link_variables(graph, model, meta_graph)
    return graph


def find_function_for_signature(meta_graph: MetaGraph, signature_key: str) -> str:
    """The library function a signature runs: its first output's main-graph node's ``f``.

    Returns "" when the signature reads the main graph itself (TF1 exports); raises KeyError
    for an unknown key or a signature with no outputs.
    """
    sig = meta_graph.signatures[signature_key]
    for info in sig.outputs.values():
        if not info.name:
            continue
        name = info.name.split(":")[0]
        node = find_node(meta_graph.graph, name)  # a lazy graph stays unconverted
        if node is None:
            raise KeyError(f"signature {signature_key!r}: output node {name!r} is not in the graph")
        for callee in node_callees(node, meta_graph.functions):
            if callee.attr in ("f", ""):
                return callee.function
        return ""
    raise KeyError(f"signature {signature_key!r} has no output tensor to follow")


def find_function_for_concrete(meta_graph: MetaGraph, name: str) -> str:
    """The library function of an object-graph concrete function: the same name, checked."""
    if name not in meta_graph.functions:
        raise KeyError(f"no library function named {name!r}")
    return name


# --- Variables ----------------------------------------------------------------------------


def _keys_by_object(model: Model) -> dict[int, str]:
    keys: dict[int, str] = {}
    for v in sorted(model.variables, key=lambda v: v.key):
        if v.object_id is not None and v.slot_of is None:
            keys.setdefault(v.object_id, v.key)
    return keys


def _bound_arg_keys(model: Model, meta_graph: MetaGraph) -> dict[str, dict[int, str]]:
    """Per concrete function, argument index -> checkpoint key of the variable it captures.

    A concrete function's bound inputs are its LAST len(bound_inputs) inputs
    (SavedConcreteFunction.bound_inputs), each an object graph node id.
    """
    og = meta_graph.object_graph
    if og is None:
        return {}
    keys = _keys_by_object(model)
    found: dict[str, dict[int, str]] = {}
    for name, cf in og.concrete_functions.items():
        fn = meta_graph.functions.get(name)
        if fn is None or not cf.bound_inputs:
            continue
        first = len(fn.inputs) - len(cf.bound_inputs)
        args = {first + j: keys[i] for j, i in enumerate(cf.bound_inputs) if i in keys}
        if args:
            found[name] = args
    return found


def _main_variable_keys(model: Model, meta_graph: MetaGraph, bound) -> dict[str, str]:
    """Main-graph variable nodes -> checkpoint key: by shared_name or node name (TF1), or by
    the captured argument of a concrete function the handle is passed to (TF2)."""
    checkpoint_keys = {v.key for v in model.variables}
    found: dict[str, str] = {}
    for node in meta_graph.graph.nodes:
        if node.op in _VARIABLE_OPS:
            shared = raw_attr(node, None, "shared_name")
            shared_name = shared.s.decode("utf-8", "replace") if shared is not None else ""
            for candidate in (shared_name, node.name):
                if candidate in checkpoint_keys:
                    found[node.name] = candidate
                    break
        for callee in node_callees(node, meta_graph.functions):
            args = bound.get(callee.function, {})
            for position, text in enumerate(node.data_inputs):
                key = args.get(position - _CALL_INPUT_SHIFT.get(node.op, 0))
                if key is not None:
                    found.setdefault(text.split(":")[0], key)
    return found


def _arg_keys_through_calls(meta_graph: MetaGraph, bound, main) -> dict[str, dict[int, str]]:
    """Argument keys carried from callers into callees (While bodies, If branches, inner calls),
    until nothing new is learnt.

    Only callers that hold a variable (the main graph, and functions with a keyed argument)
    are read, each again only when it learns a new key: no whole-library pass (find_calls),
    so building one function's graph costs what its callers hold, not the whole model.
    """
    known = {name: dict(args) for name, args in bound.items()}
    library = meta_graph.functions
    queue = ["", *known]
    queued = set(queue)
    while queue:
        caller = queue.pop()
        queued.discard(caller)
        fn = library.get(caller) if caller else None
        if caller and fn is None:
            continue
        for node in fn.nodes if fn is not None else meta_graph.graph.nodes:
            shift = _CALL_INPUT_SHIFT.get(node.op, 0)
            for call in node_callees(node, library):
                callee = library.get(call.function)
                if callee is None or (call.attr and node.op not in _CALL_INPUT_SHIFT):
                    continue  # a dataset or XLA function: its arguments are not the inputs
                for position, key in _input_keys(node, known.get(caller), fn, main).items():
                    arg = position - shift
                    if 0 <= arg < len(callee.inputs) and arg not in known.get(call.function, {}):
                        known.setdefault(call.function, {})[arg] = key
                        if call.function not in queued:
                            queue.append(call.function)
                            queued.add(call.function)
    return known


def _input_keys(node: Node, arg_keys, caller: Function | None, main) -> dict[int, str]:
    """Data input position -> variable key, for inputs fed by a known variable."""
    found = {}
    arg_index = {a.name: i for i, a in enumerate(caller.inputs)} if caller else {}
    for position, text in enumerate(node.data_inputs):
        name = text.split(":")[0]
        if caller is None:
            key = main.get(name)
        else:
            key = (arg_keys or {}).get(arg_index.get(name, -1)) if ":" not in text else None
        if key is not None:
            found[position] = key
    return found


def _link_variables(graph: OpGraph, model: Model | None, meta_graph: MetaGraph) -> None:
    """Set ``variable_key`` on variable nodes, captured args and the nodes reading them."""
    if model is None or not model.variables:
        return
    bound = _bound_arg_keys(model, meta_graph)
    main = _main_variable_keys(model, meta_graph, bound)
    if graph.function:
        args = _arg_keys_through_calls(meta_graph, bound, main).get(graph.function, {})
        for n in graph.nodes:
            if n.kind == "arg":
                n.variable_key = args.get(n.index)
    else:
        for n in graph.nodes:
            n.variable_key = main.get(n.name)
    _mark_readers(graph)


def _mark_readers(graph: OpGraph) -> None:
    """Nodes fed a variable's resource handle or reference directly get its key too (one
    hop: ReadVariableOp, AssignVariableOp, TF1's "w/read"); calls pass it on, not read it."""
    keyed = {i for i, n in enumerate(graph.nodes) if n.variable_key}
    for e in graph.edges:
        if e.control or e.src not in keyed:
            continue
        dst = graph.nodes[e.dst]
        if dst.variable_key or dst.callees:
            continue
        dtype = graph.edge_dtype(e)
        if dtype in ("DT_RESOURCE", "") or dtype.endswith("_REF"):
            dst.variable_key = graph.nodes[e.src].variable_key
