"""Pair the variables of two exports by evidence, never by position.

In order: by resolved name; by checkpoint key unless the key names a list position
(``variables/3/...``); by stored checksum (the same bytes under a new name is a
rename); then by role and shape within a layer: two layers, one only in A and one only in B,
holding the same leaves (``kernel``, ``bias``) with the same dtypes and shapes are one layer
renamed. Layers are paired by a maximum-weight bipartite matching (networkx), weighted by the
checksum evidence between them and the similarity of their names, so twelve identical blocks
renamed together pair block to block. What stays unpaired is added or removed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher

import networkx as nx

from smlens.core.diff.node_pairing import GeneratedNames
from smlens.core.errors import SmlensError
from smlens.core.model import Model, Variable

_POSITIONAL = re.compile(r"(^|/)\d+(/|$)")


@dataclass(frozen=True)
class VariablePair:
    """One variable of A and its counterpart in B; ``how`` is "name", "key", "checksum"
    or "layer", and ``reason`` says in words why a renamed pair was paired."""

    a: Variable
    b: Variable
    how: str = "name"
    reason: str = ""

    @property
    def renamed(self) -> bool:
        return self.a.name != self.b.name


@dataclass
class VariablePairing:
    pairs: list[VariablePair]
    removed: list[Variable]  # only in A
    added: list[Variable]  # only in B

    def b_to_a_names(self) -> dict[str, str]:
        return {p.b.name: p.a.name for p in self.pairs}


def stored_parts(bundle, key: str) -> tuple | None:
    """What the index says about a tensor's stored bytes: (slice, crc32c, size) per part;
    None without a bundle or a readable entry (no evidence, not an error)."""
    if bundle is None:
        return None
    try:
        return tuple((spec, e.crc32c, e.size) for spec, e in bundle.parts(key))
    except (KeyError, SmlensError):  # a key the index lacks, a damaged entry
        return None


def pair_variables(a: Model, b: Model) -> VariablePairing:
    """Pairs of ``a.distinct_variables()`` and ``b.distinct_variables()`` by evidence."""
    va, vb = a.distinct_variables(), b.distinct_variables()
    pairs: list[VariablePair] = []
    free_a, free_b = _by_unique(va, vb, lambda v: (v.name, v.slot_name), pairs, "name", "")
    free_a, free_b = _by_unique(
        free_a,
        free_b,
        lambda v: v.key,
        pairs,
        "key",
        "the same checkpoint key",
        skip=lambda key: bool(_POSITIONAL.search(key)),  # variables/3/...: a list index
    )
    sums_a = {id(v): stored_parts(a.checkpoint, v.key) for v in free_a}
    sums_b = {id(v): stored_parts(b.checkpoint, v.key) for v in free_b}
    free_a, free_b = _by_unique(
        free_a,
        free_b,
        lambda v: (v.dtype, v.shape, (sums_a if id(v) in sums_a else sums_b)[id(v)]),
        pairs,
        "checksum",
        "the same stored bytes (crc32c and size) under a new name",
        skip=lambda key: key[2] is None or not any(size for _, _, size in key[2]),
    )
    free_a, free_b = _by_layer(free_a, free_b, pairs)
    return VariablePairing(pairs, free_a, free_b)


def pair_constants(a: Model, b: Model) -> VariablePairing:
    """Pairs of the frozen weights of two graphs (``Model.constants``), by evidence as
    variables are: by node name unless TensorFlow made the name up (``Const_4`` only says
    in which order constants were made, see node_pairing.GeneratedNames), then by the same
    values (dtype, shape and the digest of the values, however they are encoded), then as a
    whole layer of named constants holding the same shapes."""
    ca, cb = a.constants(), b.constants()
    if not ca or not cb:
        return VariablePairing([], list(ca), list(cb))
    generated = GeneratedNames(_node_names(a), _node_names(b))
    pairs: list[VariablePair] = []
    free_a, free_b = _by_unique(
        ca, cb, lambda v: v.name, pairs, "name", "", skip=lambda name: name in generated
    )
    digests = {id(v): _digest(a, v) for v in free_a} | {id(v): _digest(b, v) for v in free_b}
    free_a, free_b = _by_unique(
        free_a,
        free_b,
        lambda v: (v.dtype, v.shape, digests[id(v)]),
        pairs,
        "checksum",
        "the same values under a new name",
        skip=lambda key: key[2] is None,
    )
    named_a = [v for v in free_a if v.name not in generated]
    named_b = [v for v in free_b if v.name not in generated]
    _by_layer(named_a, named_b, pairs)  # adds to pairs; the unpaired are counted below
    paired = {id(p.a) for p in pairs} | {id(p.b) for p in pairs}
    return VariablePairing(
        pairs, [v for v in ca if id(v) not in paired], [v for v in cb if id(v) not in paired]
    )


def _node_names(model: Model) -> list[str]:
    return [n.name for mg in model.meta_graphs for n in mg.graph.nodes]


def _digest(model: Model, v: Variable):
    """The digest of a constant's values (its source computes it once), or None."""
    parts = stored_parts(model.constant_source(), v.key)
    return parts[0][1] if parts else None


def _by_unique(va, vb, key, pairs, how, reason, skip=None):
    """Pair variables whose ``key`` is unique on both sides; return the unpaired ones."""
    groups_a, groups_b = defaultdict(list), defaultdict(list)
    for v in va:
        groups_a[key(v)].append(v)
    for v in vb:
        groups_b[key(v)].append(v)
    taken = set()
    for k, group in groups_a.items():
        if skip is not None and skip(k):
            continue
        other = groups_b.get(k, ())
        if len(group) == 1 and len(other) == 1:
            pairs.append(VariablePair(group[0], other[0], how, reason))
            taken.update((id(group[0]), id(other[0])))
    return [v for v in va if id(v) not in taken], [v for v in vb if id(v) not in taken]


def layer_of(v: Variable) -> tuple[str, str]:
    """(layer scope, leaf): "enc/dense_3/kernel" -> ("enc/dense_3", "kernel")."""
    scope, _, leaf = v.name.rpartition("/")
    return scope, leaf


def _signature(variables) -> tuple:
    return tuple(sorted((layer_of(v)[1], v.dtype, v.shape.dims, v.slot_name) for v in variables))


def _by_layer(free_a, free_b, pairs):
    """Pair whole layers that only one side names, when they hold the same leaves."""
    if not free_a or not free_b:
        return free_a, free_b
    renamed = [p for p in pairs if p.how == "checksum"]
    layers_a, layers_b = _layers(free_a, renamed, "a"), _layers(free_b, renamed, "b")
    evidence = defaultdict(int)
    for p in renamed:
        evidence[(layer_of(p.a)[0], layer_of(p.b)[0])] += 1
    graph = nx.Graph()
    for scope_a, (sig_a, _) in layers_a.items():
        for scope_b, (sig_b, _) in layers_b.items():
            if sig_a != sig_b:
                continue
            similarity = SequenceMatcher(None, scope_a, scope_b).ratio()
            weight = 1.0 + similarity + 10.0 * evidence[(scope_a, scope_b)]
            graph.add_edge(("a", scope_a), ("b", scope_b), weight=weight)
    taken = set()
    for u, w in nx.max_weight_matching(graph, maxcardinality=True):
        (_, scope_a), (_, scope_b) = sorted((u, w))
        members_a = {layer_of(v)[1]: v for v in layers_a[scope_a][1]}
        members_b = {layer_of(v)[1]: v for v in layers_b[scope_b][1]}
        leaves = ", ".join(f"{leaf} {v.dtype} {v.shape}" for leaf, v in sorted(members_a.items()))
        reason = (
            f"layer '{scope_a}' is '{scope_b}' in B: both hold the same variables ({leaves}) "
            "and no other layer does"
            + (", and stored bytes of one of them match" if evidence[(scope_a, scope_b)] else "")
        )
        for leaf, x in members_a.items():
            y = members_b[leaf]
            if id(x) in taken or id(y) in taken:
                continue
            pairs.append(VariablePair(x, y, "layer", reason))
            taken.update((id(x), id(y)))
    return [v for v in free_a if id(v) not in taken], [v for v in free_b if id(v) not in taken]


def _layers(free, renamed, side) -> dict[str, tuple[tuple, list[Variable]]]:
    """Layer scope -> (signature, unpaired members) for layers with an unpaired variable;
    the signature covers the layer's checksum-renamed members too, so a layer whose bias
    matched by bytes still pairs its kernel."""
    members = defaultdict(list)
    for v in free:
        members[layer_of(v)[0]].append(v)
    whole = {scope: list(vs) for scope, vs in members.items()}
    for p in renamed:
        v = p.a if side == "a" else p.b
        scope = layer_of(v)[0]
        if scope in whole:
            whole[scope].append(v)
    return {scope: (_signature(whole[scope]), members[scope]) for scope in members}
