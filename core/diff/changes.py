"""The diff model: a tree of Changes per area, plus per-variable value deltas.

Plain data, JSON-able, computed by ``model_diff.diff_models``; report/ says what it means,
the command line prints that and the compare window only colours it. ``Steps`` carries the
progress and cancellation of the slow stages.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from smlens.core.errors import Problem
from smlens.core.model.roles import WEIGHT
from smlens.core.model.text import counted
from smlens.core.tasks import CancelCheck, Cancelled, Progress

SEVERITIES = ("info", "risky", "breaking")  # ascending
AREAS = (
    "metadata",
    "tag_sets",
    "signatures",
    "ops",
    "functions",
    "graph",
    "variables",
    "assets",
    "outputs",  # only when the exports were run (``smlens diff --outputs``): diff/outputs.py
)


def rank(severity: str | None) -> int:
    """Position of ``severity`` in SEVERITIES; -1 for None (nothing changed)."""
    return -1 if severity is None else SEVERITIES.index(severity)


def worst(severities) -> str | None:
    found = [s for s in severities if s is not None]
    return max(found, key=rank) if found else None


@dataclass
class Change:
    """One difference between export A and export B.

    ``path`` starts with the area ("signatures", "serve", "serving_default", "inputs", "x");
    ``before``/``after`` are JSON-able (None for the missing side of an addition or
    removal; the old and new names of a rename); ``reason`` says in plain words why it has
    its severity. A Change with children is a container: its severity is the worst of
    theirs and its reason sums them up.

    ``annotation`` names the kind of a change that no client or serving binary sees (an
    ``_``-prefixed attr, an op-version rename such as Add -> AddV2, a fingerprint field, file
    bytes); "" for a change that matters. Annotations are counted one line per kind and
    listed only on request.
    """

    path: tuple[str, ...]
    kind: str  # "added" | "removed" | "changed" | "renamed"
    before: Any = None
    after: Any = None
    severity: str = "info"
    reason: str = ""
    children: list[Change] = field(default_factory=list)
    annotation: str = ""
    role: str | None = None  # variables only: the variable's role (core.model.roles)

    @property
    def area(self) -> str:
        return self.path[0]

    def walk(self) -> Iterator[Change]:
        """This change, then its descendants, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def to_json(self) -> dict:
        return {
            "path": list(self.path),
            "kind": self.kind,
            "before": jsonable(self.before),
            "after": jsonable(self.after),
            "severity": self.severity,
            "reason": self.reason,
            "annotation": bool(self.annotation),
            "annotation_kind": self.annotation or None,
            "role": self.role,
            "children": [c.to_json() for c in self.children],
        }


def container(path: tuple[str, ...], children: list[Change], what: str = "") -> Change | None:
    """A "changed" Change holding ``children``, or None when there are none."""
    if not children:
        return None
    leaves = [c for child in children for c in _leaves(child)]
    summary = severity_tally(count_by_severity(c for c in leaves if not c.annotation))
    notes = sum(bool(c.annotation) for c in leaves)
    if notes:
        summary += (", " if summary else "") + counted(notes, "annotation")
    return Change(
        path,
        "changed",
        severity=worst(c.severity for c in children) or "info",
        reason=f"{what or path[-1]}: {summary}",
        children=children,
        annotation="" if any(not c.annotation for c in leaves) else "annotations",
    )


def without_annotations(change: Change) -> Change | None:
    """A copy of ``change`` without its annotation leaves; None when nothing else is left."""
    if change.annotation:
        return None
    if not change.children:
        return change
    kept = [c for c in map(without_annotations, change.children) if c is not None]
    if not kept:
        return None
    return replace(change, children=kept, severity=worst(c.severity for c in kept) or "info")


def _leaves(change: Change) -> Iterator[Change]:
    return (c for c in change.walk() if not c.children)


def count_by_severity(changes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in changes:
        counts[c.severity] = counts.get(c.severity, 0) + 1
    return counts


def severity_tally(counts: dict[str, int]) -> str:
    """ "2 breaking, 1 info": the counts worst first, severities with none left out."""
    return ", ".join(f"{counts[s]} {s}" for s in reversed(SEVERITIES) if counts.get(s))


@dataclass(frozen=True)
class ValueDelta:
    """How the values of one variable present in both exports (same dtype and shape) moved.

    ``read`` is False when the stored crc32c and size matched, so no byte was read and
    ``identical`` is True; the figures are None when values were not compared (``--no-values``,
    strings, optimizer state and metrics). ``relative_l2`` is ||b - a|| / ||a||: inf when a is
    all zeros and b is not. Elements that became or stopped being NaN/Inf make the figures
    inf. ``role``, ``slot_of`` and ``slot_name`` are A's variable's (core.model.roles); a
    one-element tensor keeps both values (``scalar_a``, ``scalar_b``: an optimizer's
    iterations). ``constant`` marks a frozen weight, read from the graph.
    """

    name: str
    key_a: str
    key_b: str
    dtype: str
    shape: tuple[int, ...] | None
    identical: bool | None  # None: unknown (values differ by checksum, not compared)
    read: bool = False
    count: int = 0
    changed_count: int | None = None
    max_abs: float | None = None
    mean_abs: float | None = None
    relative_l2: float | None = None
    note: str = ""
    role: str = WEIGHT
    slot_of: str | None = None
    slot_name: str | None = None
    scalar_a: float | int | None = None
    scalar_b: float | int | None = None
    constant: bool = False  # a frozen weight (a Const tensor of the graph), not a variable

    @property
    def changed_fraction(self) -> float | None:
        if self.changed_count is None:
            return None
        return self.changed_count / self.count if self.count else 0.0

    def to_json(self) -> dict:
        out = jsonable(asdict(self))
        out["changed_fraction"] = jsonable(self.changed_fraction)
        return out


@dataclass(frozen=True)
class ReleaseNeed:
    """The oldest TensorFlow release that loads one side's meta graph
    (core/analysis/releases), as a report shows it beside the changes."""

    side: str  # "a" | "b"
    tag_set: str
    release: str  # "2.10"
    text: str  # "needs TensorFlow >= 2.10 (op StatelessShuffle since 2.10)"


@dataclass
class ModelDiff:
    """What changed from export ``a`` to export ``b``, area by area (see AREAS)."""

    a: str
    b: str
    groups: dict[str, list[Change]] = field(default_factory=lambda: {a: [] for a in AREAS})
    value_deltas: dict[str, ValueDelta] = field(default_factory=dict)  # by variable name
    identical_parts: dict[str, bool] = field(default_factory=dict)  # "graph", "variables", ...
    function_matches: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    values_compared: bool = True
    problems: list[Problem] = field(default_factory=list)
    releases: list[ReleaseNeed] = field(default_factory=list)  # A's meta graphs, then B's
    outputs: Any = None  # diff/outputs.py's OutputsDiff when both exports were run

    def walk(self) -> Iterator[Change]:
        """Every Change, containers included, area by area."""
        for area in AREAS:
            for change in self.groups.get(area, []):
                yield from change.walk()

    def changes(
        self, min_severity: str = "info", area: str | None = None, annotations: bool = False
    ) -> list[Change]:
        """The concrete changes (leaves of the tree) at ``min_severity`` or worse; the
        annotations (see Change) only when ``annotations``."""
        floor = rank(min_severity)
        return [
            c
            for c in self.walk()
            if not c.children
            and rank(c.severity) >= floor
            and area in (None, c.area)
            and (annotations or not c.annotation)
        ]

    def annotations(self, area: str | None = None) -> dict[str, int]:
        """Annotation kind -> how many leaves of that kind (in ``area``, or everywhere)."""
        counts: dict[str, int] = {}
        for c in self.walk():
            if not c.children and c.annotation and area in (None, c.area):
                counts[c.annotation] = counts.get(c.annotation, 0) + 1
        return counts

    @property
    def worst_severity(self) -> str | None:
        """ "breaking", "risky", "info", or None when nothing changed."""
        return worst(c.severity for c in self.changes())

    def counts(self) -> dict[str, int]:
        counts = count_by_severity(self.changes())
        return {s: counts.get(s, 0) for s in SEVERITIES}

    def to_json(self) -> dict:
        return {
            "a": self.a,
            "b": self.b,
            "worst_severity": self.worst_severity,
            "counts": self.counts(),
            "annotation_counts": self.annotations(),
            "identical_parts": self.identical_parts,
            "groups": {area: [c.to_json() for c in self.groups[area]] for area in AREAS},
            "value_deltas": [d.to_json() for d in self.value_deltas.values()],
            "values_compared": self.values_compared,
            "function_matches": {
                tag_set: [{"a": a, "b": b, "how": how} for a, b, how in pairs]
                for tag_set, pairs in self.function_matches.items()
            },
            "problems": [asdict(p) for p in self.problems],
            "releases": [asdict(r) for r in self.releases],
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
        }


def jsonable(value: Any) -> Any:
    """``value`` with tuples as lists and non-finite floats as "inf", "-inf" or "nan"."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


class Steps:
    """Progress over a span of [0, 1], and the cancellation check, for the slow stages."""

    def __init__(
        self,
        progress: Progress | None,
        cancelled: CancelCheck | None,
        start: float = 0.0,
        end: float = 1.0,
    ):
        self._progress, self._cancelled = progress, cancelled
        self.start, self.end = start, end

    def check(self) -> None:
        if self._cancelled is not None and self._cancelled():
            raise Cancelled("the diff was cancelled")

    def report(self, fraction: float, text: str) -> None:
        """Check for cancellation, then report ``fraction`` of this span done."""
        self.check()
        if self._progress is not None:
            done = min(max(fraction, 0.0), 1.0)
            self._progress(self.start + (self.end - self.start) * done, text)

    def span(self, start: float, end: float) -> Steps:
        """The part [start, end] of this span, as its own Steps."""
        width = self.end - self.start
        return Steps(
            self._progress, self._cancelled, self.start + width * start, self.start + width * end
        )
