"""The nodes of one changed function (or main graph) on its two sides, for views that show
both: how each node fared (added, removed, changed), and which name in B stands for a name
in A, so two views of the function can follow each other.

Counterparts are the diff's pairs of changed nodes first, then the same name once renamed
scopes are matched (``functional_1`` -> ``functional_1_1``, ``probs`` -> ``probabilities``).
The scope match is the diff's own (scopes.match_scopes) over the two node lists, without the
variable-handle hints the diff adds, so an unchanged node may now and then find no twin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smlens.core.diff.changes import Change
from smlens.core.diff.scopes import match_scopes, rename
from smlens.core.model import Node


@dataclass
class NodeMarks:
    """How each node of a changed function (or main graph) fared, per side: node name ->
    "added", "removed" or "changed" (annotations left out), and A name -> B name for the
    changed nodes, so two views of the function can select the same node."""

    a: dict[str, str] = field(default_factory=dict)
    b: dict[str, str] = field(default_factory=dict)
    a_to_b: dict[str, str] = field(default_factory=dict)


def node_marks(function: Change) -> NodeMarks:
    """The marks of the nodes under ``function`` (a function's or main graph's Change)."""
    marks = NodeMarks()
    depth = len(function.path) + 1
    for child in function.children:
        if len(child.path) != depth or child.annotation:
            continue  # a function's own rows (inputs, attrs) are leaves one level deeper
        if child.kind == "removed":
            marks.a[child.path[-1]] = "removed"
        elif child.kind == "added":
            marks.b[child.path[-1]] = "added"
        elif child.children and isinstance(child.before, str) and isinstance(child.after, str):
            marks.a[child.before] = marks.b[child.after] = "changed"
            marks.a_to_b[child.before] = child.after
    return marks


@dataclass
class Counterparts:
    """Names across the two sides: nodes, and scope paths ending in "/"."""

    a_to_b: dict[str, str] = field(default_factory=dict)  # changed nodes, from the diff
    scopes_b_to_a: dict[str, str] = field(default_factory=dict)  # renamed scope paths
    b_to_a: dict[str, str] = field(init=False)
    scopes_a_to_b: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.b_to_a = {b: a for a, b in self.a_to_b.items()}
        self.scopes_a_to_b = {a: b for b, a in self.scopes_b_to_a.items()}

    def of(self, side: str, name: str) -> str:
        """The other side's name for ``name`` on ``side`` ("a" or "b"); itself when
        nothing was renamed. Whether the other side has it is for the caller to check."""
        pairs = self.a_to_b if side == "a" else self.b_to_a
        if name in pairs:
            return pairs[name]
        scopes = self.scopes_a_to_b if side == "a" else self.scopes_b_to_a
        if name.endswith("/"):
            return rename(name[:-1], scopes) + "/"
        return rename(name, scopes)


def counterparts(nodes_a: list[Node], nodes_b: list[Node], marks: NodeMarks) -> Counterparts:
    """The counterparts of the nodes of one function (or main graph) in its two versions."""
    ops_a = {n.name: n.op for n in nodes_a}
    ops_b = {n.name: n.op for n in nodes_b}
    return Counterparts(dict(marks.a_to_b), match_scopes(ops_a, ops_b))
