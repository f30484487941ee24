"""The nodes of one graph body that were added, removed or changed, once paired (node_pairing.py).

A pair differs when its op, inputs, device or attrs differ once B's function names are
mapped to A's through the function matching, so generated names alone never make a
difference. A call's inputs bound to variables count as a set, since TensorFlow picks the
order it passes captures in. Changes no client sees are marked as annotations: ``_``-prefixed
attrs, an op in a newer version, a variable handle's name, and the saver's plumbing (what the
main graph feeds the saver functions, reported once as the saver function's change). The
value and dtype of a frozen weight (a Const node the variables area pairs,
``GraphContext.constant_pairs``) are reported once, by that area (a value delta, a new dtype
or shape), not again as changed attrs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable

from smlens.core.diff.bindings import callee_of
from smlens.core.diff.changes import Change, container
from smlens.core.diff.function_matching import attr_text, split_input, strip_uid
from smlens.core.diff.node_pairing import Body, pair_nodes
from smlens.core.diff.saver import is_saver
from smlens.core.model import Node

_TEXT_LIMIT = 160
_VERSION = re.compile(r"V\d+$")
_CALL_LIST_ATTRS = ("Tin", "Tout")


def op_version_rename(op_a: str, op_b: str) -> bool:
    """Add -> AddV2, BatchMatMulV2 -> BatchMatMulV3: the same op in a newer version."""
    return op_a != op_b and _VERSION.sub("", op_a) == _VERSION.sub("", op_b)


def diff_nodes(
    path: tuple[str, ...], nodes_a: list[Node], nodes_b: list[Node], body: Body
) -> list[Change]:
    """Added, removed and changed nodes of one graph body (a main graph or a function)."""
    by_a = {n.name: n for n in nodes_a}
    node_b2a = pair_nodes(nodes_a, nodes_b, body)
    matched_a = set(node_b2a.values())

    def map_b(ref: str) -> str:
        control, base, port = split_input(ref)
        name = body.args_b2a.get(base) or node_b2a.get(base) or "new:" + base
        return ("^" if control else "") + name + port

    saver_only = _saver_plumbing(nodes_a, body, "a") | _saver_plumbing(nodes_b, body, "b")
    saver_only |= {node_b2a.get(n, n) for n in saver_only}
    changes = []
    for nb in nodes_b:
        if nb.name in node_b2a:
            na = by_a[node_b2a[nb.name]]
            change = _diff_node((*path, na.name), na, nb, map_b, body)
            if change:
                if na.name in saver_only or nb.name in saver_only:
                    _mark(change, "saver plumbing")
                changes.append(change)
    changes += [_one_sided(path, na, "removed") for na in nodes_a if na.name not in matched_a]
    changes += [_one_sided(path, nb, "added") for nb in nodes_b if nb.name not in node_b2a]
    return changes


def _one_sided(path: tuple[str, ...], node: Node, kind: str) -> Change:
    """A node that only A ("removed") or only B ("added") has."""
    op = strip_uid(node.op)
    before, after = (op, None) if kind == "removed" else (None, op)
    return Change(
        (*path, node.name), kind, before, after, reason=f"node '{node.name}' ({op}) {kind}"
    )


def _mark(change: Change, kind: str) -> None:
    for c in change.walk():
        c.annotation = kind


def _saver_plumbing(nodes: list[Node], body: Body, side: str) -> set[str]:
    """Main-graph calls of saver functions, and the nodes only they read (the serialized
    object graph fed to SaveV2, the file name placeholder): what they hold is the saver's
    business, reported once as the saver function's change."""
    if (body.owner_a if side == "a" else body.owner_b) != "":
        return set()
    graph = (body.hash_a if side == "a" else body.hash_b).graph
    savers = set()
    for node in nodes:
        callee = callee_of(node, graph.functions)
        if callee is not None and callee in graph.functions and is_saver(graph.functions[callee]):
            savers.add(node.name)
    readers = defaultdict(set)
    for node in nodes:
        for ref in node.inputs:
            readers[split_input(ref)[1]].add(node.name)
    return savers | {name for name, by in readers.items() if by and by <= savers}


def _diff_node(
    path: tuple[str, ...], na: Node, nb: Node, map_b: Callable[[str], str], body: Body
) -> Change | None:
    name = na.name
    b_to_a = body.b_to_a
    changes = []
    if na.op != b_to_a.get(nb.op, nb.op):
        version = op_version_rename(na.op, nb.op)
        changes.append(
            Change(
                (*path, "op"),
                "changed",
                strip_uid(na.op),
                strip_uid(nb.op),
                reason=f"node '{name}' now runs {strip_uid(nb.op)} instead of {strip_uid(na.op)}"
                + (": a newer version of the same op" if version else ""),
                annotation=f"op version {na.op} -> {nb.op}" if version else "",
            )
        )
    call = callee_of(na, body.hash_a.graph.functions) is not None
    if _inputs_key(na.data_inputs, "a", body, call) != _inputs_key(
        [map_b(r) for r in nb.data_inputs], "b", body, call, nb.data_inputs
    ):
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
        attrs = diff_attrs((*path, "attrs"), na.attrs, nb.attrs, b_to_a, f"node '{name}'")
        frozen_weight = not body.owner_a and (na.name, nb.name) in body.context.constant_pairs
        for c in attrs:
            key = c.path[-1]
            if key in ("value", "dtype") and frozen_weight:
                continue  # the variables area reports it: a value delta, or a new dtype
            if call and key in _CALL_LIST_ATTRS and _same_multiset(na.attrs, nb.attrs, key):
                continue  # captured inputs in another order: their types move with them
            if key in ("shared_name", "debug_name") and na.op in ("VarHandleOp", "VariableV2"):
                c.annotation = "variable handle name"
            changes.append(c)
    change = container(path, changes, f"node '{name}' ({strip_uid(na.op)})")
    if change is not None:
        change.before, change.after = na.name, nb.name  # B's name may differ (scope renamed)
    return change


def _inputs_key(refs, side: str, body: Body, call: bool, raw=None):
    """What to compare of a node's data inputs: in order, except that a call's inputs bound
    to variables count as a set (captures are passed in an order TensorFlow picks)."""
    if not call:
        return list(refs)
    raw = raw or refs
    ordered, captured = [], []
    for ref, original in zip(refs, raw, strict=True):
        label = body.bound(side, original)
        if label is None:
            ordered.append(ref)
        else:
            captured.append(label)
    return ordered, sorted(captured)


def _same_multiset(attrs_a: dict, attrs_b: dict, key: str) -> bool:
    a, b = attrs_a.get(key), attrs_b.get(key)
    if not isinstance(a, list) or not isinstance(b, list):
        return False
    return sorted(map(str, a)) == sorted(map(str, b))


def _same_attr_protos(na: Node, nb: Node) -> bool:
    if na._attr_proto is None or nb._attr_proto is None:
        return na._attr_proto is nb._attr_proto
    return na._attr_proto == nb._attr_proto


def diff_attrs(
    path: tuple[str, ...], attrs_a: dict, attrs_b: dict, b_to_a: dict[str, str], owner: str
) -> list[Change]:
    """Attrs added, removed or changed, comparing B's function references as A's names;
    ``_``-prefixed attrs (shapes TensorFlow inferred, runtime hints) are annotations."""

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
                annotation=f"attr {key}" if key.startswith("_") else "",
            )
        )
    return changes


def _short(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"
