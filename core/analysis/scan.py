"""``smlens scan``: saved_model_cli's denylisted-op scan, looking into every function, plus
the other file and system ops (ops.RISKY_OPS), each with the nodes that use it.

saved_model_cli collects ops with ``ops_used_by_graph_def``, which does not enter While
bodies, If branches or uncalled functions; this scan reads every node of the main graph and
of every library function, so it can only find more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smlens.core.analysis.ops import DENYLIST, RISKY_OPS, custom_ops
from smlens.core.errors import SmlensError
from smlens.core.formats.convert import node_name, node_ops
from smlens.core.model import MetaGraph, Model
from smlens.core.model.text import counted

_SHOWN_PER_OP = 5


@dataclass(frozen=True)
class OpUse:
    op: str
    node: str
    function: str = ""  # "" for the meta graph's main graph

    @property
    def where(self) -> str:
        return f"{self.function}/{self.node}" if self.function else self.node


@dataclass(frozen=True)
class MetaGraphScan:
    tags: tuple[str, ...]  # in stored order, as saved_model_cli prints them
    denylist: frozenset[str]
    denylisted: tuple[OpUse, ...]
    other: tuple[OpUse, ...]  # RISKY_OPS not on the denylist

    @property
    def denylisted_ops(self) -> set[str]:
        return {use.op for use in self.denylisted}

    @property
    def other_ops(self) -> set[str]:
        return {use.op for use in self.other}

    @property
    def risky(self) -> bool:
        return bool(self.denylisted or self.other)


@dataclass(frozen=True)
class ScanReport:
    path: str
    meta_graphs: tuple[MetaGraphScan, ...]

    @property
    def risky(self) -> bool:
        return any(mg.risky for mg in self.meta_graphs)


class RiskyOpsError(SmlensError):
    """A run refused because the meta graph uses file or system ops."""

    def __init__(self, path: str, scan: MetaGraphScan, hint: str):
        uses = [*scan.denylisted, *scan.other]
        listed = ", ".join(f"{u.op} ({u.where})" for u in uses[:_SHOWN_PER_OP])
        more = f" and {len(uses) - _SHOWN_PER_OP} more" if len(uses) > _SHOWN_PER_OP else ""
        super().__init__(
            path,
            f"refusing to run: MetaGraph with tag set {list(scan.tags)} uses file and system "
            f"ops: {listed}{more}; {hint}",
        )
        self.scan = scan


def parse_op_denylist(text: str | None) -> frozenset[str]:
    """saved_model_cli's ``--op_denylist``: comma-separated op names; None means the default.

    An empty string is the empty list, as saved_model_cli's help says (its 2.21 code falls
    back to the default instead).
    """
    if text is None:
        return DENYLIST
    return frozenset(op.strip() for op in text.split(",") if op.strip())


def scan_meta_graph(mg: MetaGraph, denylist: Iterable[str] = DENYLIST) -> MetaGraphScan:
    """Where ``mg`` uses a denylisted or other risky op. The scan with the default
    denylist is made once per meta graph (``MetaGraph.derived``)."""
    denylist = frozenset(denylist)
    if denylist != DENYLIST:
        return _scan(mg, denylist)
    scan = mg.derived.get("scan")
    if scan is None:
        scan = mg.derived["scan"] = _scan(mg, denylist)
    return scan


def _scan(mg: MetaGraph, denylist: frozenset[str]) -> MetaGraphScan:
    watched = denylist | RISKY_OPS
    watched = {op for op in watched if op not in mg.functions}
    ops = node_ops(mg.graph)  # the main graph by its ops: a lazy graph stays unconverted
    found = watched.intersection(ops)  # a C loop; the enumeration only when something is
    uses = (
        [OpUse(op, node_name(mg.graph, i)) for i, op in enumerate(ops) if op in found]
        if found
        else []
    )
    uses += [
        OpUse(node.op, node.name, fn_name)
        for fn_name, fn in sorted(mg.functions.items())
        for node in fn.nodes
        if node.op in watched
    ]
    return MetaGraphScan(
        tuple(mg.tags),
        denylist,
        tuple(u for u in uses if u.op in denylist),
        tuple(u for u in uses if u.op not in denylist),
    )


def scan_model(
    model: Model, tag_set: str | list[str] | None = None, op_denylist: Iterable[str] | None = None
) -> ScanReport:
    """Scan one meta graph (``tag_set``) or all of them, for ``op_denylist`` (default:
    saved_model_cli's) and for the other risky ops."""
    denylist = DENYLIST if op_denylist is None else frozenset(op_denylist)
    if not model.meta_graphs:
        raise SmlensError(model.path, "holds no graph to scan")
    graphs = [model.meta_graph(tag_set)] if tag_set else model.meta_graphs
    return ScanReport(str(model.path), tuple(scan_meta_graph(mg, denylist) for mg in graphs))


def require_safe(model: Model, mg: MetaGraph, hint: str = "allow risky ops to run it") -> None:
    """Raise RiskyOpsError when ``mg`` uses a denylisted or other risky op."""
    scan = scan_meta_graph(mg)
    if scan.risky:
        raise RiskyOpsError(str(model.path), scan, hint)


def _set_text(ops: Iterable[str]) -> str:
    """A Python set's repr, sorted (saved_model_cli prints its sets in hash order)."""
    ops = sorted(ops)
    return "{" + ", ".join(map(repr, ops)) + "}" if ops else "set()"


def _use_lines(uses: tuple[OpUse, ...]) -> list[str]:
    lines = []
    for op in sorted({u.op for u in uses}):
        of_op = [u for u in uses if u.op == op]
        lines += [f"    {op} at {u.where}" for u in of_op[:_SHOWN_PER_OP]]
        if len(of_op) > _SHOWN_PER_OP:
            lines.append(f"    {op} at {len(of_op) - _SHOWN_PER_OP} more nodes")
    return lines


def render_scan(report: ScanReport) -> str:
    """saved_model_cli's line per meta graph, each followed by where the ops were found and
    by the other file and system ops (indented, so the saved_model_cli lines stay greppable)."""
    lines = []
    for mg in report.meta_graphs:
        tags = list(mg.tags)
        if mg.denylisted:
            lines.append(
                f"MetaGraph with tag set {tags} contains the following denylisted ops: "
                f"{_set_text(mg.denylisted_ops)}"
            )
            lines += _use_lines(mg.denylisted)
        else:
            lines.append(
                f"MetaGraph with tag set {tags} does not contain the default denylisted ops: "
                f"{_set_text(mg.denylist)}"
            )
        if mg.other:
            lines.append(f"  Other file and system ops: {_set_text(mg.other_ops)}")
            lines += _use_lines(mg.other)
    return "\n".join(lines) + "\n"


def ops_notes(model: Model) -> list[str]:
    """Problem-bar lines for file and system ops and for ops TensorFlow does not define."""
    notes = []
    scans = [scan_meta_graph(mg) for mg in model.meta_graphs]
    uses = [u for scan in scans for u in (*scan.denylisted, *scan.other)]
    if uses:
        ops = ", ".join(sorted({u.op for u in uses}))
        where = ", ".join(u.where for u in uses[:3]) + (" …" if len(uses) > 3 else "")
        notes.append(
            f"File or system ops: {ops} in {counted(len(uses), 'node')} "
            f"({where}); running it can read or write files, so Run makes one call"
        )
    for group in custom_ops(model.meta_graphs):
        ops = ", ".join(group.ops)
        notes.append(f"Ops TensorFlow does not define: {ops}; to run it, {group.load_hint}")
    return notes
