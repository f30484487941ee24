"""Which node of B is which node of A, in one graph body: a main graph or a matched function.

TensorFlow names nodes by scope and creation order, so two exports of one model can give the
same node another name. Nodes pair up by the function they call, then by name once B's names
are put in A's terms (variable handles by the variable they hold, scopes across a consistent
rename, see scopes.py), then what is left by a structural hash unique on both sides. A
function's arguments pair up the same way: captured variables by the variable they bind to
(bindings.py), the others by position.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from smlens.core.diff.bindings import Bindings, callee_of
from smlens.core.diff.function_matching import Hasher, split_input
from smlens.core.diff.scopes import match_scopes, rename
from smlens.core.model import Function, Graph, Model, Node


@dataclass
class GraphContext:
    """What the graph diff knows besides the graphs: both models, the variable each
    handle and captured argument binds to, and B's variable names in A's terms."""

    model_a: Model | None = None
    model_b: Model | None = None
    bindings_a: Bindings = field(default_factory=Bindings)
    bindings_b: Bindings = field(default_factory=Bindings)
    variables_b2a: dict[str, str] = field(default_factory=dict)


@dataclass
class Body:
    """One graph body in its two versions: a main graph ("" owners) or a matched function.

    ``b_to_a`` maps B's function names to A's (the function matching); ``args_b2a`` B's
    argument names to A's, once ``pair_args`` has paired them.
    """

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


def pair_args(fa: Function, fb: Function, body: Body) -> dict[str, str]:
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


def pair_nodes(nodes_a: list[Node], nodes_b: list[Node], body: Body) -> dict[str, str]:
    """B node name -> A node name for every node of B that is a node of A."""
    names_a = {n.name for n in nodes_a}
    node_b2a = _pair_by_callee(nodes_a, nodes_b, body.hash_a.graph, body.hash_b.graph, body.b_to_a)
    canonical = _canonical_names(nodes_a, nodes_b, body, node_b2a)
    paired_a = set(node_b2a.values())
    for nb in nodes_b:
        name = canonical.get(nb.name, nb.name)
        if name in names_a and name not in paired_a and nb.name not in node_b2a:
            node_b2a[nb.name] = name
            paired_a.add(name)
    if len(paired_a) < len(nodes_a) and len(node_b2a) < len(nodes_b):
        node_b2a.update(
            _pair_by_hash(
                body.owner_a,
                nodes_a,
                body.owner_b or body.owner_a,
                nodes_b,
                body.hash_a,
                body.hash_b,
                node_b2a,
            )
        )
    return node_b2a


def _pair_by_callee(
    nodes_a: list[Node], nodes_b: list[Node], graph_a: Graph, graph_b: Graph, b_to_a: dict
) -> dict[str, str]:
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


def _canonical_names(
    nodes_a: list[Node], nodes_b: list[Node], body: Body, paired: dict[str, str]
) -> dict[str, str]:
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


def _pair_by_hash(
    owner_a: str,
    nodes_a: list[Node],
    owner_b: str,
    nodes_b: list[Node],
    hash_a: Hasher,
    hash_b: Hasher,
    paired: dict[str, str],
) -> dict[str, str]:
    """B name -> A name for unpaired nodes whose structural hash is unique on both sides."""
    ha = hash_a.node_hashes(owner_a, nodes_a, _arg_labels(hash_a, owner_a))
    hb = hash_b.node_hashes(owner_b, nodes_b, _arg_labels(hash_b, owner_b))
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
    """A function's argument names -> their position ("arg0", ...), as its hash sees them."""
    fn = hasher.graph.functions.get(owner)
    return {a.name: f"arg{i}" for i, a in enumerate(fn.inputs)} if fn else {}
