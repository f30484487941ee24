"""``smlens scan``: print where a model uses denylisted and other file and system ops, then
the ops TensorFlow itself does not define, by namespace, with the package that provides them."""

from __future__ import annotations

import sys

from smlens.core.analysis.ops import CustomOpGroup, custom_ops
from smlens.core.analysis.scan import parse_op_denylist, render_scan, scan_model
from smlens.core.formats.reader import open_model
from smlens.core.model import MetaGraph
from smlens.core.model.text import counted

CUSTOM_OPS_TITLE = "Ops TensorFlow does not define"


def _nodes(n: int) -> str:
    return counted(n, "node")


def _group_lines(group: CustomOpGroup) -> list[str]:
    ops = ", ".join(f"{op} ({_nodes(n)})" for op, n in group.ops.items())
    if group.module:
        where = f"usually from {group.package}: smlens run --load {group.module}"
    else:
        where = "no known package: smlens run --load the op library (.so) that defines them"
    return [f"  {group.namespace or 'No namespace'}: {ops}", f"    {where}"]


def render_custom_ops(meta_graphs: list[MetaGraph]) -> str:
    """A heading per meta graph that uses ops TensorFlow does not define, a line per
    namespace under it; one "none" line when no meta graph does. The lines never start
    with "MetaGraph with tag set", so saved_model_cli's scan lines stay greppable."""
    lines = []
    for mg in meta_graphs:
        groups = custom_ops([mg])
        if groups:
            lines.append(f"{CUSTOM_OPS_TITLE}, in tag set {list(mg.tags)}:")
            for group in groups:
                lines += _group_lines(group)
    return "\n".join(lines or [f"{CUSTOM_OPS_TITLE}: none"]) + "\n"


def print_scan(path: str, tag_set: str | None = None, op_denylist: str | None = None) -> int:
    model = open_model(path)
    for problem in model.problems:
        print(f"smlens: warning: {problem}", file=sys.stderr)
    report = scan_model(model, tag_set, parse_op_denylist(op_denylist))
    print(render_scan(report), end="")
    scanned = [model.meta_graph(tag_set)] if tag_set else model.meta_graphs
    print(render_custom_ops(scanned), end="")
    return 0
