"""A diff as text, summary first: what ``smlens diff`` prints.

The verdict, one line per area with its counts and the annotations counted by kind, then the
breaking and risky changes with their reasons, then each area's info changes. Pieces of text
carry a style ("breaking", "risky", "ok", "area", "dim") that the caller's ``paint`` may
colour; the words are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable

from smlens.core.diff.changes import AREAS, Change, ModelDiff
from smlens.core.diff.outputs import OutputsDiff, outputs_line, signature_line, stats_text
from smlens.core.diff.report.folding import fold_entries
from smlens.core.diff.report.summary import summarize, values_summary
from smlens.core.diff.report.training_state import is_summarised, training_state_lines
from smlens.core.model import Model
from smlens.core.model.text import tag_set_text

LISTED = 20  # info changes listed per area unless every one is asked for
MARKERS = {"added": "+", "removed": "-", "changed": "~", "renamed": ">"}

Paint = Callable[[str, str], str]


def plain(style: str, text: str) -> str:
    """No colour: the text as it is, whatever its style."""
    return text


def render_diff(
    diff: ModelDiff,
    a: Model | None = None,
    b: Model | None = None,
    *,
    paint: Paint = plain,
    all: bool = False,
    slots: bool = False,
) -> str:
    """The whole text: the first few info changes of each area unless ``all``, which also
    lists the annotations; ``a`` and ``b`` add their format and tag-sets to the heading.
    Optimizer state and metrics are summed up one line each unless ``slots`` or ``all``."""
    summary = summarize(diff)
    out = [f"A: {diff.a}{_about(a)}", f"B: {diff.b}{_about(b)}", ""]
    if diff.outputs is not None:
        beyond = any(sig.problem or sig.beyond for sig in diff.outputs.signatures)
        out.append(paint("risky" if beyond else "ok", outputs_line(diff.outputs)))
    out.append(paint(summary.style, summary.verdict))
    if summary.detail:
        out.append(summary.detail)
    parts = diff.identical_parts
    if parts:
        same = [p for p, v in parts.items() if v]
        other = [p for p, v in parts.items() if not v]
        out.append(
            "Byte-identical: "
            + (", ".join(same) or "nothing")
            + ("; differ: " + ", ".join(other) if other else "")
        )
    out.append("")
    width = max(len(line.area) for line in summary.areas) + 1
    for line in summary.areas:
        name = line.area.replace("_", "-")
        text = line.text if line.changed else paint("dim", line.text)
        out.append(f"  {paint('area', name.ljust(width))} {text}")
    if summary.annotations:
        out.append(
            paint(
                "dim",
                f"  annotations (no client or serving binary sees them): {summary.annotations}",
            )
        )
    for severity in ("breaking", "risky"):
        changes = [c for c in diff.changes(severity) if c.severity == severity]
        if changes:
            out += ["", paint(severity, f"{severity.capitalize()} changes ({len(changes)})")]
            for c in changes:
                out.append(f"  {MARKERS[c.kind]} {'/'.join(c.path)}")
                out.append(f"      {c.reason}")
    hidden = 0
    for area in AREAS:
        lines, left = _area_lines(diff, area, paint, all, slots)
        out += lines
        hidden += left
    if diff.outputs is not None:
        out += _outputs_lines(diff.outputs, paint)
    if hidden:
        out += ["", paint("dim", f"{hidden} more with --all (or --json)")]
    for problem in diff.problems:
        out.append(paint("risky", f"warning: {problem}"))
    return "\n".join(out) + "\n"


def _outputs_lines(outputs: OutputsDiff, paint: Paint) -> list[str]:
    """Each signature run on both sides, how, and one line of figures per output."""
    lines = ["", paint("area", "outputs") + f"  ({outputs.how}, {outputs.seconds:.1f} s)"]
    for note in outputs.notes:
        lines.append(paint("dim", f"  {note}"))
    for sig in outputs.signatures:
        fed = (
            f"{sig.rows:,} inputs in {sig.runs:,} calls" if sig.runs > 1 else f"{sig.rows:,} inputs"
        )
        lines.append(f"  {sig.tag_set}/{sig.signature} ({fed}, from {sig.inputs})")
        if sig.problem:
            lines.append(f"    {paint('risky', signature_line(sig))}")
        for stats in sig.outputs.values():
            style = "ok" if stats.within else "risky"
            lines.append(f"    {paint(style, stats.key)}: {stats_text(stats)}")
    return lines


def _about(model: Model | None) -> str:
    if model is None:
        return ""
    tag_sets = "; ".join(tag_set_text(mg.tag_set) for mg in model.meta_graphs)
    return f"  ({model.format}" + (f", tag-sets {tag_sets}" if tag_sets else "") + ")"


def _area_lines(
    diff: ModelDiff, area: str, paint: Paint, all: bool, slots: bool = False
) -> tuple[list[str], int]:
    """The info changes of one area (annotations too with ``all``), and how many were
    left out. Without ``all``, functions are listed one line each (what changed in them),
    not node by node, alike entries are folded (folding.py), and training state is summed
    up (unless ``slots``)."""
    info = [c for c in diff.changes(area=area, annotations=True) if c.severity == "info"]
    summed = [] if all or slots else [c for c in info if is_summarised(c)]
    info = [c for c in info if c not in summed]
    notes = sum(bool(c.annotation) for c in info)
    if not all:
        info = [c for c in info if not c.annotation]
    entries = info if all or area != "functions" else function_entries(diff, info)
    if not all:
        entries = fold_entries(area, entries, LISTED)
    every = all or (slots and area == "variables")
    shown = entries if every else entries[:LISTED]
    covered = sum(len(_plain_leaves(c)) for c in shown) if entries is not info else len(shown)
    left = len(info) - covered + (0 if all else notes)
    if not shown and area != "variables":
        return [], left
    lines = ["", paint("area", area.replace("_", "-"))]
    if area == "variables":
        lines.append("  " + values_summary(diff))
    for c in shown:
        mark = paint("dim", f" [annotation: {c.annotation}]") if c.annotation else ""
        detail = f": {c.reason}" if c.children else change_detail(c)
        lines.append(f"  {MARKERS[c.kind]} {'/'.join(c.path[1:])}{detail}{mark}")
    if len(entries) > len(shown):
        lines.append(paint("dim", f"  ... {len(entries) - len(shown)} more in {area}"))
    if summed:  # after the weights: what a reader of two trainings looks at first
        listed = "listed with --slots or --all"
        lines += [f"  {line}; {listed}" for line in training_state_lines(diff)]
    return lines, left


def function_entries(diff: ModelDiff, info: list[Change]) -> list[Change]:
    """One entry per function holding an info change: the function's own Change."""
    wanted = {c.path[:3] for c in info}
    return [
        fn
        for tag_set in diff.groups.get("functions", [])
        for fn in tag_set.children
        if fn.path[:3] in wanted
    ]


def _plain_leaves(change: Change) -> list[Change]:
    return [c for c in change.walk() if not c.children and not c.annotation]


def change_detail(c: Change) -> str:
    """ ": before -> after" for short plain values, else the reason."""
    plain_types = (str, int, float, type(None))
    if (
        c.kind == "changed"
        and isinstance(c.before, plain_types)
        and isinstance(c.after, plain_types)
    ):
        text = f"{c.before} -> {c.after}"
        if c.before is not None and len(text) <= 100:
            return f": {text}"
    return f": {c.reason}"
