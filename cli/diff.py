"""``smlens diff A B``: what changed between two exports, worst first, and an exit code a CI
job can gate on (0: nothing at the ``--fail-on`` level changed, 1: something did, 2: error).
With ``--outputs`` it also runs both (cli/outputs.py): an output beyond tolerance is risky.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TextIO

from smlens.cli.outputs import add_output_flags, diff_outputs, wants_outputs
from smlens.core.diff.changes import ModelDiff, rank
from smlens.core.diff.model_diff import diff_models
from smlens.core.diff.outputs import output_changes
from smlens.core.diff.report.html import render_html
from smlens.core.diff.report.markdown import render_markdown
from smlens.core.diff.report.text import plain, render_diff
from smlens.core.formats.reader import open_model

FAIL_ON = {"breaking": "breaking", "risky": "risky", "any": "info", "never": None}

_COLORS = {
    "breaking": "\033[1;31m",
    "risky": "\033[33m",
    "ok": "\033[32m",
    "area": "\033[1;36m",
    "dim": "\033[2m",
}
_RESET = "\033[0m"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smlens diff",
        description="Compare two exports: what changed, and does it break clients of A?",
    )
    parser.add_argument("a", help="the old export (SavedModel folder, checkpoint, ...)")
    parser.add_argument("b", nargs="?", help="the new export (with --against, the only one)")
    parser.add_argument(
        "--format",
        choices=["text", "json", "markdown", "html"],
        default="text",
        help="text (default); json, the whole diff model; markdown, a pull-request comment; "
        "html, a self-contained page for a CI artifact",
    )
    parser.add_argument("--json", action="store_true", help="the same as --format json")
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
        "--slots",
        action="store_true",
        help="also compare the values of optimizer state and metrics, and list them one by one",
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
    add_output_flags(parser)
    return parser


def run_diff(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.against:
        if args.b is not None:
            parser.error("with --against FILE.npz, name only the new export B")
        a, b = None, open_model(args.a)
    elif args.b is None:
        parser.error("name two exports, A and B (or one with --against FILE.npz)")
    else:
        a, b = open_model(args.a), open_model(args.b)
    show_progress = args.progress or sys.stderr.isatty()
    line = _ProgressLine(sys.stderr, sys.stderr.isatty()) if show_progress else None
    try:
        if a is None:
            diff = ModelDiff(a=args.against, b=str(b.path))
        else:
            diff = diff_models(a, b, values=not args.no_values, slots=args.slots, progress=line)
    finally:
        if line is not None:
            line.close()
    if wants_outputs(args):
        diff.outputs = diff_outputs(args, a, b)
        diff.groups["outputs"] = output_changes(diff.outputs)
    output = "json" if args.json else args.format
    if output == "json":
        json.dump(diff.to_json(), sys.stdout, indent=2)
        print()
    elif output == "markdown":
        sys.stdout.write(render_markdown(diff))
    elif output == "html":
        sys.stdout.write(render_html(diff))
    else:
        paint = _ansi if _use_color(args.color) else plain
        sys.stdout.write(render_diff(diff, a, b, paint=paint, all=args.all, slots=args.slots))
    return exit_code(diff, args.fail_on)


def exit_code(diff: ModelDiff, fail_on: str) -> int:
    """1 when a change at ``fail_on`` ("breaking", "risky", "any", "never") or worse exists."""
    floor = FAIL_ON[fail_on]
    if floor is None:
        return 0
    return 1 if rank(diff.worst_severity) >= rank(floor) else 0


def _ansi(style: str, text: str) -> str:
    return f"{_COLORS[style]}{text}{_RESET}"


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
