"""The TensorFlow release a meta graph needs, and what an older release lacks of it.

Every node counts, of the main graph and of every library function: a loader imports the
whole graph (saver and init functions too), and an op or attr it does not know fails the
load ("Op type not registered", "NodeDef mentions attr 'X' not in Op"). Attrs whose names
start with "_" are the runtime's, never checked against an OpDef. An attr at its default
still counts: TensorFlow's C++ loader (and so TF Serving) passes the graph to the session
as it is, and only Python's TF1 loader drops unknown attrs at their default; exporting with
``strip_default_attrs=True`` removes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smlens.core.analysis.ops import op_counts
from smlens.core.analysis.releases.table import ReleaseTable, Version, release_table
from smlens.core.formats import proto
from smlens.core.formats.convert import node_defs
from smlens.core.model import MetaGraph
from smlens.core.model.text import tag_set_text
from smlens.core.tasks import CancelCheck, Cancelled, Progress

_SHOWN = 3


@dataclass(frozen=True)
class Need:
    """One op, one attr of an op, or the GraphDef's min_consumer, and the first release
    that defines (or reads) it; ``until`` is the last release of an op since removed."""

    kind: str  # "op" | "attr" | "graph_def"
    since: Version
    op: str = ""
    attr: str = ""
    nodes: int = 0  # nodes using it
    where: str = ""  # the first of them: "function/node", or the node of the main graph
    at_default: bool = False  # an attr every node holds at its default value
    until: Version | None = None
    min_consumer: int = 0

    def lacking_in(self, release: Version) -> bool:
        return release < self.since or (self.until is not None and release > self.until)

    def __str__(self) -> str:
        if self.kind == "graph_def":
            return f"GraphDef min_consumer {self.min_consumer} read since {self.since}"
        what = f"attr {self.attr} of op {self.op}" if self.kind == "attr" else f"op {self.op}"
        until = f", removed after {self.until}" if self.until else ""
        default = ", at its default" if self.at_default else ""
        return f"{what} since {self.since}{until}{default}"


@dataclass(frozen=True)
class MinRelease:
    """The oldest TensorFlow release that defines every op and attr a meta graph uses.

    ``release`` is the table's oldest when nothing needs a later one (``oldest_checked``:
    the export may load on older releases still); ``until`` bounds it from above when an
    op was removed. Ops no release defines (``custom``), that the table cannot date
    (``undated``) and attrs the pinned OpDef lacks (``unknown_attrs``) do not set it.
    """

    release: Version
    oldest: Version  # the oldest release the table holds
    set_by: tuple[Need, ...]  # the needs of ``release`` itself
    needs: tuple[Need, ...]  # every need later than the oldest release, newest first
    custom: tuple[str, ...]
    undated: tuple[str, ...]
    unknown_attrs: tuple[tuple[str, str], ...]  # (op, attr)
    producer: int | None
    min_consumer: int | None
    written_by: Version | None  # the release whose GraphDef version is the producer
    written_after: Version | None  # else the newest release writing an older version
    until: Version | None = None
    # What it would need without the attrs held at their default, when that is less.
    stripped_release: Version | None = None

    @property
    def oldest_checked(self) -> bool:
        return self.release == self.oldest

    @property
    def satisfiable(self) -> bool:
        return self.until is None or self.release <= self.until

    def text(self) -> str:
        """The verdict, e.g. needs TensorFlow >= 2.15 (attr debug_name of op VarHandleOp
        since 2.15), with what no release defines or dates."""
        if not self.satisfiable:
            text = (
                f"needs TensorFlow >= {self.release} and <= {self.until}: no release holds "
                f"every op it uses ({_listed(self.set_by)})"
            )
        elif self.oldest_checked:
            text = (
                f"needs TensorFlow {self.release} or older: every op and attr it uses is in "
                f"{self.release}, the oldest release checked"
            )
        else:
            text = f"needs TensorFlow >= {self.release} ({_listed(self.set_by)})"
            if self.stripped_release is not None:
                text += f"; exported with strip_default_attrs=True, {self._stripped_text()}"
        if self.until is not None and self.satisfiable:
            removed = [n for n in self.needs if n.until is not None]
            text += f"; and no release after {self.until} ({_listed(removed)})"
        if self.custom:
            text += f"; and ops no TensorFlow release defines: {_names(self.custom)}"
        if self.undated:
            text += f"; ops no release's wrappers date: {_names(self.undated)}"
        return text

    def _stripped_text(self) -> str:
        if self.stripped_release == self.oldest:
            return f"{self.stripped_release} or older"
        return f">= {self.stripped_release}"

    def graph_def_text(self) -> str:
        """The GraphDef versions, e.g. GraphDef producer 2474 (TensorFlow 2.21), min_consumer 12."""
        if self.producer is None:
            return "GraphDef versions not recorded"
        if self.written_by:
            writer = f"TensorFlow {self.written_by}"
        elif self.written_after:
            writer = f"a TensorFlow build after {self.written_after}"
        else:
            writer = f"TensorFlow before {self.oldest}"
        return f"GraphDef producer {self.producer} ({writer}), min_consumer {self.min_consumer}"


@dataclass(frozen=True)
class Lacks:
    """What a release lacks of a meta graph: ops, attrs, ops no release defines; and the
    ops the table cannot date, which it may or may not have."""

    target: Version
    ops: tuple[Need, ...]
    attrs: tuple[Need, ...]
    custom: tuple[str, ...]
    unknown_attrs: tuple[tuple[str, str], ...]
    graph_def: tuple[Need, ...]
    undated: tuple[str, ...]

    @property
    def anything(self) -> bool:
        return bool(self.ops or self.attrs or self.custom or self.unknown_attrs or self.graph_def)


def _names(items: Iterable[str], separator: str = ", ") -> str:
    items = list(items)
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return separator.join(items[:_SHOWN]) + more


def _listed(needs: Iterable[Need]) -> str:
    return _names(map(str, needs), "; ")


@dataclass
class _AttrUse:
    nodes: int
    where: str
    at_default: bool


class _Uses:
    """Per op of one meta graph: the first node using it and the attrs its nodes set; per
    watched (op, attr), the nodes setting it, the first of them, whether all hold the
    default. One pass, reading the main graph's NodeDefs unconverted."""

    def __init__(self, mg: MetaGraph, watched: dict[str, dict[str, object]]):
        self.where: dict[str, str] = {}
        self.attrs: dict[str, set[str]] = {}
        self.watched: dict[tuple[str, str], _AttrUse] = {}
        self._functions = mg.functions
        self._watch = watched  # op -> attr -> the OpDef's default AttrValue (or None)
        protos = node_defs(mg.graph)
        self._add(protos if protos is not None else mg.graph.nodes, "", protos is not None)
        for fn_name, fn in sorted(mg.functions.items()):
            self._add(fn.nodes, f"{fn_name}/", False)

    def _add(self, nodes, prefix: str, are_protos: bool) -> None:
        attrs_of, where, uses, functions = self.attrs, self.where, self.watched, self._functions
        for node in nodes:
            op = node.op
            if op in functions:  # a call of a library function, not an op
                continue
            attrs = node.attr if are_protos else _attr_map(node)
            names = attrs_of.get(op)
            if names is None:
                names = attrs_of[op] = set()
                where[op] = prefix + node.name
            names.update(attrs)
            for attr, default in self._watch.get(op, {}).items():
                if attr in attrs:
                    use = uses.get((op, attr))
                    if use is None:
                        use = uses[op, attr] = _AttrUse(0, prefix + node.name, default is not None)
                    use.nodes += 1
                    use.at_default = use.at_default and attrs[attr] == default


def _attr_map(node):
    """A converted node's attrs by name: the NodeDef's map when it kept one."""
    return node._attr_proto if node._attr_proto is not None else node.attrs


def required_release(mg: MetaGraph, table: ReleaseTable | None = None) -> MinRelease:
    """The oldest release that defines everything ``mg`` uses, with what sets it. Made
    once per meta graph with the shipped table (``MetaGraph.derived``)."""
    if table is None:
        found = mg.derived.get("min_release")
        if found is None:
            found = mg.derived["min_release"] = _required(mg, release_table())
        return found
    return _required(mg, table)


def _watched(table: ReleaseTable, registry: dict) -> dict[str, dict[str, object]]:
    """Op -> its attrs newer than itself -> the pinned OpDef's default (None if none)."""
    watched = {}
    for op, attrs in table.late_attrs.items():
        op_def = registry.get(op)
        if op_def is not None:
            defaults = {a.name: a for a in op_def.attr}
            watched[op] = {
                attr: defaults[attr].default_value
                if defaults[attr].HasField("default_value")
                else None
                for attr in attrs
                if attr in defaults
            }
    return watched


def _required(mg: MetaGraph, table: ReleaseTable) -> MinRelease:
    registry = proto.op_registry()
    uses = _Uses(mg, _watched(table, registry))
    counts = op_counts(mg)
    needs: list[Need] = []
    custom, undated, unknown_attrs = [], [], []
    for op in sorted(uses.attrs):
        nodes, where = counts[op].total, uses.where[op]
        op_def = registry.get(op)
        if op_def is None and op in table.removed:
            first, last = table.removed[op]
            needs.append(Need("op", first, op, nodes=nodes, where=where, until=last))
        elif op_def is None:
            custom.append(op)
        elif (since := table.op_since(op)) is None:
            undated.append(op)
        else:
            needs.append(Need("op", since, op, nodes=nodes, where=where))
            defined = {a.name for a in op_def.attr}
            unknown_attrs += [
                (op, attr) for attr in sorted(uses.attrs[op] - defined) if not attr.startswith("_")
            ]
    for (op, attr), use in sorted(uses.watched.items()):
        since = table.attr_since(op, attr)
        needs.append(Need("attr", since, op, attr, use.nodes, use.where, use.at_default))
    graph = mg.graph
    if graph.min_consumer:
        reads = table.reads_since(graph.min_consumer)
        if reads is None or reads > table.oldest:
            needs.append(Need("graph_def", reads or table.newest, min_consumer=graph.min_consumer))
    release = max([table.oldest, *(n.since for n in needs)])
    stripped = max([table.oldest, *(n.since for n in needs if not n.at_default)])
    later = sorted(
        (n for n in needs if n.since > table.oldest or n.until is not None),
        key=lambda n: (n.kind, n.op, n.attr),
    )
    later.sort(key=lambda n: n.since, reverse=True)
    return MinRelease(
        release=release,
        oldest=table.oldest,
        set_by=tuple(n for n in later if n.since == release),
        needs=tuple(later),
        custom=tuple(custom),
        undated=tuple(undated),
        unknown_attrs=tuple(unknown_attrs),
        producer=graph.producer,
        min_consumer=graph.min_consumer,
        written_by=table.writer_of(graph.producer) if graph.producer is not None else None,
        written_after=table.written_after(graph.producer) if graph.producer is not None else None,
        until=min((n.until for n in needs if n.until is not None), default=None),
        stripped_release=stripped if stripped < release else None,
    )


def lacking(mg: MetaGraph, target: Version, table: ReleaseTable | None = None) -> Lacks:
    """What release ``target`` lacks of ``mg``: a later op or attr, an op removed before
    it, an op no release defines, an attr the pinned OpDef lacks, a GraphDef too new."""
    found = required_release(mg, table)
    missing = [n for n in found.needs if n.lacking_in(target)]
    return Lacks(
        target=target,
        ops=tuple(n for n in missing if n.kind == "op"),
        attrs=tuple(n for n in missing if n.kind == "attr"),
        custom=found.custom,
        unknown_attrs=found.unknown_attrs,
        graph_def=tuple(n for n in missing if n.kind == "graph_def"),
        undated=found.undated,
    )


def required_releases(
    meta_graphs: Iterable[MetaGraph],
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> list[tuple[str, MinRelease]]:
    """(tag-set, its MinRelease) for each meta graph: one pass over every node of each,
    so the window asks for it off the UI thread; Cancelled between meta graphs."""
    meta_graphs = list(meta_graphs)
    found = []
    for i, mg in enumerate(meta_graphs):
        if cancelled is not None and cancelled():
            raise Cancelled("the release check was cancelled")
        if progress is not None:
            progress(i / len(meta_graphs), f"checking the ops of {tag_set_text(mg.tag_set)}")
        found.append((mg.tag_set, required_release(mg)))
    return found
