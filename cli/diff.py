"""``smlens diff A B``: what changed between two exports, worst first, and an exit code a CI
job can gate on (0: nothing at the ``--fail-on`` level changed, 1: something did, 2: error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TextIO

from smlens.core.diff.changes import AREAS, Change, ModelDiff, rank
from smlens.core.diff.model_diff import diff_models
from smlens.core.diff.summary import summarize, values_summary
from smlens.core.formats.reader import open_model
from smlens.core.model import Model

FAIL_ON = {"breaking": "breaking", "risky": "risky", "any": "info", "never": None}
_LIMIT = 20  # info lines shown per area without --all

_COLORS = {
    "breaking": "\033[1;31m",
    "risky": "\033[33m",
    "ok": "\033[32m",
    "area": "\033[1;36m",
    "dim": "\033[2m",
}
_RESET = "\033[0m"
_MARKERS = {"added": "+", "removed": "-", "changed": "~", "renamed": ">"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smlens diff",
        description="Compare two exports: what changed, and does it break clients of A?",
    )
    parser.add_argument("a", help="the old export (SavedModel folder, checkpoint, ...)")
    parser.add_argument("b", help="the new export")
    parser.add_argument("--json", action="store_true", help="print the whole diff model as JSON")
    parser.add_argument(
        "--fail-on",
        choices=list(FAIL_ON),
        default="breaking",
        help="exit 1 when a change at this level or worse is found (default: breaking)",
    )
    parser.add_argument(
        "--no-values", action="store_true", help="do not read variable values to compare them"
    )
    parser.add_argument(
        "--slots", action="store_true", help="also compare optimizer slot variables' values"
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="list every info change node by node, and the annotations (changes no client "
        "or serving binary sees: _-prefixed attrs, op versions, fingerprints, file bytes)",
    )
    parser.add_argument(
        "--color", choices=["auto", "always", "never"], default="auto", help="ANSI colours"
    )
    parser.add_argument(
        "--progress", action="store_true", help="report progress on stderr even if not a TTY"
    )
    return parser


def run_diff(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    a, b = open_model(args.a), open_model(args.b)
    show_progress = args.progress or sys.stderr.isatty()
    line = _ProgressLine(sys.stderr, sys.stderr.isatty()) if show_progress else None
    try:
        diff = diff_models(a, b, values=not args.no_values, slots=args.slots, progress=line)
    finally:
        if line is not None:
            line.close()
    if args.json:
        json.dump(diff.to_json(), sys.stdout, indent=2)
        print()
    else:
        sys.stdout.write(render_diff(diff, a, b, color=_use_color(args.color), all=args.all))
    return exit_code(diff, args.fail_on)


def exit_code(diff: ModelDiff, fail_on: str) -> int:
    """1 when a change at ``fail_on`` ("breaking", "risky", "any", "never") or worse exists."""
    floor = FAIL_ON[fail_on]
    if floor is None:
        return 0
    return 1 if rank(diff.worst_severity) >= rank(floor) else 0


def _use_color(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


class _ProgressLine:
    """Progress on stderr: one line redrawn on a TTY, else a line per tenth done and one for
    each step of the finish."""

    def __init__(self, stream: TextIO, tty: bool):
        self.stream, self.tty = stream, tty
        self.last_time = 0.0
        self.last_tenth = -1

    def __call__(self, fraction: float, text: str) -> None:
        if self.tty:
            now = time.monotonic()
            if now - self.last_time >= 0.1 or fraction >= 1.0:
                self.last_time = now
                self.stream.write(f"\r{fraction:4.0%} {text[:70]:<70}")
                self.stream.flush()
        elif int(fraction * 10) > self.last_tenth or fraction >= 1.0:
            self.last_tenth = int(fraction * 10)
            self.stream.write(f"{fraction:4.0%} {text}\n")

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 76 + "\r")
            self.stream.flush()


# -- text ------------------------------------------------------------------------------------


def render_diff(
    diff: ModelDiff, a: Model | None = None, b: Model | None = None, *, color=False, all=False
) -> str:
    """What ``smlens diff`` prints, summary first: the verdict, one line per area with its
    counts and the annotations counted by kind, then the breaking and risky changes with
    their reasons, then each area's info changes (the first few unless ``all``, which also
    lists the annotations)."""
    paint = _painter(color)
    summary = summarize(diff)
    out = [f"A: {diff.a}{_about(a)}", f"B: {diff.b}{_about(b)}", ""]
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
                out.append(f"  {_MARKERS[c.kind]} {'/'.join(c.path)}")
                out.append(f"      {c.reason}")
    hidden = 0
    for area in AREAS:
        lines, left = _area_lines(diff, area, paint, all)
        out += lines
        hidden += left
    if hidden:
        out += ["", paint("dim", f"{hidden} more with --all (or --json)")]
    for problem in diff.problems:
        out.append(paint("risky", f"warning: {problem}"))
    return "\n".join(out) + "\n"


def _about(model: Model | None) -> str:
    if model is None:
        return ""
    tag_sets = "; ".join(mg.tag_set or "<no tags>" for mg in model.meta_graphs)
    return f"  ({model.format}" + (f", tag-sets {tag_sets}" if tag_sets else "") + ")"


def _area_lines(diff: ModelDiff, area: str, paint, all: bool) -> tuple[list[str], int]:
    """The info changes of one area (annotations too with ``all``), and how many were
    left out. Without ``all``, functions are listed one line each (what changed in them),
    not node by node."""
    info = [c for c in diff.changes(area=area, annotations=True) if c.severity == "info"]
    notes = sum(bool(c.annotation) for c in info)
    if not all:
        info = [c for c in info if not c.annotation]
    entries = info if all or area != "functions" else _functions(diff, info)
    shown = entries if all else entries[:_LIMIT]
    covered = sum(len(_plain_leaves(c)) for c in shown) if entries is not info else len(shown)
    left = len(info) - covered + (0 if all else notes)
    if not shown and area != "variables":
        return [], left
    lines = ["", paint("area", area.replace("_", "-"))]
    if area == "variables":
        lines.append("  " + values_summary(diff))
    for c in shown:
        mark = paint("dim", f" [annotation: {c.annotation}]") if c.annotation else ""
        detail = f": {c.reason}" if c.children else _detail(c)
        lines.append(f"  {_MARKERS[c.kind]} {'/'.join(c.path[1:])}{detail}{mark}")
    if not all and len(entries) > len(shown):
        lines.append(paint("dim", f"  ... {len(entries) - len(shown)} more in {area}"))
    return lines, left


def _functions(diff: ModelDiff, info: list[Change]) -> list[Change]:
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


def _detail(c: Change) -> str:
    """ ": before -> after" for short plain values, else the reason."""
    plain = (str, int, float, type(None))
    if c.kind == "changed" and isinstance(c.before, plain) and isinstance(c.after, plain):
        text = f"{c.before} -> {c.after}"
        if c.before is not None and len(text) <= 100:
            return f": {text}"
    return f": {c.reason}"


def _painter(color: bool):
    def paint(style: str, text: str) -> str:
        return f"{_COLORS[style]}{text}{_RESET}" if color else text

    return paint
