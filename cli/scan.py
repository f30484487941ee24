"""``smlens scan``: print where a model uses denylisted and other file and system ops."""

from __future__ import annotations

import sys

from smlens.core.analysis.scan import parse_op_denylist, render_scan, scan_model
from smlens.core.formats.reader import open_model


def print_scan(path: str, tag_set: str | None = None, op_denylist: str | None = None) -> int:
    model = open_model(path)
    for problem in model.problems:
        print(f"smlens: warning: {problem}", file=sys.stderr)
    report = scan_model(model, tag_set, parse_op_denylist(op_denylist))
    print(render_scan(report), end="")
    return 0
