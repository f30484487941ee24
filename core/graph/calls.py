"""Which functions call which: call edges through op names and func attrs."""

from __future__ import annotations

from smlens.core.formats.attrs import func_names
from smlens.core.model import Call, Graph, Node


def _node_calls(caller: str, node: Node, library: dict) -> list[Call]:
    calls = []
    if node.op in library:  # a node whose op is a library function calls it directly
        calls.append(Call(caller, node.name, "", node.op))
    if node._attr_proto is None:
        return calls
    for attr, value in node._attr_proto.items():
        kind = value.WhichOneof("value")
        if kind == "func" or (kind == "list" and len(value.list.func)):
            calls.extend(
                Call(caller, node.name, attr, name) for name in func_names(node.attrs[attr])
            )
    return calls


def find_calls(graph: Graph) -> list[Call]:
    """Every call edge of a graph: from its main nodes (caller "") and from each function.

    Covers PartitionedCall ``f``, While ``body``/``cond``, If ``then_branch``/``else_branch``,
    Case ``branches``, and any other func or list(func) attr. Computed once per graph and
    kept on it (``Graph.call_index``).
    """
    if graph.call_index is None:
        graph.call_index = _all_calls(graph)
    return graph.call_index


def _all_calls(graph: Graph) -> list[Call]:
    calls = []
    for node in graph.nodes:
        calls.extend(_node_calls("", node, graph.functions))
    for fn in graph.functions.values():
        for node in fn.nodes:
            calls.extend(_node_calls(fn.name, node, graph.functions))
    return calls


def callees(graph: Graph, caller: str) -> list[str]:
    return sorted({c.callee for c in find_calls(graph) if c.caller == caller})


def callers(graph: Graph, callee: str) -> list[str]:
    return sorted({c.caller for c in find_calls(graph) if c.callee == callee})
