"""The graph library's functions as a table: each one's call edges and the signatures or
concrete functions that run it (the Functions panel's rows, computed without Qt)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from smlens.core.graph.calls import find_calls
from smlens.core.model import ArgDef, Function, MetaGraph, Model
from smlens.core.model.text import short_dtype


@dataclass
class FunctionRow:
    """One library function of one meta graph, with its call edges and entry points."""

    tag_set: str
    function: Function
    callers: list[str] = field(default_factory=list)  # "" is the main graph
    callees: list[str] = field(default_factory=list)
    runs_for: list[str] = field(default_factory=list)  # "signature serving_default", ...

    @property
    def name(self) -> str:
        return self.function.name


def entry_points(mg: MetaGraph) -> dict[str, list[str]]:
    """Function name -> the signatures and object-graph functions that run it.

    A signature output such as "StatefulPartitionedCall:0" names a main-graph node whose
    ``f`` attr is the function; concrete functions are named in the object graph.
    """
    nodes = {node.name: node for node in mg.graph.nodes}
    found: dict[str, list[str]] = defaultdict(list)

    def add(tensor_names: set[str], label: str) -> None:
        for node_name in sorted({n.split(":")[0].lstrip("^") for n in tensor_names}):
            f = getattr(nodes.get(node_name), "attrs", {}).get("f")
            if getattr(f, "name", None) in mg.functions and label not in found[f.name]:
                found[f.name].append(label)

    for key, sig in mg.signatures.items():
        names = {info.name for info in sig.outputs.values() if info.name}
        add(
            names | {c.name for info in sig.outputs.values() for c in info.components},
            f"signature {key}",
        )
    if mg.saver is not None:
        add({mg.saver.save_tensor_name}, "saver: save")
        add({mg.saver.restore_op_name}, "saver: restore")
    graph = mg.object_graph
    if graph is not None:
        traces = {i for n in graph.nodes if n.kind == "function" for _, i in n.children}
        signature_maps = {n.id for n in graph.nodes if n.identifier == "signature_map"}
        in_maps = {i for n in graph.nodes if n.id in signature_maps for _, i in n.children}
        for node in graph.nodes:
            if node.id in traces or node.id in in_maps:
                continue  # a trace of a function listed itself, or a signature seen above
            for name in node.concrete_functions:
                found[name].append(node.path + ("()" if node.kind == "function" else ""))
    return dict(found)


def function_rows(model: Model | None) -> list[FunctionRow]:
    rows = []
    for mg in model.meta_graphs if model else []:
        if not mg.functions:  # no rows, and no pass over (nor conversion of) the main graph
            continue
        callers, callees = defaultdict(set), defaultdict(set)
        for call in find_calls(mg.graph):
            callers[call.callee].add(call.caller)
            callees[call.caller].add(call.callee)
        entries = entry_points(mg)
        for name, fn in sorted(mg.functions.items()):
            rows.append(
                FunctionRow(
                    mg.tag_set,
                    fn,
                    sorted(callers[name]),
                    sorted(callees[name]),
                    entries.get(name, []),
                )
            )
    return rows


def describe_args(args: list[ArgDef]) -> list[str]:
    """ "name: float32" per argument; attr-typed ones name their type attr."""
    out = []
    for arg in args:
        kind = short_dtype(arg.dtype) if arg.dtype else arg.type_attr or arg.type_list_attr
        if arg.number_attr:
            kind = f"{arg.number_attr} x {kind}"
        out.append(f"{arg.name}: {kind or '?'}")
    return out
