"""What a pull-request report of a diff holds, chosen once for every format of it
(markdown.py, html.py): the verdict, the area lines, the breaking and risky changes with
their reasons, each area's other changes (capped, so a PR comment stays under GitHub's
65,536 characters), the variables whose values moved most, the outputs both computed on
the same inputs when they were run, and the TensorFlow release each side needs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from smlens.core.diff.changes import AREAS, Change, ModelDiff, ReleaseNeed, ValueDelta
from smlens.core.diff.outputs import OutputsDiff, figure_text, outputs_line
from smlens.core.diff.report.summary import DiffSummary, area_line, summarize, values_summary
from smlens.core.diff.report.text import MARKERS, change_detail, function_entries

DETAILS_LISTED = 50  # info changes listed per area; the rest are counted
LARGEST_DELTAS = 10


@dataclass(frozen=True)
class ReviewEntry:
    """One change as the report lists it: its kind, its path, and why it matters."""

    kind: str  # "added" | "removed" | "changed" | "renamed"
    path: str  # "signatures/serve/serving_default/outputs/probs"
    text: str  # the reason, or "before -> after" for a short value

    @property
    def marker(self) -> str:
        return MARKERS[self.kind]


@dataclass(frozen=True)
class ReviewArea:
    """The info changes of one area, shown folded (``<details>``)."""

    area: str
    line: str  # the area's summary line: "7 info (4 added, 2 changed, 1 removed)"
    entries: list[ReviewEntry]
    more: int  # changes left out of ``entries``
    note: str = ""  # the variables area: how many are identical, moved, not compared


@dataclass(frozen=True)
class ReleaseRow:
    """The oldest TensorFlow release that loads one tag-set, on each side ("" when a side
    lacks the tag-set)."""

    tag_set: str
    a: str
    b: str
    a_text: str  # "TensorFlow >= 2.10 (op StatelessShuffle since 2.10)"
    b_text: str

    @property
    def changed(self) -> bool:
        return self.a != self.b


@dataclass(frozen=True)
class OutputRow:
    """One output of one signature as the report's outputs table shows it; figures are
    text already ("" where they do not apply: no top-1 for a regression output)."""

    signature: str  # "serve/serving_default"
    key: str
    within: bool
    verdict: str  # "within tolerance" | "beyond on 5 of 16 inputs" | why it was not compared
    max_abs: str
    mean_abs: str
    max_rel: str
    beyond: str  # "3 of 48 elements"
    cosine: str
    top1: str  # "14 of 16"


@dataclass(frozen=True)
class Review:
    a: str
    b: str
    summary: DiffSummary
    identical: list[str]  # parts byte-identical on both sides
    differing: list[str]
    flagged: dict[str, list[ReviewEntry]]  # "breaking", "risky" -> their changes
    areas: list[ReviewArea]
    deltas: list[ValueDelta]  # the largest value changes, by relative L2 then max |diff|
    deltas_moved: int  # how many variables have new values in all
    releases: list[ReleaseRow]
    problems: list[str]
    delta_noun: str = "variable"  # "constant" when every moved tensor is a frozen weight
    outputs_line: str = ""  # "outputs: 3 of 3 within tolerance on 16 inputs", when run
    outputs_inputs: str = ""  # where the inputs came from, per signature
    outputs: list[OutputRow] = field(default_factory=list)


def review(diff: ModelDiff) -> Review:
    """The report's content, in the order every format shows it."""
    flagged = {
        severity: [_entry(c) for c in diff.changes(severity) if c.severity == severity]
        for severity in ("breaking", "risky")
    }
    moved = [d for d in diff.value_deltas.values() if d.identical is False]
    return Review(
        a=diff.a,
        b=diff.b,
        summary=summarize(diff),
        identical=[part for part, same in diff.identical_parts.items() if same],
        differing=[part for part, same in diff.identical_parts.items() if not same],
        flagged=flagged,
        areas=[area for area in (_area(diff, name) for name in AREAS) if area is not None],
        deltas=sorted(moved, key=_largest_first)[:LARGEST_DELTAS],
        deltas_moved=len(moved),
        releases=_release_rows(diff.releases),
        problems=[str(p) for p in diff.problems],
        delta_noun="constant" if moved and all(d.constant for d in moved) else "variable",
        outputs_line=outputs_line(diff.outputs) if diff.outputs is not None else "",
        outputs_inputs=_outputs_inputs(diff.outputs),
        outputs=_output_rows(diff.outputs),
    )


def relative_l2_text(value: float | None) -> str:
    """A value delta's relative L2 in a table cell: "34.394%", or what an infinite one
    means (A held only zeros, so any change is infinitely large relative to it)."""
    if value is None:
        return "?"
    if math.isinf(value):
        return "∞ (A all zeros)"
    return f"{value:.3%}"


def _outputs_inputs(outputs: OutputsDiff | None) -> str:
    if outputs is None:
        return ""
    sources = dict.fromkeys(s.inputs for s in outputs.signatures if s.inputs)
    text = "; ".join(sources)
    if outputs.baseline:
        text += f"{'; ' if text else ''}B against the saved run {outputs.baseline}"
    return text


def _output_rows(outputs: OutputsDiff | None) -> list[OutputRow]:
    if outputs is None:
        return []
    rows = []
    for sig in outputs.signatures:
        name = f"{sig.tag_set}/{sig.signature}"
        if sig.problem:
            rows.append(OutputRow(name, "", False, f"not compared: {sig.problem}", *[""] * 6))
            continue
        for stats in sig.outputs.values():
            rows.append(_output_row(name, stats))
    return rows


def _output_row(signature: str, stats) -> OutputRow:
    if stats.status != "compared":
        return OutputRow(signature, stats.key, False, stats.detail, *[""] * 6)
    if stats.within:
        verdict = "within tolerance"
    else:
        verdict = f"beyond on {stats.rows_beyond:,} of {stats.rows:,} inputs"
    strings = stats.strings_equal is not None
    top1 = "" if stats.top1_rows is None else f"{stats.top1_agree:,} of {stats.top1_rows:,}"
    if strings:
        beyond = f"{stats.strings_differ:,} of {stats.count:,} strings differ"
    else:
        beyond = f"{stats.beyond:,} of {stats.count:,}"
    return OutputRow(
        signature=signature,
        key=stats.key,
        within=stats.within,
        verdict=verdict,
        max_abs="" if strings else figure_text(stats.max_abs),
        mean_abs="" if strings else figure_text(stats.mean_abs),
        max_rel="" if strings else figure_text(stats.max_rel),
        beyond=beyond,
        cosine="" if strings else figure_text(stats.cosine, 6),
        top1=top1,
    )


def _entry(change: Change, with_path_from: int = 0) -> ReviewEntry:
    detail = f": {change.reason}" if change.children else change_detail(change)
    return ReviewEntry(change.kind, "/".join(change.path[with_path_from:]), detail[2:])


def _area(diff: ModelDiff, area: str) -> ReviewArea | None:
    """The info changes of ``area`` (a changed function as one entry), or None when it has
    none and is not the variables area."""
    info = [c for c in diff.changes(area=area) if c.severity == "info"]
    entries = function_entries(diff, info) if area == "functions" else info
    note = values_summary(diff) if area == "variables" and diff.value_deltas else ""
    if not entries and not note:
        return None
    return ReviewArea(
        area=area,
        line=area_line(diff, area).text,
        entries=[_entry(c, 1) for c in entries[:DETAILS_LISTED]],
        more=max(len(entries) - DETAILS_LISTED, 0),
        note=note,
    )


def _largest_first(delta: ValueDelta) -> tuple[float, float]:
    def finite(value: float | None) -> float:
        if value is None or math.isnan(value):
            return 0.0
        return value

    return (-finite(delta.relative_l2), -finite(delta.max_abs))


def _release_rows(needs: list[ReleaseNeed]) -> list[ReleaseRow]:
    """One row per tag-set of either side, A's order first."""
    by_side: dict[str, dict[str, ReleaseNeed]] = {"a": {}, "b": {}}
    for need in needs:
        by_side[need.side][need.tag_set] = need
    tag_sets = list(dict.fromkeys([*by_side["a"], *by_side["b"]]))
    rows = []
    for tag_set in tag_sets:
        a, b = by_side["a"].get(tag_set), by_side["b"].get(tag_set)
        rows.append(
            ReleaseRow(
                tag_set,
                a.release if a else "",
                b.release if b else "",
                a.text.removeprefix("needs ") if a else "",
                b.text.removeprefix("needs ") if b else "",
            )
        )
    return rows
