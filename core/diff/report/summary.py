"""The diff summed up, as the command line and the compare window open with it: the verdict
and what kind of change it is, one line per area with its counts, and the annotations
counted by kind."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from smlens.core.diff.changes import (
    AREAS,
    Change,
    ModelDiff,
    ValueDelta,
    count_by_severity,
    severity_tally,
)
from smlens.core.model.roles import is_training_state
from smlens.core.model.text import counted

# Annotations of every new export: the saver's serialized object graph lists variables in
# the order they were tracked, which is part of the file bytes rather than of the graph.
BOOKKEEPING = {"fingerprint", "file bytes", "saver plumbing"}
SUMMARY_AREAS = ("signatures", "ops", "functions", "graph", "variables", "assets")
_GRAPH_AREAS = ("tag_sets", "signatures", "ops", "functions", "graph", "assets")
VERDICTS = {
    "breaking": "BREAKING: clients of A will fail against B",
    "risky": "RISKY: nothing certainly breaks, but check the changes below",
    "info": "Compatible: nothing breaks clients of A",
}


@dataclass(frozen=True)
class AreaLine:
    area: str
    text: str  # "3 info (2 changed, 1 added)", "no change"
    changed: bool


@dataclass(frozen=True)
class DiffSummary:
    verdict: str  # the headline, one sentence
    style: str  # "breaking" | "risky" | "ok": how to colour the headline
    detail: str  # what kind of change it is, in words ("" when the verdict says it all)
    areas: list[AreaLine]
    annotations: str  # "" or "24 attr _output_shapes, 3 fingerprint, ..."


def summarize(diff: ModelDiff) -> DiffSummary:
    """The verdict, what kind of change it is, the area lines and the annotations of ``diff``."""
    changes = diff.changes()
    notes = diff.annotations()
    worst = diff.worst_severity
    areas = [area_line(diff, area) for area in AREAS if area in SUMMARY_AREAS or _has(diff, area)]
    note_text = _most_first(notes)
    if worst is None:
        if not notes:
            verdict = "No differences"
        elif set(notes) <= BOOKKEEPING:
            verdict = "No semantic change: only fingerprints and file bytes differ"
        else:
            verdict = "No semantic change: only annotations differ"
        return DiffSummary(verdict, "ok", "", areas, note_text)
    return DiffSummary(
        f"{VERDICTS[worst]} ({severity_tally(diff.counts())})",
        worst if worst != "info" else "ok",
        _what_kind(diff, changes),
        areas,
        note_text,
    )


def _has(diff: ModelDiff, area: str) -> bool:
    return bool(diff.changes(area=area, annotations=True))


def _what_kind(diff: ModelDiff, changes: list[Change]) -> str:
    """ "Same graph, new weights: ..." when only variable values moved."""
    structural = [c for c in changes if c.area in _GRAPH_AREAS]
    variables = [c for c in changes if c.area == "variables"]
    values_only = all(c.kind == "changed" and c.before is None for c in variables)
    if structural or not variables or not values_only:
        return ""
    return "Same graph, new weights: " + _new_weights_text(diff)


def _new_weights_text(diff: ModelDiff) -> str:
    """How many weights changed and by how much."""
    deltas, noun = _weight_deltas(diff)
    moved = [d for d in deltas if d.identical is False]
    text = f"{len(moved)} of {counted(len(deltas), noun)} changed"
    finite = [d for d in moved if d.relative_l2 is not None and math.isfinite(d.relative_l2)]
    if finite:
        top = max(finite, key=lambda d: d.relative_l2)
        median = sorted(d.relative_l2 for d in finite)[len(finite) // 2]
        text += f" (relative L2: median {median:.3%}, largest {top.relative_l2:.3%} in {top.name})"
    unknown = sum(d.identical is None for d in deltas)
    return text + (f"; {unknown} differ by checksum, not compared" if unknown else "")


def _weight_deltas(diff: ModelDiff) -> tuple[list[ValueDelta], str]:
    """The deltas of the weights, and what to call them: "weight" when the exports also hold
    training state (summed up apart, see report.training_state), "constant" when all are
    frozen weights (two frozen graphs), else "variable"."""
    deltas = list(diff.value_deltas.values())
    weights = [d for d in deltas if not is_training_state(d.role)]
    if len(weights) < len(deltas):
        return weights, "weight"
    return weights, "constant" if weights and all(d.constant for d in weights) else "variable"


def values_summary(diff: ModelDiff) -> str:
    """The weights in both exports: how many are identical, moved, or not compared."""
    deltas, noun = _weight_deltas(diff)
    unread = sum(d.identical is True and not d.read for d in deltas)
    same = sum(d.identical is True for d in deltas)
    moved = sum(d.identical is False for d in deltas)
    unknown = len(deltas) - same - moved
    text = f"{counted(len(deltas), noun)} in both: {same} identical"
    text += f" ({unread} by checksum, unread), {moved} with new values"
    return text + (f", {unknown} differing but not compared" if unknown else "")


def area_line(diff: ModelDiff, area: str) -> AreaLine:
    """The changes of one area counted by severity and by kind, and its annotations."""
    changes = diff.changes(area=area)
    notes = sum(diff.annotations(area).values())
    extra = f" (+{counted(notes, 'annotation')})" if notes else ""
    if not changes:
        return AreaLine(area, "no change" + extra, False)
    by_severity = severity_tally(count_by_severity(changes))
    by_kind = _most_first(Counter(c.kind for c in changes))
    return AreaLine(area, f"{by_severity} ({by_kind}){extra}", True)


def _most_first(counts: dict[str, int]) -> str:
    """ "24 attr _output_shapes, 3 fingerprint": each count with its name, the most first."""
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items(), key=lambda i: -i[1]))
