"""Op graphs made in pure Python (no TensorFlow) for core graph tests."""

from __future__ import annotations

from pathlib import Path

from smlens.core.formats import proto
from smlens.core.formats.convert import convert_node
from smlens.core.graph.build import OpGraph, build_graph
from smlens.core.graph.nav import GraphRef, LoadedGraph
from smlens.core.graph.scopes import build_hierarchy
from smlens.core.model import Graph, MetaGraph, Model


def main_graph(names_and_inputs: list[tuple[str, list[str]]], ops: dict | None = None) -> OpGraph:
    """A main graph of Placeholders (no inputs) and Identities (or ``ops[name]``), float."""
    nodes = []
    for name, inputs in names_and_inputs:
        op = (ops or {}).get(name) or ("Identity" if inputs else "Placeholder")
        node_def = proto.NodeDef(name=name, op=op)
        node_def.input.extend(inputs)
        node_def.attr["T" if inputs else "dtype"].type = 1
        nodes.append(convert_node(node_def))
    mg = MetaGraph(tags=[], signatures={}, graph=Graph(nodes=nodes, functions={}))
    return build_graph(Model(path=Path("."), format="graph_def"), mg)


def loaded(names_and_inputs, ops: dict | None = None, function: str = "") -> LoadedGraph:
    graph = main_graph(names_and_inputs, ops)
    return LoadedGraph(GraphRef("", function), graph, build_hierarchy(graph))
