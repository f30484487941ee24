"""A run of a graph by tensor names: feeds and fetches, for a model without a signature to
call (a frozen GraphDef, a ``.meta`` beside its checkpoint) or a SavedModel meta graph run
by names. Checked once, where it is built, as a signature's ``RunRequest`` is.

The feeds are the placeholders ``core.analysis.graph_io`` finds; they are held in a
``Signature`` keyed by tensor name (``feeds_signature``), so the inputs are gathered, filled
and checked by the same code as a signature's (``collect_inputs``, ``check_inputs``), and
the run panel's inputs editor edits them as it edits a signature's. A feed no fetch depends
on is optional, as is a PlaceholderWithDefault. A name may omit its output index (``x`` is
``x:0``); a name the graph does not have is refused with the nearest one it does.
"""

from __future__ import annotations

import contextlib
import difflib
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from smlens.core.analysis.graph_io import graph_io, output_dtypes
from smlens.core.analysis.scan import require_safe
from smlens.core.errors import SmlensError
from smlens.core.formats.convert import find_node, node_defs
from smlens.core.model import MetaGraph, Model, Shape, Signature, TensorInfo
from smlens.core.run.inputs import check_inputs
from smlens.core.run.request import parse_device

LOSS_REASON = "read only by"  # how graph_io words a candidate only plumbing reads
FEEDS_KEY = "graph"  # the key of the signature that holds a graph's feeds, as runs name it
# The Model formats a graph run loads, and how the worker loads each.
GRAPH_SOURCES = {"graph_def": "graph_def", "meta_graph": "meta_graph", "checkpoint": "meta_graph"}


def tensor_name(text: str) -> str:
    """ "x" -> "x:0"; "x:1" stays; surrounding blanks go."""
    text = text.strip()
    _, sep, index = text.rpartition(":")
    return text if sep and index.isdigit() else f"{text}:0"


def graph_tensor_names(mg: MetaGraph) -> tuple[dict[str, None], dict[str, list[str]]]:
    """The main graph's node names (in order) and each node's inputs, control ones too,
    read from the NodeDefs when a lazy graph has not converted them; found once per meta
    graph (``mg.derived["tensor_names"]``)."""
    found = mg.derived.get("tensor_names")
    if found is None:
        protos = node_defs(mg.graph)
        source = protos if protos is not None else mg.graph.nodes
        inputs = {n.name: list(n.input if protos is not None else n.inputs) for n in source}
        found = mg.derived["tensor_names"] = (dict.fromkeys(inputs), inputs)
    return found


def nearest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelt ``name``, if any is close."""
    found = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def _depends_on(
    inputs: dict[str, list[str]], fetch_nodes: Iterable[str], fed_nodes: set[str]
) -> set[str]:
    """Every node a fetch needs run, through data and control inputs alike (a placeholder
    reached by a control edge must be fed too); a fed node's inputs are not needed."""
    needed = set(fetch_nodes)
    queue = deque(node for node in needed if node not in fed_nodes)
    while queue:
        for text in inputs.get(queue.popleft(), ()):
            node = _node_of(text)
            if node in inputs and node not in needed:
                needed.add(node)
                if node not in fed_nodes:
                    queue.append(node)
    return needed


def _node_of(text: str) -> str:
    """A NodeDef input's node: "^a" -> "a", "a:1" -> "a", "a" -> "a"."""
    text = text.removeprefix("^")
    node, sep, index = text.rpartition(":")
    return node if sep and index.isdigit() else text


def default_fetches(mg: MetaGraph) -> list[str]:
    """The detected outputs, best first, but for a loss (a candidate read only by the
    training plumbing), which is fetched only when the graph has nothing else."""
    fetches = graph_io(mg).fetches
    outputs = [f.name for f in fetches if not f.reason.startswith(LOSS_REASON)]
    return outputs or [f.name for f in fetches[:1]]


def check_fetches(model: Model, mg: MetaGraph, fetches: Iterable[str]) -> tuple[str, ...]:
    """``fetches`` as tensor names of ``mg``'s main graph, each once; a node the graph does
    not have is an SmlensError naming the nearest one."""
    names, _ = graph_tensor_names(mg)
    checked: dict[str, None] = {}
    for text in fetches:
        name = tensor_name(text)
        node = name.rpartition(":")[0]
        if node not in names:
            close = nearest(node, names)
            hint = f"; nearest: {close}:0" if close else ""
            raise SmlensError(model.path, f"no tensor {name!r} in the graph{hint}")
        checked[name] = None
    if not checked:
        raise SmlensError(model.path, "nothing to fetch: name a tensor with --fetch")
    return tuple(checked)


def feeds_signature(
    mg: MetaGraph, fetches: Iterable[str] = (), fed: Iterable[str] = ()
) -> Signature:
    """The graph's feeds as a Signature keyed by tensor name, and the fetches as its
    outputs; the ``fed`` tensors that are no placeholder join the feeds. A feed is optional
    (in ``defaults``) when it has a default, or when no fetch depends on it once the ``fed``
    tensors are given (a signature's input computed from a placeholder, fed itself, needs
    no value for that placeholder)."""
    found = graph_io(mg)
    _, inputs = graph_tensor_names(mg)
    fetches = list(fetches)
    fed = [tensor_name(name) for name in fed]
    fed_nodes = {name.rpartition(":")[0] for name in fed}
    needed = _depends_on(inputs, [name.rpartition(":")[0] for name in fetches], fed_nodes)
    feed_infos: dict[str, TensorInfo] = {}
    optional: dict[str, Any] = {}
    for feed in found.feeds:
        tensor = feed.tensor
        feed_infos[tensor] = TensorInfo(key=tensor, dtype=feed.dtype, shape=feed.shape, name=tensor)
        if feed.default is not None:
            optional[tensor] = feed.default
        elif fetches and feed.name not in needed:
            optional[tensor] = None  # no fetch depends on it
    for name in fed:
        if name not in feed_infos and name.rpartition(":")[0] in inputs:
            feed_infos[name] = _tensor_info(mg, name)
    by_name = {f.name: f for f in found.fetches}
    outputs = {}
    for name in fetches:
        known = by_name.get(name)
        info = TensorInfo(key=name, dtype="", shape=Shape(None), name=name)
        if known is not None:
            info = TensorInfo(key=name, dtype=known.dtype, shape=known.shape, name=name)
        outputs[name] = info
    return Signature(FEEDS_KEY, "", feed_infos, outputs, defaults=optional)


def _tensor_info(mg: MetaGraph, name: str) -> TensorInfo:
    """A tensor that is no placeholder, fed by name: its dtype from its op, its shape from
    the node's ``_output_shapes`` when it has them."""
    node_name, _, index = name.rpartition(":")
    node = find_node(mg.graph, node_name)
    k = int(index)
    dtypes = output_dtypes(node) if node is not None else []
    shapes = node.attrs.get("_output_shapes") if node is not None else None
    shape = shapes[k] if isinstance(shapes, list) and k < len(shapes) else None
    dtype = dtypes[k] if k < len(dtypes) else ""
    known = shape if isinstance(shape, Shape) else Shape(None)
    return TensorInfo(key=name, dtype=dtype, shape=known, name=name)


def feed_keys(mg: MetaGraph, model: Model, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` keyed by full tensor names (``x`` -> ``x:0``). A name that is neither a
    feed nor a tensor of the graph is an SmlensError naming the nearest feed (or tensor)."""
    feeds = [feed.tensor for feed in graph_io(mg).feeds]
    names, _ = graph_tensor_names(mg)
    keyed: dict[str, Any] = {}
    for key, value in values.items():
        name = tensor_name(key)
        if name not in feeds and name.rpartition(":")[0] not in names:
            close = nearest(name, feeds) or nearest(name.rpartition(":")[0], names)
            hint = f"nearest: {tensor_name(close)}; " if close else ""
            listed = ", ".join(feeds) or "none"
            message = f"{key!r} is neither a feed nor a tensor of the graph; {hint}feeds: {listed}"
            raise SmlensError(model.path, message)
        keyed[name] = value
    return keyed


def graph_stamp(paths: Iterable[Path]) -> tuple[int, ...]:
    """Changes when a file the run loads is written again: each file's mtime and size."""
    stamp: list[int] = []
    for path in paths:
        with contextlib.suppress(OSError):
            st = path.stat()
            stamp += [st.st_mtime_ns, st.st_size]
    return tuple(stamp)


@dataclass(frozen=True, kw_only=True)
class GraphTarget:
    """One graph of a model to load into the worker as a TF1 session, on ``device``.

    ``source`` says how: "graph_def" (import the frozen GraphDef at ``path``),
    "meta_graph" (import the ``.meta`` at ``path``, restore ``checkpoint``), "saved_model"
    (load the meta graph of its tags from the folder at ``path``). Risky ops are refused
    unless ``allow_risky_ops``, as for a signature run.
    """

    model: Model
    meta_graph: MetaGraph
    device: str = "cpu:0"
    allow_risky_ops: bool = False
    loads: tuple[str, ...] = ()
    source: str = field(init=False)
    path: Path = field(init=False)
    checkpoint: str | None = field(init=False)
    stamp: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        model, mg = self.model, self.meta_graph
        if not any(mine is mg for mine in model.meta_graphs):
            raise SmlensError(model.path, f"the meta graph {mg.tag_set!r} is not this model's")
        object.__setattr__(self, "device", parse_device(self.device))
        if not self.allow_risky_ops:
            require_safe(model, mg)  # a restore runs the graph's restore ops
        object.__setattr__(self, "loads", tuple(str(name) for name in self.loads))
        path, checkpoint, files = _source_files(model)
        object.__setattr__(self, "source", GRAPH_SOURCES.get(model.format, model.format))
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "checkpoint", checkpoint)
        object.__setattr__(self, "stamp", graph_stamp(files))

    @property
    def tags(self) -> list[str]:
        return list(self.meta_graph.tags)


def _source_files(model: Model) -> tuple[Path, str | None, list[Path]]:
    """(the path the worker loads, the checkpoint prefix to restore, the files to stamp)."""
    prefix = getattr(model.checkpoint, "prefix", None)
    index = [Path(prefix + ".index")] if prefix is not None else []
    if model.format == "saved_model":
        folder = Path(model.path).resolve()
        pb = [folder / "saved_model.pb", folder / "saved_model.pbtxt"]
        return folder, None, [*pb, folder / "variables" / "variables.index"]
    if model.format == "graph_def":
        path = Path(model.path).resolve()
        return path, None, [path]
    if model.format == "meta_graph":
        path = Path(model.path).resolve()
        return path, prefix, [path, *index]
    if model.format == "checkpoint" and prefix is not None and model.meta_graphs:
        meta = Path(prefix + ".meta").resolve()
        return meta, prefix, [meta, *index]
    raise SmlensError(model.path, f"a {model.format} without a graph cannot be run")


@dataclass(frozen=True, kw_only=True)
class GraphRunRequest:
    """``fetches`` of ``target``'s graph, computed ``repeat`` times with ``inputs`` fed.

    ``inputs`` are keyed by tensor name (``x`` is taken as ``x:0``) and checked against
    the graph's feeds as the request is built; ``signature`` holds those feeds and the
    fetches (``feeds_signature``).
    """

    target: GraphTarget
    fetches: tuple[str, ...]
    inputs: Mapping[str, np.ndarray]
    repeat: int = 1
    timeout: float | None = None
    signature: Signature = field(init=False)

    def __post_init__(self) -> None:
        model, mg = self.target.model, self.target.meta_graph
        fetches = check_fetches(model, mg, self.fetches)
        object.__setattr__(self, "fetches", fetches)
        keyed = feed_keys(mg, model, self.inputs)
        signature = feeds_signature(mg, fetches, keyed)
        object.__setattr__(self, "signature", signature)
        object.__setattr__(self, "inputs", check_inputs(signature, keyed))
        if self.repeat < 1:
            raise SmlensError("repeat", f"must be at least 1, not {self.repeat}")

    @classmethod
    def of(
        cls,
        model: Model,
        inputs: Mapping[str, Any],
        fetches: Iterable[str] = (),
        *,
        tag_set: str | list[str] | None = None,
        repeat: int = 1,
        timeout: float | None = None,
        device: str = "cpu:0",
        allow_risky_ops: bool = False,
        loads: tuple[str, ...] | list[str] = (),
    ) -> GraphRunRequest:
        """The request for a model's graph: its only meta graph unless ``tag_set`` names
        one; the detected outputs when ``fetches`` is empty."""
        mg = graph_of(model, tag_set)
        target = GraphTarget(
            model=model,
            meta_graph=mg,
            device=device,
            allow_risky_ops=allow_risky_ops,
            loads=tuple(loads),
        )
        chosen = list(fetches) or default_fetches(mg)
        return cls(
            target=target, fetches=tuple(chosen), inputs=inputs, repeat=repeat, timeout=timeout
        )

    def worker_message(self) -> dict:
        """What the worker is told, but for the input files: where to load from, what to
        fetch."""
        target = self.target
        return {
            "op": "run_graph",
            "source": target.source,
            "path": str(target.path),
            "checkpoint": target.checkpoint,
            "stamp": target.stamp,
            "tags": target.tags,
            "device": target.device,
            "load": list(target.loads),
            "fetches": list(self.fetches),
            "repeat": self.repeat,
        }


def graph_of(model: Model, tag_set: str | list[str] | None) -> MetaGraph:
    """The meta graph a graph run uses: ``tag_set``'s, else the model's only one."""
    if tag_set is not None:
        return model.meta_graph(tag_set)
    if len(model.meta_graphs) == 1:
        return model.meta_graphs[0]
    if not model.meta_graphs:
        raise SmlensError(model.path, f"a {model.format} without a graph cannot be run")
    have = "; ".join(repr(mg.tag_set) for mg in model.meta_graphs)
    raise SmlensError(model.path, f"name a tag set with --tag_set; it has: {have}")
