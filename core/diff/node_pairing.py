"""Which node of B is which node of A, in one graph body: a main graph or a matched function.

TensorFlow names nodes by scope and creation order, so two exports of one model can give the
same node another name. Nodes pair up by the function they call, then by name once B's names
are put in A's terms (variable handles by the variable they hold, scopes across a consistent
rename, see scopes.py), then what is left by a structural hash unique on both sides. A
function's arguments pair up the same way: captured variables by the variable they bind to
(bindings.py), the others by position.

A generated name (``Const_4``, ``add_3``: the op's name, or any name with TensorFlow's ``_N``
uniquifying suffix) only says in which order the nodes were made, so it never pairs two nodes
by itself: one constant inserted early shifts every later ``Const_N``. Such nodes pair by
content (op and attrs, ``_``-prefixed ones aside: a constant by dtype and value) when that is
unique on both sides, then by their place in the dataflow: the producer at the same input of
two paired nodes, or the only consumer with that op at that input of a paired node, pairs when
its op agrees, spreading out from every pair. A generated name left over pairs with the same
name only where the two nodes hold the same content or read the same inputs; otherwise the
two are one node removed and one added.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from smlens.core.diff.bindings import Bindings, callee_of
from smlens.core.diff.function_matching import Hasher, attr_text, split_input, strip_uid
from smlens.core.diff.scopes import match_scopes, rename
from smlens.core.model import Function, Graph, Model, Node

_UNIQUIFIED = re.compile(r"^(.+)_\d+$")  # TensorFlow's suffix for a name already taken
_HANDLE_OPS = ("VarHandleOp", "VariableV2", "Variable")


class GeneratedNames:
    """Which node names TensorFlow made up, in the nodes of both sides of one graph body.

    A name is generated when its last part carries an ``_N`` uniquifying suffix
    (``Const_4``, ``add_3``), or when a sibling on either side carries it with the same
    stem (``Const`` beside ``Const_1``): then it only says which of several was made first.
    """

    def __init__(self, *name_lists: Iterable[str]):
        self.crowded: set[tuple[str, str]] = set()  # (scope, stem) that some _N name used
        for names in name_lists:
            for name in names:
                scope, leaf = _split_leaf(name)
                if match := _UNIQUIFIED.match(leaf):
                    self.crowded.add((scope, match.group(1)))

    def __contains__(self, name: str) -> bool:
        scope, leaf = _split_leaf(name)
        return bool(_UNIQUIFIED.match(leaf)) or (scope, leaf) in self.crowded


def _split_leaf(name: str) -> tuple[str, str]:
    scope, _, leaf = name.rpartition("/")
    return scope, leaf


@dataclass
class GraphContext:
    """What the graph diff knows besides the graphs: both models, the variable each
    handle and captured argument binds to, B's variable names in A's terms, and the Const
    nodes (A's, B's) the variables area compares as frozen weights (their values are
    reported there, once, as value deltas)."""

    model_a: Model | None = None
    model_b: Model | None = None
    bindings_a: Bindings = field(default_factory=Bindings)
    bindings_b: Bindings = field(default_factory=Bindings)
    variables_b2a: dict[str, str] = field(default_factory=dict)
    constant_pairs: frozenset[tuple[str, str]] = frozenset()


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
    by_a = {n.name: n for n in nodes_a}
    node_b2a = _pair_by_callee(nodes_a, nodes_b, body.hash_a.graph, body.hash_b.graph, body.b_to_a)
    canonical = _canonical_names(nodes_a, nodes_b, body, node_b2a)
    paired_a = set(node_b2a.values())
    generated = GeneratedNames((n.name for n in nodes_a), (n.name for n in nodes_b))
    by_generated_name = {}  # B name -> A name: the same generated name, not evidence alone
    for nb in nodes_b:
        name = canonical.get(nb.name, nb.name)
        if name in by_a and name not in paired_a and nb.name not in node_b2a:
            if _name_only(name, by_a[name], nb, generated):
                by_generated_name[nb.name] = name
                continue
            node_b2a[nb.name] = name
            paired_a.add(name)
    if len(node_b2a) == len(nodes_b) or len(node_b2a) == len(nodes_a):
        return node_b2a
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
    if by_generated_name:
        left = _Unpaired(nodes_a, nodes_b, body, node_b2a, generated)
        left.pair_by_content()
        fa = body.hash_a.graph.functions.get(body.owner_a)
        fb = body.hash_b.graph.functions.get(body.owner_b)
        seeds = []
        if fa is not None and fb is not None:
            seeds = left.pair_read_args(fa, fb) + left.pair_returned(fa, fb)
        left.pair_by_dataflow(seeds + list(node_b2a.items()))
        left.pair_by_dataflow(left.pair_same_names(by_generated_name))
    return node_b2a


def _name_only(name_a: str, na: Node, nb: Node, generated: GeneratedNames) -> bool:
    """True when the only evidence that A's ``name_a`` is B's ``nb`` is a generated name.
    A variable handle is not: handles pair by the variable they hold (_canonical_names)."""
    if na.op in _HANDLE_OPS and nb.op in _HANDLE_OPS:
        return False
    return name_a in generated or nb.name in generated


class _Unpaired:
    """Pairs the nodes with generated names that the names and hashes left unpaired, by
    content and by their place in the dataflow, adding to ``paired`` (B name -> A name)."""

    def __init__(
        self,
        nodes_a: list[Node],
        nodes_b: list[Node],
        body: Body,
        paired: dict[str, str],
        generated: GeneratedNames,
    ):
        self.generated = generated
        self.by_a = {n.name: n for n in nodes_a}
        self.by_b = {n.name: n for n in nodes_b}
        self.body = body
        self.paired = paired
        self.taken_a = set(paired.values())
        self.readers_a = _readers(nodes_a)
        self.readers_b = _readers(nodes_b)

    def free_a(self, name: str) -> bool:
        node = self.by_a.get(name)
        return node is not None and name not in self.taken_a and name in self.generated

    def free_b(self, name: str) -> bool:
        node = self.by_b.get(name)
        return node is not None and name not in self.paired and name in self.generated

    def kind_a(self, node: Node) -> str:
        """What A's node runs: its op, or the function it calls."""
        callee = callee_of(node, self.body.hash_a.graph.functions)
        return "call:" + callee if callee else node.op

    def kind_b(self, node: Node) -> str:
        """What B's node runs, in A's terms (a called function by its match in A)."""
        callee = callee_of(node, self.body.hash_b.graph.functions)
        if callee:
            return "call:" + self.body.b_to_a.get(callee, "new:" + callee)
        return node.op

    def pair(self, name_b: str, name_a: str) -> None:
        self.paired[name_b] = name_a
        self.taken_a.add(name_a)

    def pair_by_content(self) -> None:
        """Nodes reading nothing (constants, placeholders) whose op and attrs are unique on
        both sides: a constant by its dtype and value, wherever its number moved."""
        groups_a, groups_b = defaultdict(list), defaultdict(list)
        for name, node in self.by_a.items():
            if not node.data_inputs and self.free_a(name):
                groups_a[_content(self.kind_a(node), node)].append(name)
        for name, node in self.by_b.items():
            if not node.data_inputs and self.free_b(name):
                groups_b[_content(self.kind_b(node), node, self.body.b_to_a)].append(name)
        for key, names in groups_a.items():
            if len(names) == 1 and len(groups_b.get(key, ())) == 1:
                self.pair(groups_b[key][0], names[0])

    def pair_read_args(self, fa: Function, fb: Function) -> list[tuple[str, str]]:
        """The only readers that run one op at one input of two paired arguments (a
        captured variable's ReadVariableOp), paired like readers of paired nodes."""
        found = []
        for arg_b, arg_a in self.body.args_b2a.items():
            found += self._pair_readers(arg_b, arg_a)
        return found

    def _pair_readers(self, name_b: str, name_a: str) -> list[tuple[str, str]]:
        groups_a, groups_b = defaultdict(list), defaultdict(list)
        for reader, where in self.readers_a.get(name_a, ()):
            if self.free_a(reader):
                groups_a[(self.kind_a(self.by_a[reader]), where)].append(reader)
        for reader, where in self.readers_b.get(name_b, ()):
            if self.free_b(reader):
                groups_b[(self.kind_b(self.by_b[reader]), where)].append(reader)
        found = []
        for key, readers in groups_a.items():
            if len(readers) == 1 and len(groups_b.get(key, ())) == 1:
                self.pair(groups_b[key][0], readers[0])
                found.append((groups_b[key][0], readers[0]))
        return found

    def pair_returned(self, fa: Function, fb: Function) -> list[tuple[str, str]]:
        """The nodes two matched functions return at the same output, where they agree."""
        found = []
        for out_a, out_b in zip(fa.outputs, fb.outputs, strict=False):
            xa = split_input(fa.ret.get(out_a.name, ""))[1]
            xb = split_input(fb.ret.get(out_b.name, ""))[1]
            if self._agree(xb, xa):
                self.pair(xb, xa)
                found.append((xb, xa))
        return found

    def pair_by_dataflow(self, start: list[tuple[str, str]]) -> None:
        """From the pairs in ``start`` outwards: the producers at the same input of two
        paired nodes pair, and so do the only consumers that run one op at one input of
        two paired nodes, when what they run agrees."""
        queue = deque(start)
        while queue:
            name_b, name_a = queue.popleft()
            na, nb = self.by_a.get(name_a), self.by_b.get(name_b)
            if na is None or nb is None:
                continue
            for ref_a, ref_b in zip(na.data_inputs, nb.data_inputs, strict=False):
                _, xa, port_a = split_input(ref_a)
                _, xb, port_b = split_input(ref_b)
                if port_a == port_b and self._agree(xb, xa):
                    self.pair(xb, xa)
                    queue.append((xb, xa))
            queue.extend(self._pair_readers(name_b, name_a))

    def _agree(self, name_b: str, name_a: str) -> bool:
        if not (self.free_a(name_a) and self.free_b(name_b)):
            return False
        return self.kind_a(self.by_a[name_a]) == self.kind_b(self.by_b[name_b])

    def pair_same_names(self, by_name: dict[str, str]) -> list[tuple[str, str]]:
        """What is left of the same generated name on both sides pairs where the two nodes
        agree anyway: the same content, or the same inputs once B's are in A's terms."""
        found = []
        for name_b, name_a in by_name.items():
            if name_b in self.paired or name_a in self.taken_a:
                continue
            na, nb = self.by_a[name_a], self.by_b[name_b]
            kind = self.kind_a(na)
            if kind != self.kind_b(nb):
                continue
            if na.data_inputs:
                inputs_b = [self._in_a_terms(r) for r in nb.data_inputs]
                agree = inputs_b == list(na.data_inputs)
            else:
                agree = _content(kind, na) == _content(kind, nb, self.body.b_to_a)
            if agree:
                self.pair(name_b, name_a)
                found.append((name_b, name_a))
        return found

    def _in_a_terms(self, ref: str) -> str:
        _, base, port = split_input(ref)
        name = self.body.args_b2a.get(base) or self.paired.get(base) or "new:" + base
        return name + port


def _readers(nodes: list[Node]) -> dict[str, list[tuple[str, str]]]:
    """Node name -> (reader, "input index:port") for every data input that reads it."""
    readers = defaultdict(list)
    for node in nodes:
        for i, ref in enumerate(node.data_inputs):
            _, base, port = split_input(ref)
            readers[base].append((node.name, f"{i}{port}"))
    return readers


def _content(op: str, node: Node, b_to_a: dict[str, str] | None = None) -> str:
    """A node's op and attrs as text, ``_``-prefixed attrs (inferred shapes, hints that
    differ between TensorFlow releases) left out."""

    def fn_name(name: str) -> str:
        return strip_uid((b_to_a or {}).get(name, name))

    attrs = {k: v for k, v in node.attrs.items() if not k.startswith("_")}
    return strip_uid(op) + " " + attr_text(attrs, fn_name) + " @" + node.device


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
