"""Which variable each resource handle of a graph stands for, in A's names.

TensorFlow numbers variable handles and captured arguments in creation order
(``Variable_3``, ``read_4_disablecopyonread_dense_1_kernel_1``), so two exports of one model
can hand the same variable to a function at another position. Comparing graphs by the
variable a handle binds to, rather than by its name or position, makes that order invisible.

Sources: the checkpoint's TrackableObjectGraph (a handle's ``shared_name`` is the
``full_name`` stored beside its checkpoint key), the object graph's ``bound_inputs`` of
each concrete function, and the call sites that pass a bound handle on to a callee.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from smlens.core.diff.function_matching import split_input
from smlens.core.errors import SmlensError
from smlens.core.formats import proto
from smlens.core.model import FuncRef, MetaGraph, Model, Node

_INDEX = re.compile(r"/\d+/")
_HANDLE_OPS = {"VarHandleOp", "VariableV2", "Variable"}


def key_pattern(key: str) -> str:
    """A checkpoint key with its list indices blanked: ``variables/*/.ATTRIBUTES/...``."""
    return _INDEX.sub("/*/", key)


@dataclass
class Bindings:
    """One meta graph's handles and captured arguments, named by variable.

    ``handles``: main-graph handle node -> (variable name, key pattern); ``args``: function
    -> argument index -> variable name. Names are A's (B's are mapped through the variable
    pairing), so equal labels on both sides mean the same variable.
    """

    handles: dict[str, tuple[str, str]] = field(default_factory=dict)
    args: dict[str, dict[int, str]] = field(default_factory=dict)

    def arg_label(self, function: str, index: int) -> str | None:
        return self.args.get(function, {}).get(index)


def _shared_name(node: Node) -> str:
    if node._attr_proto is None or "shared_name" not in node._attr_proto:
        return ""
    value = node.attrs.get("shared_name")
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")


def _saved_object_graph(mg: MetaGraph):
    """The TrackableObjectGraph the export's saver writes: a string Const fed to the save
    call, naming each handle of this graph (the checkpoint's own copy keeps the names of the
    variables the export was traced from, which can differ)."""
    if mg.saver is None:
        return None
    nodes = {n.name: n for n in mg.graph.nodes}
    call = nodes.get(split_input(mg.saver.save_tensor_name)[1])
    for ref in call.data_inputs if call is not None else ():
        const = nodes.get(split_input(ref)[1])
        if const is None or const.op != "Const":
            continue
        try:
            value = const.attrs["value"].numpy().reshape(-1)
            if value.size == 1 and isinstance(value[0], bytes):
                return proto.TrackableObjectGraph.FromString(value[0])
        except (SmlensError, ValueError, DecodeError):  # not an object graph: the next input
            continue
    return None


def _full_names(model: Model, mg: MetaGraph) -> dict[str, str]:
    """``full_name`` -> checkpoint key, from the object graph the saver writes, else from
    the checkpoint's own."""
    graph = _saved_object_graph(mg)
    bundle = model.checkpoint
    if graph is None and bundle is not None and hasattr(bundle, "trackable_object_graph"):
        try:
            graph = bundle.trackable_object_graph()
        except SmlensError:  # an unreadable object graph: handles fall back to their names
            graph = None
    if graph is None:
        return {}
    return {
        attr.full_name: attr.checkpoint_key
        for node in graph.nodes
        for attr in node.attributes
        if attr.full_name
    }


def find_bindings(model: Model, mg: MetaGraph, rename: dict[str, str] | None = None) -> Bindings:
    """The bindings of ``mg``; ``rename`` maps this side's variable names to A's."""
    rename = rename or {}
    by_key = {v.key: v.name for v in model.variables}
    by_object = {v.object_id: v.name for v in model.variables if v.object_id is not None}
    full_names = _full_names(model, mg)
    bindings = Bindings()
    for node in mg.graph.nodes:
        if node.op not in _HANDLE_OPS:
            continue
        shared = _shared_name(node) or node.name
        key = full_names.get(shared)
        name = by_key.get(key) if key else by_key.get(shared)
        if name is not None:
            bindings.handles[node.name] = (rename.get(name, name), key_pattern(key or shared))
    if mg.object_graph is not None:
        for fn_name, spec in mg.object_graph.concrete_functions.items():
            fn = mg.functions.get(fn_name)
            if fn is None or not spec.bound_inputs:
                continue
            first = len(fn.inputs) - len(spec.bound_inputs)
            for i, object_id in enumerate(spec.bound_inputs):
                name = by_object.get(object_id)
                if name is not None and first + i >= 0:
                    bindings.args.setdefault(fn_name, {})[first + i] = rename.get(name, name)
    _through_calls(mg, bindings)
    return bindings


def callee_of(node: Node, library: dict) -> str | None:
    """The function a call node runs (its op, or its ``f`` attr), if any."""
    if node.op in library:
        return node.op
    if node._attr_proto is not None and "f" in node._attr_proto:
        f = node.attrs.get("f")
        return f.name if isinstance(f, FuncRef) else None
    return None


def _through_calls(mg: MetaGraph, bindings: Bindings) -> None:
    """Pass bindings from callers to callees: an input that is a bound handle or a bound
    argument binds the callee's argument at that position."""
    library = mg.functions
    callers: dict[str, list[Node]] = defaultdict(list)
    for node in mg.graph.nodes:
        callers[""].append(node)
    for fn in library.values():
        callers[fn.name] = fn.nodes
    queue = ["", *bindings.args]
    seen: set[str] = set()
    while queue:
        owner = queue.pop()
        if owner in seen:
            continue
        seen.add(owner)
        arg_index = {a.name: i for i, a in enumerate(library[owner].inputs)} if owner else {}
        for node in callers.get(owner, ()):
            callee = callee_of(node, library)
            if callee is None or callee not in library:
                continue
            for i, ref in enumerate(node.data_inputs):
                base = split_input(ref)[1]
                if owner == "":
                    label = bindings.handles.get(base, (None,))[0]
                else:
                    label = bindings.arg_label(owner, arg_index.get(base, -1))
                bound = bindings.args.setdefault(callee, {})
                if label is not None and i not in bound:
                    bound[i] = label
                    seen.discard(callee)
            queue.append(callee)
