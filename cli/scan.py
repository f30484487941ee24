"""``smlens scan``: print where a model uses denylisted and other file and system ops, then
the ops TensorFlow itself does not define, by namespace, with the package that provides them,
then TF Serving's warmup file, each record checked against its signature (exit 1 when one
does not fit), then the TensorFlow release each meta graph needs; with ``--target-tf``, what
that release lacks (exit 1 when anything)."""

from __future__ import annotations

import sys

from smlens.core.analysis.ops import CustomOpGroup, custom_ops
from smlens.core.analysis.releases import (
    Lacks,
    Need,
    Version,
    lacking,
    parse_release,
    release_table,
    required_release,
)
from smlens.core.analysis.scan import parse_op_denylist, render_scan, scan_model
from smlens.core.analysis.warmup import check_model_warmup, render_warmup
from smlens.core.errors import SmlensError
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


def render_releases(meta_graphs: list[MetaGraph]) -> str:
    """A line per meta graph: the TensorFlow release it needs, and its GraphDef versions."""
    lines = []
    for mg in meta_graphs:
        found = required_release(mg)
        lines.append(f"Tag set {list(mg.tags)} {found.text()}; {found.graph_def_text()}")
    return "\n".join(lines) + "\n" if lines else ""


def _need_line(need: Need, suffix: str = "") -> str:
    where = f": {_nodes(need.nodes)}, first {need.where}" if need.nodes else ""
    return f"  {need}{where}{suffix}"


def _lack_lines(lacks: Lacks) -> list[str]:
    pinned = release_table().newest
    lines = [_need_line(n) for n in (*lacks.ops, *lacks.attrs, *lacks.graph_def)]
    lines += [f"  op {op}: no TensorFlow release defines it" for op in lacks.custom]
    lines += [
        f"  attr {attr} of op {op}: TensorFlow {pinned} does not define it either"
        for op, attr in lacks.unknown_attrs
    ]
    lines += [
        f"  op {op}: cannot tell (TensorFlow {pinned} defines it; no release's wrappers date it)"
        for op in lacks.undated
    ]
    return lines


def render_lacking(meta_graphs: list[MetaGraph], target: Version) -> tuple[str, bool]:
    """What ``target`` lacks, a heading per meta graph, and whether it lacks anything."""
    lines, anything = [], False
    for mg in meta_graphs:
        lacks = lacking(mg, target)
        anything = anything or lacks.anything
        tags = list(mg.tags)
        if lacks.anything:
            lines.append(f"TensorFlow {target} lacks, of tag set {tags}:")
        else:
            lines.append(f"TensorFlow {target} lacks nothing tag set {tags} uses")
        lines += _lack_lines(lacks)
    return "\n".join(lines) + "\n" if lines else "", anything


def target_release(text: str) -> Version:
    """``--target-tf``'s release, which the table must hold."""
    try:
        target = parse_release(text)
    except ValueError as e:
        raise SmlensError("--target-tf", str(e)) from None
    table = release_table()
    if not table.holds(target):
        raise SmlensError(
            "--target-tf",
            f"the release table holds TensorFlow {table.oldest} to {table.newest}, not {target}",
        )
    return target


def print_scan(
    path: str,
    tag_set: str | None = None,
    op_denylist: str | None = None,
    target_tf: str | None = None,
) -> int:
    target = target_release(target_tf) if target_tf is not None else None
    model = open_model(path)
    for problem in model.problems:
        print(f"smlens: warning: {problem}", file=sys.stderr)
    report = scan_model(model, tag_set, parse_op_denylist(op_denylist))
    print(render_scan(report), end="")
    scanned = [model.meta_graph(tag_set)] if tag_set else model.meta_graphs
    print(render_custom_ops(scanned), end="")
    warmup = check_model_warmup(model)
    if warmup is not None:
        print(render_warmup(warmup), end="")
    bad_warmup = warmup is not None and bool(warmup.problems)
    if target is None:
        try:
            print(render_releases(scanned), end="")
        except SmlensError as e:  # the table is unreadable: the scan still stands
            print(f"smlens: warning: {e}", file=sys.stderr)
        return 1 if bad_warmup else 0
    print(render_releases(scanned), end="")
    text, anything = render_lacking(scanned, target)
    print(text, end="")
    return 1 if anything or bad_warmup else 0
