"""Which functions call which: call edges through op names and func attrs.

The one place that says what a node calls: the graph builder (``node_callees``) and the
functions panel and diff (``find_calls``) both read it.
"""

from __future__ import annotations

from typing import NamedTuple

from smlens.core.formats.convert import node_defs
from smlens.core.graph.opdefs import op_spec
from smlens.core.model import Call, Function, Graph, Node


class Callee(NamedTuple):
    attr: str  # "f", "body", "then_branch", "branches"; "" when the op names the function
    function: str


def node_callees(node: Node, library: dict[str, Function]) -> tuple[Callee, ...]:
    """The functions ``node`` calls: its op when that is a library function, and every
    function in a func or list(func) attr.

    A registered op can hold functions only in the attrs its OpDef types func or list(func),
    so only those are read; a custom op or a function call (no OpDef) may hold one in any
    attr, so all of its attrs are.
    """
    return op_callees(node.op, node._attr_proto, library)


def op_callees(op: str, attrs, library: dict[str, Function]) -> tuple[Callee, ...]:
    """node_callees of a node given by its op and its attr map (a NodeDef's ``attr``)."""
    found = [Callee("", op)] if op in library else []
    if attrs is None:
        return tuple(found)
    spec = op_spec(op)
    names = list(attrs) if spec is None else spec.func_attrs
    for name in names:
        if name not in attrs:
            continue
        value = attrs[name]
        kind = value.WhichOneof("value")
        if kind == "func":
            found.append(Callee(name, value.func.name))
        elif kind == "list":
            found.extend(Callee(name, f.name) for f in value.list.func)
    return tuple(found)


def find_calls(graph: Graph) -> list[Call]:
    """Every call edge of a graph: from its main nodes (caller "") and from each function.

    Covers PartitionedCall ``f``, While ``body``/``cond``, If ``then_branch``/``else_branch``,
    Case ``branches``, and any other func or list(func) attr. A whole-graph pass (seconds on
    a 140,000-op model): run it in the loader or a task, never on the UI thread. Computed
    once per graph and kept on it (``Graph.call_index``).
    """
    if graph.call_index is None:
        graph.call_index = _all_calls(graph)
    return graph.call_index


def _all_calls(graph: Graph) -> list[Call]:
    library = graph.functions
    calls = _main_calls(graph)
    for fn in library.values():
        for n in fn.nodes:
            calls.extend(
                Call(fn.name, n.name, c.attr, c.function) for c in node_callees(n, library)
            )
    return calls


def _main_calls(graph: Graph) -> list[Call]:
    """The main graph's calls, read from its NodeDefs while a lazy graph still holds them
    (converting a million nodes to find no call cost 4 s and 600 MiB)."""
    library = graph.functions
    defs = node_defs(graph)
    if defs is None:
        return [
            Call("", n.name, c.attr, c.function)
            for n in graph.nodes
            for c in node_callees(n, library)
        ]
    calls = []
    for d in defs:
        op = d.op
        spec = op_spec(op)
        if spec is not None and not spec.func_attrs and op not in library:
            continue  # most nodes: an op that holds no function and is no call
        calls.extend(Call("", d.name, c.attr, c.function) for c in op_callees(op, d.attr, library))
    return calls


def callees(graph: Graph, caller: str) -> list[str]:
    return sorted({c.callee for c in find_calls(graph) if c.caller == caller})


def callers(graph: Graph, callee: str) -> list[str]:
    return sorted({c.caller for c in find_calls(graph) if c.callee == callee})
