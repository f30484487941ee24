"""Series: long runs of sibling scopes named alike and built alike (``block_0`` ...
``block_19999``) shown as one box, ``block_[0-19999] x20000``, as TensorBoard's graph
plugin groups series. Found once per graph, from names, counts and the filed edges only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SERIES_MIN = 5  # fewer alike siblings than this stay apart
_NUMBERED = re.compile(r"^(.*?)(\d+)(\D*)$")


@dataclass(eq=False)
class Series:
    """Sibling scopes shown as one box until it is expanded (its path joins ``expanded``)."""

    path: str  # parent path + "/" + label, never a real scope's: "[" is not in TF names
    label: str  # "block_[0-19999]"
    members: list = field(repr=False)  # the Scopes, in number order
    op_count: int = 0

    @property
    def id(self) -> str:
        return self.path + "/"

    @property
    def title(self) -> str:
        return f"{self.label} \N{MULTIPLICATION SIGN}{len(self.members)}"


def find_series(scope) -> list[Series]:
    """Runs of at least SERIES_MIN children of ``scope`` whose labels differ only in their
    last number and that hold the same counts of scopes and nodes, kept only when drawing
    them as one box closes no cycle (a run interleaved with other items, as a transformer's
    layer_0_attention, layer_0_ffn, layer_1_attention..., stays apart)."""
    if len(scope.children) < SERIES_MIN:
        return []
    groups: dict[tuple, list[tuple[int, object]]] = {}
    for child in scope.children:
        m = _NUMBERED.match(child.label)
        if m is None:
            continue
        shape = (m.group(1), m.group(3), child.op_count, len(child.children), len(child.nodes))
        groups.setdefault(shape, []).append((int(m.group(2)), child))
    found = []
    taken: dict[str, str] = {}
    for (prefix, suffix, *_), members in groups.items():
        if len(members) < SERIES_MIN:
            continue
        members.sort(key=lambda t: t[0])
        label = f"{prefix}[{members[0][0]}-{members[-1][0]}]{suffix}"
        path = f"{scope.name}/{label}" if scope.name else label
        series = Series(path, label, [c for _, c in members], sum(c.op_count for _, c in members))
        trial = dict(taken)
        trial.update((c.id, series.id) for c in series.members)
        if not _closes_cycle(scope, trial, series.id):
            taken = trial
            found.append(series)
    return found


def _closes_cycle(scope, mapping: dict[str, str], start: str) -> bool:
    """Whether ``start`` reaches itself once the items of ``mapping`` are merged."""
    succ: dict[str, set[str]] = {}
    for src, dst, _ in scope.local:
        a, b = mapping.get(src, src), mapping.get(dst, dst)
        if a != b:
            succ.setdefault(a, set()).add(b)
    stack, seen = list(succ.get(start, ())), set()
    while stack:
        v = stack.pop()
        if v == start:
            return True
        if v not in seen:
            seen.add(v)
            stack.extend(succ.get(v, ()))
    return False
