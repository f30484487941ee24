"""Match name scopes across a consistent rename, so an unchanged layer shows no change.

Keras names the outer scope ``functional_1`` in one export and ``functional_1_1`` in the
other; a renamed layer moves every node under a new scope. Scopes are matched level by
level: children with the same name pair with each other; of the rest, a scope only in A and
one only in B pair when what they hold (each node's op and last name part, as a multiset)
mostly agrees, by a maximum-weight bipartite matching (networkx) so that the closest
counterpart wins when several are alike.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from difflib import SequenceMatcher

import networkx as nx

_MAX_EDGES = 250_000  # beyond this many candidate pairs at one level, leave names as they are
_MIN_OVERLAP = 0.5  # share of the smaller scope's contents that must agree


def _tree(nodes: dict[str, str]) -> dict[str, dict[str, Counter]]:
    """parent scope -> child scope -> Counter of (op, leaf) of everything under it."""
    tree: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for name, op in nodes.items():
        parts = name.split("/")
        leaf = (op, parts[-1])
        for depth in range(1, len(parts)):  # only real scopes: something lies under them
            parent, child = "/".join(parts[: depth - 1]), parts[depth - 1]
            tree[parent][child][leaf] += 1
    return tree


def match_scopes(
    nodes_a: dict[str, str], nodes_b: dict[str, str], fixed: dict[str, str] | None = None
) -> dict[str, str]:
    """B scope -> A scope for renamed scopes; ``nodes_*`` map node name -> op.

    ``fixed`` holds B -> A prefixes already known (handles of the same variable) that are
    applied before and left alone.
    """
    fixed = dict(fixed or {})
    renames: dict[str, str] = {}
    tree_a = _tree(nodes_a)
    tree_b = _tree(_renamed(nodes_b, fixed))
    level = [("", "")]  # (A parent, B parent) pairs to descend into
    while level:
        following = []
        for parent_a, parent_b in level:
            kids_a, kids_b = tree_a.get(parent_a, {}), tree_b.get(parent_b, {})
            for child in kids_a.keys() & kids_b.keys():
                following.append((_join(parent_a, child), _join(parent_b, child)))
            only_a = [c for c in kids_a if c not in kids_b]
            only_b = [c for c in kids_b if c not in kids_a]
            if not only_a or not only_b or len(only_a) * len(only_b) > _MAX_EDGES:
                continue
            for child_a, child_b in _pair(only_a, only_b, kids_a, kids_b):
                full_a, full_b = _join(parent_a, child_a), _join(parent_b, child_b)
                renames[full_b] = full_a
                following.append((full_a, full_b))
        level = following
    return renames


def _pair(only_a, only_b, kids_a, kids_b) -> list[tuple[str, str]]:
    graph = nx.Graph()
    for ca in only_a:
        for cb in only_b:
            common = sum((kids_a[ca] & kids_b[cb]).values())
            smaller = min(sum(kids_a[ca].values()), sum(kids_b[cb].values()))
            if common and common >= _MIN_OVERLAP * smaller:
                weight = common + SequenceMatcher(None, ca, cb).ratio()
                graph.add_edge(("a", ca), ("b", cb), weight=weight)
    pairs = []
    for u, v in nx.max_weight_matching(graph):
        (_, ca), (_, cb) = sorted((u, v))
        pairs.append((ca, cb))
    return pairs


def _join(parent: str, child: str) -> str:
    return f"{parent}/{child}" if parent else child


def _renamed(nodes: dict[str, str], renames: dict[str, str]) -> dict[str, str]:
    return {rename(name, renames): op for name, op in nodes.items()}


def rename(name: str, renames: dict[str, str]) -> str:
    """``name`` with its longest renamed scope prefix replaced (B's name in A's terms)."""
    if not renames:
        return name
    if name in renames:
        return renames[name]
    parts = name.split("/")
    for depth in range(len(parts) - 1, 0, -1):
        prefix = "/".join(parts[:depth])
        if prefix in renames:
            return renames[prefix] + "/" + "/".join(parts[depth:])
    return name
