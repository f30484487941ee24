"""Node-level differences: the main graph of each tag-set, and each matched function.

Nodes pair up by the function they call, by name once B's names are put in A's terms
(variable handles by the variable they hold, scopes across a consistent rename, see
scopes.py), then leftovers by structural hash. A pair differs when its op, inputs, device
or attrs differ once B's function names are mapped to A's through the function matching,
so generated names alone never make a difference. Captured variables are compared by the
variable they bind to (bindings.py), saver functions by what they save (saver.py), and
changes no client sees are marked as annotations.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from smlens.core.diff.bindings import Bindings, callee_of
from smlens.core.diff.changes import Change, container
from smlens.core.diff.function_matching import (
    FunctionMatching,
    Hasher,
    attr_text,
    function_labels,
    match_functions,
    split_input,
    strip_uid,
)
from smlens.core.diff.saver import diff_saver, is_saver, saved_entries
from smlens.core.diff.scopes import match_scopes, rename
from smlens.core.errors import Problem
from smlens.core.graph.calls import find_calls
from smlens.core.model import Function, MetaGraph, Model, Node
from smlens.core.model.text import counted

_TEXT_LIMIT = 160
_VERSION = re.compile(r"V\d+$")
_CALL_LIST_ATTRS = ("Tin", "Tout")


@dataclass
class GraphContext:
    """What the graph diff knows besides the graphs: both models, the variable each
    handle and captured argument binds to, and B's variable names in A's terms."""

    model_a: Model | None = None
    model_b: Model | None = None
    bindings_a: Bindings = field(default_factory=Bindings)
    bindings_b: Bindings = field(default_factory=Bindings)
    variables_b2a: dict[str, str] = field(default_factory=dict)


def op_version_rename(op_a: str, op_b: str) -> bool:
    """Add -> AddV2, BatchMatMulV2 -> BatchMatMulV3: the same op in a newer version."""
    return op_a != op_b and _VERSION.sub("", op_a) == _VERSION.sub("", op_b)


def _short(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def diff_tag_set_graphs(
    tag_set: str,
    a: MetaGraph,
    b: MetaGraph,
    context: GraphContext | None = None,
    identical: bool = False,
) -> tuple[Change | None, Change | None, FunctionMatching, list[Problem]]:
    """The functions container and the main-graph container of one tag-set present in both,
    the function matching, and warnings (calls to functions the library lacks).

    ``identical``: the two were read from byte-identical files, so no function or node can
    differ; only the matching and the warnings are worked out (a million-node graph diffed
    with itself took 20 s and 2.5 GiB node by node)."""
    context = context or GraphContext()
    hash_a, hash_b = Hasher(a.graph), Hasher(b.graph)
    matching = match_functions(a, b, hash_a, hash_b)
    b_to_a = matching.b_to_a()
    labels_a = function_labels(a.functions, matching.roles_a)
    labels_b = function_labels(b.functions, matching.roles_b)
    roles_of = defaultdict(set)
    for role, holders in matching.roles_a.items():
        for name in holders:
            roles_of[name].add(role)
    base = ("functions", tag_set)
    changes = []
    for fa, (fb, _how) in sorted(matching.pairs.items(), key=lambda i: labels_a[i[0]]):
        if identical or hash_a.function(fa) == hash_b.function(fb):
            continue
        path = (*base, labels_a[fa])
        fn_a, fn_b = a.functions[fa], b.functions[fb]
        if is_saver(fn_a, roles_of[fa]) and is_saver(fn_b):
            change = _diff_saver_function(path, fn_a, fn_b, context)
        else:
            body = _Body(hash_a, hash_b, b_to_a, context, fa, fb)
            change = _diff_function(path, fn_a, fn_b, body)
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
    body = _Body(hash_a, hash_b, b_to_a, context, "", "")
    main = [] if identical else diff_nodes(("graph", tag_set), a.graph.nodes, b.graph.nodes, body)
    missing_a, missing_b = _missing_callees(a), _missing_callees(b)
    for callee, nodes in missing_b.items():  # TensorFlow resolves every call on import
        if callee not in missing_a:
            main.append(
                Change(
                    ("graph", tag_set, nodes[0]),
                    "changed",
                    severity="breaking",
                    reason=f"in B, {_missing_text(callee, nodes)}: B's graph cannot be loaded",
                )
            )
    problems = [
        Problem("graph", f"{side}:{tag_set}", _missing_text(callee, nodes))
        for side, missing in (("A", missing_a), ("B", missing_b))
        for callee, nodes in sorted(missing.items())
    ]
    return (
        container(base, changes, f"functions of {tag_set}"),
        container(("graph", tag_set), main, f"main graph of {tag_set}"),
        matching,
        problems,
    )


def _missing_callees(mg: MetaGraph) -> dict[str, list[str]]:
    """Function names that calls name but the library does not define -> the calling nodes."""
    missing = defaultdict(list)
    # callee_of's answer from the call index: a node whose op is a library function calls
    # that (never missing); otherwise its "f" attr, when that names a function.
    calls = find_calls(mg.graph)
    runs_op = {(c.caller, c.node) for c in calls if c.attr == ""}
    for c in calls:
        if c.attr == "f" and c.callee not in mg.functions and (c.caller, c.node) not in runs_op:
            missing[c.callee].append(f"{c.caller}/{c.node}" if c.caller else c.node)
    return missing


def _missing_text(callee: str, nodes: list[str]) -> str:
    more = f" (and {len(nodes) - 1} more)" if len(nodes) > 1 else ""
    return f"node {nodes[0]}{more} calls function {callee!r}, which the library does not define"


def _diff_saver_function(
    path: tuple[str, ...], fa: Function, fb: Function, context: GraphContext
) -> Change | None:
    entries_a = saved_entries(fa, context.model_a, {})
    entries_b = saved_entries(fb, context.model_b, context.variables_b2a)
    return diff_saver(path, fa, fb, entries_a, entries_b)


@dataclass
class _Body:
    """One graph body being compared: a main graph ("" owners) or a matched function."""

    hash_a: Hasher
    hash_b: Hasher
    b_to_a: dict[str, str]
    context: GraphContext
    owner_a: str
    owner_b: str
    args_b2a: dict[str, str] = field(default_factory=dict)

    def bound(self, side: str, ref: str) -> str | None:
        """The variable a node input binds to (a handle, or a captured argument), or None."""
        base = split_input(ref)[1]
        bindings = self.context.bindings_a if side == "a" else self.context.bindings_b
        owner = self.owner_a if side == "a" else self.owner_b
        if not owner:
            handle = bindings.handles.get(base)
            return handle[0] if handle else None
        graph = (self.hash_a if side == "a" else self.hash_b).graph
        fn = graph.functions.get(owner)
        if fn is None:
            return None
        for i, arg in enumerate(fn.inputs):
            if arg.name == base:
                return bindings.arg_label(owner, i)
        return None


def _diff_function(path: tuple[str, ...], fa: Function, fb: Function, body: _Body) -> Change | None:
    """A matched function whose own body differs; None when only its callees do."""
    label = path[-1]
    body.args_b2a = _pair_args(fa, fb, body)
    nodes = diff_nodes(path, fa.nodes, fb.nodes, body)
    changes = _arg_changes(path, fa, fb, body)
    changes += _diff_attrs((*path, "attrs"), fa.attrs, fb.attrs, body.b_to_a, f"function {label}")
    change = container(path, changes + nodes, f"function {label}")
    if change is not None:
        change.before, change.after = fa.name, fb.name
        kinds = defaultdict(int)
        for c in nodes:
            if not c.annotation:
                kinds[c.kind] += 1
        parts = [f"{counted(n, 'node')} {kind}" for kind, n in sorted(kinds.items())]
        parts += [c.reason.split(f"{label} ", 1)[-1] for c in changes if c.path[-1] == "captures"]
        change.reason = f"function {label} changed" + (f": {', '.join(parts)}" if parts else "")
        if change.annotation:
            change.reason = f"function {label}: only annotations changed"
    return change


def _pair_args(fa: Function, fb: Function, body: _Body) -> dict[str, str]:
    """B argument name -> A argument name: captured variables by the variable they bind
    to, the other arguments by position among themselves."""
    ctx = body.context
    bound_a = {i: ctx.bindings_a.arg_label(fa.name, i) for i in range(len(fa.inputs))}
    bound_b = {i: ctx.bindings_b.arg_label(fb.name, i) for i in range(len(fb.inputs))}
    by_label_a = defaultdict(list)
    for i, label in bound_a.items():
        if label is not None:
            by_label_a[label].append(i)
    pairs = {}
    for j, label in bound_b.items():
        if label is not None and len(by_label_a.get(label, ())) == 1:
            pairs[fb.inputs[j].name] = fa.inputs[by_label_a[label][0]].name
    plain_a = [a.name for i, a in enumerate(fa.inputs) if bound_a[i] is None]
    plain_b = [b.name for j, b in enumerate(fb.inputs) if bound_b[j] is None]
    pairs.update(zip(plain_b, plain_a, strict=False))
    return pairs


def _arg_changes(path: tuple[str, ...], fa: Function, fb: Function, body: _Body) -> list[Change]:
    """Argument types in order (input names are generated from node names), captured
    variables as a set, and outputs with their names (a signature wrapper's output names
    are the signature's keys)."""
    ctx = body.context
    plain_a, plain_b, captured_a, captured_b = [], [], set(), set()
    for bindings, fn, plain, captured in (
        (ctx.bindings_a, fa, plain_a, captured_a),
        (ctx.bindings_b, fb, plain_b, captured_b),
    ):
        for i, arg in enumerate(fn.inputs):
            label = bindings.arg_label(fn.name, i)
            if label is None:
                plain.append(_arg_type(arg))
            else:
                captured.add(label)
    changes = []
    if captured_a != captured_b:
        gone, new = sorted(captured_a - captured_b), sorted(captured_b - captured_a)
        what = "; ".join(
            text
            for text in (
                f"now captures {', '.join(new)}" if new else "",
                f"no longer captures {', '.join(gone)}" if gone else "",
            )
            if text
        )
        changes.append(
            Change((*path, "captures"), "changed", gone, new, reason=f"function {path[-1]} {what}")
        )
    for what, before, after in (
        ("inputs", plain_a, plain_b),
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
    path: tuple[str, ...], nodes_a: list[Node], nodes_b: list[Node], body: _Body
) -> list[Change]:
    """Added, removed and changed nodes of one graph body (a main graph or a function)."""
    by_a = {n.name: n for n in nodes_a}
    hash_a, hash_b = body.hash_a, body.hash_b
    node_b2a = _pair_by_callee(nodes_a, nodes_b, hash_a.graph, hash_b.graph, body.b_to_a)
    canonical = _canonical_names(nodes_a, nodes_b, body, node_b2a)
    paired_a = set(node_b2a.values())
    for nb in nodes_b:
        name = canonical.get(nb.name, nb.name)
        if name in by_a and name not in paired_a and nb.name not in node_b2a:
            node_b2a[nb.name] = name
            paired_a.add(name)
    if len(paired_a) < len(nodes_a) and len(node_b2a) < len(nodes_b):
        node_b2a.update(
            _pair_by_hash(
                body.owner_a,
                nodes_a,
                body.owner_b or body.owner_a,
                nodes_b,
                hash_a,
                hash_b,
                node_b2a,
            )
        )
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


def _mark(change: Change, kind: str) -> None:
    for c in change.walk():
        c.annotation = kind


def _canonical_names(nodes_a, nodes_b, body: _Body, paired: dict[str, str]) -> dict[str, str]:
    """B node name -> the name it has in A's terms, for B nodes not paired yet: handles of
    the same variable first, then scopes across a consistent rename."""
    fixed = {}
    if not body.owner_a:
        handles_a, handles_b = body.context.bindings_a.handles, body.context.bindings_b.handles
        by_label = defaultdict(list)
        for name, label in handles_a.items():
            by_label[label].append(name)
        seen_b = defaultdict(list)
        for name, label in handles_b.items():
            seen_b[label].append(name)
        for label, names_b in seen_b.items():
            names_a = by_label.get(label, [])
            if len(names_a) == 1 and len(names_b) == 1:
                fixed[names_b[0]] = names_a[0]
            else:  # a handle of another variable never pairs by its (numbered) name
                fixed.update((n, "+" + n) for n in names_b if handles_a.get(n, label) != label)
    names_a = {n.name for n in nodes_a}
    if all(rename(n.name, fixed) in names_a for n in nodes_b):
        return {n.name: rename(n.name, fixed) for n in nodes_b} if fixed else {}
    targets = set(fixed.values())
    ops_a = {n.name: n.op for n in nodes_a if rename(n.name, {t: "" for t in targets}) == n.name}
    ops_b = {
        n.name: n.op for n in nodes_b if n.name not in paired and rename(n.name, fixed) == n.name
    }
    scopes = match_scopes(ops_a, ops_b)
    return {n.name: rename(rename(n.name, fixed), scopes) for n in nodes_b}


def _saver_plumbing(nodes: list[Node], body: _Body, side: str) -> set[str]:
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


def _pair_by_callee(nodes_a, nodes_b, graph_a, graph_b, b_to_a) -> dict[str, str]:
    """B name -> A name for nodes calling the same (matched) function, where only one node
    does on each side: call nodes are numbered in creation order (StatefulPartitionedCall_2),
    so a new signature shifts their names."""
    calls_a, calls_b = defaultdict(list), defaultdict(list)
    for node in nodes_a:
        if callee := callee_of(node, graph_a.functions):
            calls_a[callee].append(node.name)
    for node in nodes_b:
        if callee := callee_of(node, graph_b.functions):
            calls_b[b_to_a.get(callee, "new:" + callee)].append(node.name)
    return {
        calls_b[fn][0]: names[0]
        for fn, names in calls_a.items()
        if len(names) == 1 and len(calls_b.get(fn, ())) == 1
    }


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
    path: tuple[str, ...], na: Node, nb: Node, map_b: Callable[[str], str], body: _Body
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
        attrs = _diff_attrs((*path, "attrs"), na.attrs, nb.attrs, b_to_a, f"node '{name}'")
        for c in attrs:
            key = c.path[-1]
            if call and key in _CALL_LIST_ATTRS and _same_multiset(na.attrs, nb.attrs, key):
                continue  # captured inputs in another order: their types move with them
            if key in ("shared_name", "debug_name") and na.op in ("VarHandleOp", "VariableV2"):
                c.annotation = "variable handle name"
            changes.append(c)
    change = container(path, changes, f"node '{name}' ({strip_uid(na.op)})")
    if change is not None:
        change.before, change.after = na.name, nb.name  # B's name may differ (scope renamed)
    return change


def _inputs_key(refs, side: str, body: _Body, call: bool, raw=None):
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


def _diff_attrs(
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
