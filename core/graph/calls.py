"""Which functions call which: call edges through op names and func attrs.

The one place that says what a node calls: the graph builder (``node_callees``) and the
functions panel and diff (``find_calls``) both read it.
"""

from __future__ import annotations

from typing import NamedTuple

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
    found = [Callee("", node.op)] if node.op in library else []
    attrs = node._attr_proto
    if attrs is None:
        return tuple(found)
    spec = op_spec(node.op)
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
    calls = [
        Call("", n.name, c.attr, c.function) for n in graph.nodes for c in node_callees(n, library)
    ]
    for fn in library.values():
        for n in fn.nodes:
            calls.extend(
                Call(fn.name, n.name, c.attr, c.function) for c in node_callees(n, library)
            )
    return calls


def callees(graph: Graph, caller: str) -> list[str]:
    return sorted({c.callee for c in find_calls(graph) if c.caller == caller})


def callers(graph: Graph, callee: str) -> list[str]:
    return sorted({c.caller for c in find_calls(graph) if c.callee == callee})
