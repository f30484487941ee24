"""Node-level differences: the main graph of each tag-set, and each matched function.

Nodes pair up by name, then leftovers by structural hash (a node renamed but otherwise the
same). A pair differs when its op, inputs, device or attrs differ once B's function names
are mapped to A's through the function matching and B's node and argument names through
the node pairing, so generated names alone never make a difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from smlens.core.diff.changes import Change, container
from smlens.core.diff.functions import (
    FunctionMatching,
    Hasher,
    attr_text,
    function_labels,
    match_functions,
    split_input,
    strip_uid,
)
from smlens.core.model import Function, MetaGraph, Node

_TEXT_LIMIT = 160


def _short(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def diff_tag_set_graphs(
    tag_set: str, a: MetaGraph, b: MetaGraph
) -> tuple[Change | None, Change | None, FunctionMatching]:
    """The functions container and the main-graph container of one tag-set present in both."""
    hash_a, hash_b = Hasher(a.graph), Hasher(b.graph)
    matching = match_functions(a, b, hash_a, hash_b)
    b_to_a = matching.b_to_a()
    labels_a = function_labels(a.functions, matching.roles_a)
    labels_b = function_labels(b.functions, matching.roles_b)
    base = ("functions", tag_set)
    changes = []
    for fa, (fb, _how) in sorted(matching.pairs.items(), key=lambda i: labels_a[i[0]]):
        if hash_a.function(fa) == hash_b.function(fb):
            continue
        change = _diff_function(
            (*base, labels_a[fa]), a.functions[fa], b.functions[fb], hash_a, hash_b, b_to_a
        )
        if change:
            changes.append(change)
    for name in matching.removed:
        changes.append(
            Change(
                (*base, labels_a[name]),
                "removed",
                before=name,
                reason=f"function {labels_a[name]} ({len(a.functions[name].nodes)} nodes) is no "
                "longer in the export",
            )
        )
    for name in matching.added:
        changes.append(
            Change(
                (*base, labels_b[name]),
                "added",
                after=name,
                reason=f"new function {labels_b[name]} ({len(b.functions[name].nodes)} nodes)",
            )
        )
    main = diff_nodes(
        ("graph", tag_set), a.graph.nodes, b.graph.nodes, hash_a, hash_b, b_to_a, {}, ""
    )
    return (
        container(base, changes, f"functions of {tag_set}"),
        container(("graph", tag_set), main, f"main graph of {tag_set}"),
        matching,
    )


def _diff_function(
    path: tuple[str, ...],
    fa: Function,
    fb: Function,
    hash_a: Hasher,
    hash_b: Hasher,
    b_to_a: dict[str, str],
) -> Change | None:
    """A matched function whose own body differs; None when only its callees do."""
    label = path[-1]
    args = {b.name: a.name for a, b in zip(fa.inputs, fb.inputs, strict=False)}
    nodes = diff_nodes(path, fa.nodes, fb.nodes, hash_a, hash_b, b_to_a, args, fa.name, fb.name)
    changes = _arg_changes(path, fa, fb)
    changes += _diff_attrs((*path, "attrs"), fa.attrs, fb.attrs, b_to_a, f"function {label}")
    change = container(path, changes + nodes, f"function {label}")
    if change is not None:
        change.before, change.after = fa.name, fb.name
        kinds = defaultdict(int)
        for c in nodes:
            kinds[c.kind] += 1
        counts = ", ".join(f"{n} nodes {kind}" for kind, n in sorted(kinds.items()))
        change.reason = f"function {label} changed" + (f": {counts}" if counts else "")
    return change


def _arg_changes(path: tuple[str, ...], fa: Function, fb: Function) -> list[Change]:
    """Argument types in order (input names are generated from node names), and outputs
    with their names (a signature wrapper's output names are the signature's keys)."""
    changes = []
    for what, before, after in (
        ("inputs", [_arg_type(a) for a in fa.inputs], [_arg_type(a) for a in fb.inputs]),
        (
            "outputs",
            [f"{a.name}: {_arg_type(a)}" for a in fa.outputs],
            [f"{a.name}: {_arg_type(a)}" for a in fb.outputs],
        ),
    ):
        if before != after:
            changes.append(
                Change(
                    (*path, what),
                    "changed",
                    before,
                    after,
                    reason=f"the {what} of function {path[-1]} changed",
                )
            )
    return changes


def _arg_type(arg) -> str:
    return arg.dtype or arg.type_attr or arg.type_list_attr


def diff_nodes(
    path: tuple[str, ...],
    nodes_a: list[Node],
    nodes_b: list[Node],
    hash_a: Hasher,
    hash_b: Hasher,
    b_to_a: dict[str, str],
    args_b2a: dict[str, str],
    owner_a: str,
    owner_b: str | None = None,
) -> list[Change]:
    """Added, removed and changed nodes of one graph body (a main graph or a function)."""
    by_a = {n.name: n for n in nodes_a}
    node_b2a = _pair_by_callee(nodes_a, nodes_b, hash_a.graph, hash_b.graph, b_to_a)
    paired_a = set(node_b2a.values())
    for nb in nodes_b:
        if nb.name in by_a and nb.name not in paired_a and nb.name not in node_b2a:
            node_b2a[nb.name] = nb.name
    paired_a = set(node_b2a.values())
    if len(paired_a) < len(nodes_a) and len(node_b2a) < len(nodes_b):
        node_b2a.update(
            _pair_by_hash(owner_a, nodes_a, owner_b or owner_a, nodes_b, hash_a, hash_b, node_b2a)
        )
    matched_a = set(node_b2a.values())

    def map_b(ref: str) -> str:
        control, base, port = split_input(ref)
        name = args_b2a.get(base) or node_b2a.get(base) or "new:" + base
        return ("^" if control else "") + name + port

    changes = []
    for nb in nodes_b:
        if nb.name in node_b2a:
            na = by_a[node_b2a[nb.name]]
            change = _diff_node((*path, na.name), na, nb, map_b, b_to_a)
            if change:
                changes.append(change)
    for na in nodes_a:
        if na.name not in matched_a:
            changes.append(
                Change(
                    (*path, na.name),
                    "removed",
                    before=strip_uid(na.op),
                    reason=f"node '{na.name}' ({strip_uid(na.op)}) removed",
                )
            )
    for nb in nodes_b:
        if nb.name not in node_b2a:
            changes.append(
                Change(
                    (*path, nb.name),
                    "added",
                    after=strip_uid(nb.op),
                    reason=f"node '{nb.name}' ({strip_uid(nb.op)}) added",
                )
            )
    return changes


def _pair_by_callee(nodes_a, nodes_b, graph_a, graph_b, b_to_a) -> dict[str, str]:
    """B name -> A name for nodes calling the same (matched) function, where only one node
    does on each side: call nodes are numbered in creation order (StatefulPartitionedCall_2),
    so a new signature shifts their names."""
    calls_a, calls_b = defaultdict(list), defaultdict(list)
    for node in nodes_a:
        if callee := _callee(node, graph_a):
            calls_a[callee].append(node.name)
    for node in nodes_b:
        if callee := _callee(node, graph_b):
            calls_b[b_to_a.get(callee, "new:" + callee)].append(node.name)
    return {
        calls_b[fn][0]: names[0]
        for fn, names in calls_a.items()
        if len(names) == 1 and len(calls_b.get(fn, ())) == 1
    }


def _callee(node: Node, graph) -> str | None:
    if node.op in graph.functions:
        return node.op
    if node._attr_proto is not None and "f" in node._attr_proto:
        f = node.attrs["f"]
        return getattr(f, "name", None)
    return None


def _pair_by_hash(
    owner_a, nodes_a, owner_b, nodes_b, hash_a, hash_b, paired: dict[str, str]
) -> dict[str, str]:
    """B name -> A name for unpaired nodes whose structural hash is unique on both sides."""
    args_a = _arg_labels(hash_a, owner_a)
    args_b = _arg_labels(hash_b, owner_b)
    ha = hash_a.node_hashes(owner_a, nodes_a, args_a)
    hb = hash_b.node_hashes(owner_b, nodes_b, args_b)
    taken_a = set(paired.values())
    groups_a, groups_b = defaultdict(list), defaultdict(list)
    for name, h in ha.items():
        if name not in taken_a:
            groups_a[h].append(name)
    for name, h in hb.items():
        if name not in paired:
            groups_b[h].append(name)
    return {
        groups_b[h][0]: names[0]
        for h, names in groups_a.items()
        if len(names) == 1 and len(groups_b.get(h, ())) == 1
    }


def _arg_labels(hasher: Hasher, owner: str) -> dict[str, str]:
    fn = hasher.graph.functions.get(owner)
    return {a.name: f"arg{i}" for i, a in enumerate(fn.inputs)} if fn else {}


def _diff_node(
    path: tuple[str, ...],
    na: Node,
    nb: Node,
    map_b: Callable[[str], str],
    b_to_a: dict[str, str],
) -> Change | None:
    name = na.name
    changes = []
    if na.op != b_to_a.get(nb.op, nb.op):
        changes.append(
            Change(
                (*path, "op"),
                "changed",
                strip_uid(na.op),
                strip_uid(nb.op),
                reason=f"node '{name}' now runs {strip_uid(nb.op)} instead of {strip_uid(na.op)}",
            )
        )
    data_b = [map_b(r) for r in nb.data_inputs]
    if na.data_inputs != data_b:
        changes.append(
            Change(
                (*path, "inputs"),
                "changed",
                na.data_inputs,
                nb.data_inputs,
                reason=f"node '{name}' reads different inputs",
            )
        )
    control_b = sorted(map_b("^" + r) for r in nb.control_inputs)
    if sorted("^" + r for r in na.control_inputs) != control_b:
        changes.append(
            Change(
                (*path, "control_inputs"),
                "changed",
                sorted(na.control_inputs),
                sorted(nb.control_inputs),
                reason=f"node '{name}' waits on different nodes",
            )
        )
    if na.device != nb.device:
        changes.append(
            Change(
                (*path, "device"),
                "changed",
                na.device,
                nb.device,
                reason=f"node '{name}' is placed on {nb.device or 'any device'} instead of "
                f"{na.device or 'any device'}",
            )
        )
    if not _same_attr_protos(na, nb):
        changes += _diff_attrs((*path, "attrs"), na.attrs, nb.attrs, b_to_a, f"node '{name}'")
    return container(path, changes, f"node '{name}' ({strip_uid(na.op)})")


def _same_attr_protos(na: Node, nb: Node) -> bool:
    if na._attr_proto is None or nb._attr_proto is None:
        return na._attr_proto is nb._attr_proto
    return na._attr_proto == nb._attr_proto


def _diff_attrs(
    path: tuple[str, ...], attrs_a: dict, attrs_b: dict, b_to_a: dict[str, str], owner: str
) -> list[Change]:
    """Attrs added, removed or changed, comparing B's function references as A's names."""

    def fn_b2a(name: str) -> str:
        return b_to_a.get(name, "new:" + name)

    changes = []
    for key in sorted(attrs_a.keys() | attrs_b.keys()):
        in_a, in_b = key in attrs_a, key in attrs_b
        if in_a and in_b:
            if attr_text(attrs_a[key], str) == attr_text(attrs_b[key], fn_b2a):
                continue
            kind = "changed"
        else:
            kind = "removed" if in_a else "added"
        before = _short(attr_text(attrs_a[key])) if in_a else None
        after = _short(attr_text(attrs_b[key])) if in_b else None
        changes.append(
            Change(
                (*path, key),
                kind,
                before,
                after,
                reason=f"attr {key} of {owner} {kind}",
            )
        )
    return changes
