"""Match library functions across two exports by what they are, not by their names.

TensorFlow names traced functions ``__inference_<name>_<uid>`` with a process-wide counter,
so two exports of the same model name them differently. Functions are matched, in order:
by the role they play (the signature whose output they compute, the saver function, the
object-graph path of their concrete function); through the call sites of functions already
matched (the ``f`` of the same node in both callers); by a structural hash blind to names;
and by name with the uid stripped.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from smlens.core.errors import SmlensError
from smlens.core.formats.convert import find_node
from smlens.core.formats.tensor_proto import tensor_bytes_digest
from smlens.core.graph.calls import find_calls
from smlens.core.model import (
    FuncRef,
    Graph,
    MetaGraph,
    Node,
    Placeholder,
    Shape,
    TensorInfo,
    TensorSpec,
    TensorValue,
)

_UID = re.compile(r"_\d+$")
_GENERATED = re.compile(rb"(__inference_\w+?)_\d+\b")
_SMALL_TENSOR = 6  # elements shown as values rather than as a digest


def strip_uid(name: str) -> str:
    """``__inference___call___529`` -> ``__inference___call__``."""
    return _UID.sub("", name)


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def attr_text(value, fn_name: Callable[[str], str] = strip_uid) -> str:
    """A decoded attr value as short, deterministic text: equal text means equal value once
    function references are mapped through ``fn_name``."""
    if isinstance(value, FuncRef):
        inner = ", ".join(f"{k}={attr_text(v, fn_name)}" for k, v in sorted(value.attrs.items()))
        return fn_name(value.name) + (f"[{inner}]" if inner else "")
    if isinstance(value, TensorValue):
        return tensor_text(value)
    if isinstance(value, bytes):
        return repr(_GENERATED.sub(rb"\1", value))
    if isinstance(value, list):
        return "[" + ", ".join(attr_text(v, fn_name) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={attr_text(v, fn_name)}" for k, v in value.items()) + "}"
    if isinstance(value, Shape):
        return str(value)
    if isinstance(value, Placeholder):
        return f"${value.name}"
    return repr(value)


def tensor_text(value: TensorValue) -> str:
    """Small constants by value, bigger ones by a digest of their values: one value stored
    as ``tensor_content`` by one TensorFlow and as a repeated ``float_val`` (or a single
    splat value) by another is the same constant. The digest is made from the stored
    fields (``tensor_bytes_digest``): a splat of 2**40 elements is never built."""
    n = value.shape.num_elements()
    if n is not None and n <= _SMALL_TENSOR:
        try:
            return f"{value.dtype} {value.numpy().tolist()!r}"
        except (SmlensError, ValueError):  # an undecodable dtype: digested below
            pass
    try:
        digest = tensor_bytes_digest(value.raw)
    except (SmlensError, DecodeError):  # an undecodable dtype: the digest of the proto
        digest = hashlib.sha1(value.raw).hexdigest()
    return f"{value.dtype} {value.shape} sha1:{digest[:10]}"


def split_input(ref: str) -> tuple[bool, str, str]:
    """A NodeDef input as (is_control, node or arg name, port suffix ":out:0" / ":1" / "")."""
    control = ref.startswith("^")
    name, _, port = ref.lstrip("^").partition(":")
    return control, name, f":{port}" if port else ""


class Hasher:
    """Structural hashes of one graph's functions and nodes, blind to every name.

    A node's hash covers its op (a called function by that function's hash), its attrs and
    the hashes of the nodes feeding it; a function's covers its argument types, attrs, nodes
    and what it returns.
    """

    def __init__(self, graph: Graph):
        self.graph = graph
        self._functions: dict[str, str] = {}
        self.nodes: dict[str, dict[str, str]] = {}  # function name ("" main) -> node -> hash

    def function(self, name: str) -> str:
        if name in self._functions:
            return self._functions[name]
        fn = self.graph.functions.get(name)
        if fn is None:
            return "missing:" + strip_uid(name)
        self._functions[name] = "recursive:" + strip_uid(name)
        args = {a.name: f"arg{i}" for i, a in enumerate(fn.inputs)}
        nodes = self.node_hashes(name, fn.nodes, args)

        def ref(r: str) -> str:
            _, base, port = split_input(r)
            return (args.get(base) or nodes.get(base, "?")) + port

        parts = [
            "inputs:" + ",".join(a.dtype or a.type_attr for a in fn.inputs),
            "outputs:" + ",".join(f"{a.name}:{a.dtype or a.type_attr}" for a in fn.outputs),
            "attrs:" + attr_text(fn.attrs, self.function),
            "ret:" + ",".join(ref(fn.ret.get(a.name, "")) for a in fn.outputs),
            "control:" + ",".join(sorted(ref(r) for r in fn.control_ret.values())),
            "nodes:" + ",".join(sorted(nodes.values())),
        ]
        self._functions[name] = _digest(*parts)
        return self._functions[name]

    def node_hashes(self, owner: str, nodes: list[Node], args: dict[str, str]) -> dict[str, str]:
        """Hash every node after the nodes it reads (iteratively: graphs can be deep); a node
        met again while its inputs are being hashed (a TF1 loop) counts by its op."""
        if owner in self.nodes:
            return self.nodes[owner]
        by_name = {n.name: n for n in nodes}
        done: dict[str, str | None] = {}
        for root in nodes:
            if root.name in done:
                continue
            done[root.name] = None
            stack = [(root, iter(_producers(root)))]
            while stack:
                node, pending = stack[-1]
                for dep in pending:
                    if dep in by_name and dep not in done:
                        done[dep] = None
                        stack.append((by_name[dep], iter(_producers(by_name[dep]))))
                        break
                else:
                    stack.pop()
                    done[node.name] = self._node_hash(node, done, by_name, args)
        self.nodes[owner] = {k: v for k, v in done.items() if v is not None}
        return self.nodes[owner]

    def _node_hash(self, node: Node, done: dict, by_name: dict, args: dict[str, str]) -> str:
        def ref(r: str) -> str:
            _, base, port = split_input(r)
            if base in args:
                return args[base] + port
            known = done.get(base)
            return (known or "loop:" + getattr(by_name.get(base), "op", "?")) + port

        op = node.op
        if op in self.graph.functions:
            op = "call:" + self.function(op)
        return _digest(
            op,
            node.device,
            attr_text(node.attrs, self.function) if node._attr_proto is not None else "",
            ",".join(ref(r) for r in node.data_inputs),
            ",".join(sorted(ref(r) for r in node.control_inputs)),
        )


def _producers(node: Node) -> list[str]:
    return [split_input(r)[1] for r in node.inputs]


# -- roles -----------------------------------------------------------------------------------


def _tensor_names(info: TensorInfo) -> list[str]:
    if info.coo_sparse:
        return list(info.coo_sparse)
    if info.components:
        return [n for c in info.components for n in _tensor_names(c)]
    return [info.name] if info.name else []


def function_roles(mg: MetaGraph) -> dict[str, set[str]]:
    """role -> names of the functions playing it, strongest roles first.

    Roles: "signature:<key>" (the function a signature output's node calls), "saver:save"
    and "saver:restore", and "object:<path><input signature>" for concrete functions of the
    object graph.
    """
    roles: dict[str, set[str]] = defaultdict(set)

    def callee(tensor: str) -> str | None:
        node = find_node(mg.graph, split_input(tensor)[1])  # a lazy graph stays unconverted
        if node is None:
            return None
        if node.op in mg.functions:
            return node.op
        f = (
            node.attrs.get("f")
            if node._attr_proto is not None and "f" in node._attr_proto
            else None
        )
        return f.name if isinstance(f, FuncRef) else None

    for key, sig in mg.signatures.items():
        for info in sig.outputs.values():
            for tensor in _tensor_names(info):
                if name := callee(tensor):
                    roles[f"signature:{key}"].add(name)
    if mg.saver is not None:
        for role, tensor in (
            ("saver:save", mg.saver.save_tensor_name),
            ("saver:restore", mg.saver.restore_op_name),
        ):
            if name := callee(tensor):
                roles[role].add(name)
    if mg.object_graph is not None:
        graph = mg.object_graph
        for node in graph.nodes:
            for name in node.concrete_functions:
                spec = graph.concrete_functions.get(name)
                signature = (
                    spec_text(spec.input_signature) if spec and node.kind == "function" else ""
                )
                roles[f"object:{node.path}{signature}"].add(name)
    return dict(roles)


def spec_text(structure) -> str:
    """A concrete function's input signature, compactly: ``(float32(?, 10))``."""
    if isinstance(structure, TensorSpec):
        return f"{structure.dtype}{structure.shape}"
    if isinstance(structure, tuple | list):
        return "(" + ", ".join(spec_text(s) for s in structure) + ")"
    if isinstance(structure, dict):
        return "{" + ", ".join(f"{k}: {spec_text(v)}" for k, v in structure.items()) + "}"
    return repr(structure)


# -- matching --------------------------------------------------------------------------------


@dataclass
class FunctionMatching:
    """The pairing of one tag-set's functions: A name -> (B name, how it was matched)."""

    pairs: dict[str, tuple[str, str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)  # in A only
    added: list[str] = field(default_factory=list)  # in B only
    roles_a: dict[str, set[str]] = field(default_factory=dict)
    roles_b: dict[str, set[str]] = field(default_factory=dict)

    def b_to_a(self) -> dict[str, str]:
        return {b: a for a, (b, _) in self.pairs.items()}


def _call_sites(graph: Graph) -> dict[str, dict[tuple[str, str], list[str]]]:
    """caller ("" for the main graph) -> (node, attr) -> callees in attr order."""
    sites: dict[str, dict[tuple[str, str], list[str]]] = defaultdict(lambda: defaultdict(list))
    for call in find_calls(graph):
        sites[call.caller][(call.node, call.attr)].append(call.callee)
    return sites


class _Matcher:
    def __init__(self, a: MetaGraph, b: MetaGraph, hash_a: Hasher, hash_b: Hasher):
        self.a, self.b = a, b
        self.hash_a, self.hash_b = hash_a, hash_b
        self.pairs: dict[str, tuple[str, str]] = {}
        self.taken_b: set[str] = set()
        self.queue: list[tuple[str, str]] = [("", "")]
        self.sites_a, self.sites_b = _call_sites(a.graph), _call_sites(b.graph)

    def free_a(self) -> list[str]:
        return sorted(n for n in self.a.functions if n not in self.pairs)

    def free_b(self) -> list[str]:
        return sorted(n for n in self.b.functions if n not in self.taken_b)

    def pair(self, fa: str, fb: str, how: str) -> None:
        if fa in self.pairs or fb in self.taken_b:
            return
        self.pairs[fa] = (fb, how)
        self.taken_b.add(fb)
        self.queue.append((fa, fb))

    def by_roles(self, roles_a: dict[str, set[str]], roles_b: dict[str, set[str]]) -> None:
        for role, holders_a in roles_a.items():
            holders_b = roles_b.get(role, set())
            if len(holders_a) == 1 and len(holders_b) == 1:
                fa, fb = next(iter(holders_a)), next(iter(holders_b))
                # a call may name a function the library lacks: that is not a pair
                if fa in self.a.functions and fb in self.b.functions:
                    self.pair(fa, fb, role)

    def by_call_sites(self) -> None:
        """Callees of matched callers, called from the same node and attr on both sides."""
        while self.queue:
            fa, fb = self.queue.pop(0)
            sites_b = self.sites_b.get(fb, {})
            for site, callees_a in self.sites_a.get(fa, {}).items():
                callees_b = sites_b.get(site, [])
                if len(callees_a) != len(callees_b):
                    continue
                for ca, cb in zip(callees_a, callees_b, strict=True):
                    if ca in self.a.functions and cb in self.b.functions:
                        self.pair(ca, cb, f"called by {strip_uid(fa) or 'the main graph'}")

    def by_key(self, key_a: Callable, key_b: Callable, how: str, unique: bool) -> None:
        groups_a, groups_b = defaultdict(list), defaultdict(list)
        for name in self.free_a():
            groups_a[key_a(name)].append(name)
        for name in self.free_b():
            groups_b[key_b(name)].append(name)
        for key, names_a in groups_a.items():
            names_b = groups_b.get(key, [])
            if len(names_a) != len(names_b) or (unique and len(names_a) != 1):
                continue
            for fa, fb in zip(names_a, names_b, strict=True):
                self.pair(fa, fb, how)


def match_functions(a: MetaGraph, b: MetaGraph, hash_a: Hasher, hash_b: Hasher) -> FunctionMatching:
    """Pair the functions of two meta graphs (see the module docstring for the order)."""
    roles_a, roles_b = function_roles(a), function_roles(b)
    m = _Matcher(a, b, hash_a, hash_b)
    m.by_roles(roles_a, roles_b)
    m.by_call_sites()
    # Structurally identical functions are interchangeable, so equal-sized groups pair up.
    m.by_key(hash_a.function, hash_b.function, "structure", unique=False)
    m.by_call_sites()
    m.by_key(strip_uid, strip_uid, "name", unique=True)
    m.by_call_sites()
    return FunctionMatching(m.pairs, m.free_a(), m.free_b(), roles_a, roles_b)


def function_labels(names, roles: dict[str, set[str]]) -> dict[str, str]:
    """A readable, stable label per function: its name without the uid, plus its strongest
    role where two functions would otherwise share a label."""
    stripped = {n: strip_uid(n) for n in names}
    counts = defaultdict(int)
    for label in stripped.values():
        counts[label] += 1
    first_role = {}
    for role, holders in roles.items():
        for name in holders:
            first_role.setdefault(name, role)
    return {
        n: label if counts[label] == 1 else f"{label} [{first_role.get(n, n)}]"
        for n, label in stripped.items()
    }
