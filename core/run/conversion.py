"""Freeze and wrap, on smlens's side: the typed requests, where the result may go, and the
check of what TensorFlow wrote by reopening it with smlens's own reader.

- ``FreezeRequest``: a ``.meta`` with its checkpoint (a checkpoint folder, a training
  folder, the ``.meta`` itself) frozen at output nodes, by default the detected fetches
  (graph_io.py); or a SavedModel's signature frozen at its outputs.
- ``WrapRequest``: a frozen GraphDef saved as a SavedModel whose ``serving_default``
  signature takes the chosen feeds and returns the chosen fetches (by default the detected
  ones), under the tag ``serve``: what TF Serving loads.

Each request is checked as it is built: the model is one the conversion applies to, the
names are the graph's, the model has no file or system ops (unless allowed: loading runs
its restore and init ops), and the output path is outside the model's folder and is not
there already (``force`` replaces a file, or a folder holding a SavedModel, nothing else).
``convert`` sends it to the run worker (convert.py does the TensorFlow part there) and
returns a ``Converted``: what the written model holds, as smlens reads it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from smlens.core.analysis.graph_io import graph_io
from smlens.core.analysis.scan import require_safe
from smlens.core.errors import SmlensError
from smlens.core.formats.convert import node_defs
from smlens.core.formats.reader import open_model
from smlens.core.model import MetaGraph, Model, Signature
from smlens.core.model.constants import CONSTANT_MIN_BYTES
from smlens.core.model.text import counted, human_bytes
from smlens.core.tasks import CancelCheck, Progress

SERVING_KEY = "serving_default"
RISKY_HINT = "give --allow-risky-ops to load it anyway"


def model_folder(model: Model) -> Path:
    """The folder the model lives in, which a conversion never writes into: a SavedModel's
    or a checkpoint's folder, or the folder holding a single model file."""
    path = Path(model.path)
    if model.format == "saved_model" or path.is_dir():
        return path.resolve()
    return path.resolve().parent


def check_out(model: Model, out: str | Path, force: bool, *, is_dir: bool) -> Path:
    """``out`` as an absolute path where the result may go, or SmlensError saying why not."""
    target = Path(os.path.abspath(os.fspath(out)))
    folder = model_folder(model)
    real = target.parent.resolve() / target.name
    if real == folder or folder in real.parents:
        raise SmlensError(out, f"is inside the model folder {folder}: choose a path outside it")
    if not target.parent.is_dir():
        raise SmlensError(out, f"no such folder: {target.parent}")
    if os.path.lexists(target):
        if not force:
            raise SmlensError(out, "exists already: give --force to replace it")
        if is_dir and not _is_saved_model_folder(target):
            raise SmlensError(out, "exists and is not a SavedModel folder: not replaced")
        if not is_dir and not (target.is_file() and not target.is_symlink()):
            raise SmlensError(out, "exists and is not a regular file: not replaced")
    return target


def _is_saved_model_folder(path: Path) -> bool:
    if path.is_symlink() or not path.is_dir():
        return False
    return (path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file()


def _node_names(mg: MetaGraph) -> set[str]:
    protos = node_defs(mg.graph)
    return {n.name for n in (protos if protos is not None else mg.graph.nodes)}


def node_name(tensor_or_node: str) -> str:
    """ "y:0" -> "y"; "y" -> "y": convert_variables_to_constants takes node names."""
    name, sep, index = tensor_or_node.rpartition(":")
    return name if sep and index.isdigit() else tensor_or_node


def tensor_name(tensor_or_node: str) -> str:
    """ "y" -> "y:0"; "y:1" stays: a signature names tensors."""
    return tensor_or_node if node_name(tensor_or_node) != tensor_or_node else f"{tensor_or_node}:0"


def signature_keys(tensors: list[str]) -> dict[str, str]:
    """``{key: tensor}`` for a signature over ``tensors``: the node's name ("x" for "x:0",
    "split_1" for "split:1"), made unique with a counter."""
    keys: dict[str, str] = {}
    for tensor in tensors:
        name, _, index = tensor.rpartition(":")
        key = name if index == "0" else f"{name}_{index}"
        base, n = key, 1
        while key in keys:
            key, n = f"{base}_{n}", n + 1
        keys[key] = tensor
    return keys


def _require_names(model: Model, mg: MetaGraph, names: list[str], what: str) -> None:
    known = _node_names(mg)
    for name in names:
        if node_name(name) not in known:
            raise SmlensError(model.path, f"the graph has no {what} {name!r}")


@dataclass(frozen=True, kw_only=True)
class FreezeRequest:
    """Freeze ``meta_graph`` of ``model`` at ``outputs`` (node names) into the file ``out``.

    ``source`` is how the worker gets the graph with its variables: "meta" (import the
    .meta, restore the checkpoint), "saved_model_tf1" (TF1 loader, a session) or
    "saved_model_tf2" (tf.saved_model.load, then the signature's function); ``signature``
    is the SavedModel signature whose outputs are frozen, if any.
    """

    model: Model
    meta_graph: MetaGraph
    outputs: tuple[str, ...]
    out: Path
    force: bool = False
    signature: Signature | None = None
    source: str = field(init=False)
    meta: Path | None = field(init=False)
    checkpoint: str = field(init=False)

    def __post_init__(self) -> None:
        model, mg = self.model, self.meta_graph
        meta, checkpoint = None, ""
        if model.format == "saved_model":
            source = "saved_model_tf2" if mg.object_graph is not None else "saved_model_tf1"
            if source == "saved_model_tf2" and self.signature is None:
                raise SmlensError(model.path, "a TF2 SavedModel freezes one signature: name it")
        elif model.format in ("checkpoint", "meta_graph"):
            source = "meta"
            meta = _meta_file(model)
            checkpoint = getattr(model.checkpoint, "prefix", "") or ""
        elif model.format == "graph_def":
            raise SmlensError(model.path, "is frozen already: nothing to freeze (wrap it instead)")
        else:
            raise SmlensError(model.path, f"a {model.format} cannot be frozen")
        if self.signature is None:
            if not self.outputs:
                raise SmlensError(model.path, "no outputs found to freeze: name them with --fetch")
            _require_names(model, mg, list(self.outputs), "node")
        object.__setattr__(self, "outputs", tuple(node_name(n) for n in self.outputs))
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "meta", meta)
        object.__setattr__(self, "checkpoint", checkpoint)
        object.__setattr__(self, "out", check_out(model, self.out, self.force, is_dir=False))

    @classmethod
    def of(
        cls,
        model: Model,
        out: str | Path,
        *,
        fetches: list[str] | tuple[str, ...] = (),
        tag_set: str | None = None,
        signature_def: str | None = None,
        force: bool = False,
        allow_risky_ops: bool = False,
    ) -> FreezeRequest:
        """The request the command line and the dialog build: the named fetches, else a
        SavedModel signature's outputs, else the detected fetches."""
        mg = _meta_graph(model, tag_set)
        if not allow_risky_ops:
            require_safe(model, mg, RISKY_HINT)
        signature = None
        if model.format == "saved_model" and not fetches and mg.signatures:
            key = signature_def or (SERVING_KEY if SERVING_KEY in mg.signatures else None)
            if key is None and len(mg.signatures) == 1:
                key = next(iter(mg.signatures))
            if key is None:
                have = ", ".join(mg.signatures)
                raise SmlensError(model.path, f"name a signature with --signature_def: {have}")
            if key not in mg.signatures:
                have = ", ".join(mg.signatures)
                raise SmlensError(model.path, f"no signature {key!r}; it has: {have}")
            signature = mg.signatures[key]
        elif signature_def:
            raise SmlensError(model.path, "--signature_def and --fetch do not go together")
        if signature is not None:
            outputs = [node_name(info.name) for info in signature.outputs.values() if info.name]
        else:
            outputs = list(fetches) or graph_io(mg).output_nodes
        return cls(
            model=model,
            meta_graph=mg,
            outputs=tuple(outputs),
            out=Path(out),
            force=force,
            signature=signature,
        )

    def message(self) -> dict:
        """What the worker is told (convert.freeze reads it)."""
        return {
            "op": "freeze",
            "source": self.source,
            "path": str(Path(self.model.path).resolve()),
            "tags": list(self.meta_graph.tags),
            "signature": self.signature.key if self.signature is not None else None,
            "meta": str(self.meta) if self.meta is not None else None,
            "checkpoint": self.checkpoint,
            "outputs": list(self.outputs),
            "out": str(self.out),
            "force": self.force,
        }


def _meta_file(model: Model) -> Path:
    """The .meta of a checkpoint or meta-graph model: the file opened, else the one beside
    the checkpoint's prefix."""
    if model.format == "meta_graph":
        return Path(model.path).resolve()
    prefix = getattr(model.checkpoint, "prefix", "")
    meta = Path(prefix + ".meta") if prefix else None
    if meta is None or not meta.is_file():
        raise SmlensError(model.path, "no .meta beside the checkpoint: the graph is needed")
    return meta.resolve()


def _meta_graph(model: Model, tag_set: str | None) -> MetaGraph:
    if tag_set is not None:
        return model.meta_graph(tag_set)
    if not model.meta_graphs:
        raise SmlensError(model.path, "has no graph (no .meta beside the checkpoint)")
    if len(model.meta_graphs) == 1:
        return model.meta_graphs[0]
    for mg in model.meta_graphs:
        if mg.tags == ["serve"]:
            return mg
    have = ", ".join(repr(mg.tag_set) for mg in model.meta_graphs)
    raise SmlensError(model.path, f"name a tag-set with --tag_set: {have}")


@dataclass(frozen=True, kw_only=True)
class WrapRequest:
    """Save the frozen GraphDef ``model`` as a SavedModel at ``out`` whose serving_default
    signature maps ``feeds`` and ``fetches`` (``{key: tensor name}``)."""

    model: Model
    feeds: dict[str, str]
    fetches: dict[str, str]
    out: Path
    force: bool = False

    def __post_init__(self) -> None:
        model = self.model
        if model.format != "graph_def":
            raise SmlensError(model.path, f"wraps a frozen GraphDef, not a {model.format}")
        mg = model.meta_graphs[0]
        if not self.feeds or not self.fetches:
            side = "feeds" if not self.feeds else "fetches"
            raise SmlensError(model.path, f"no {side} to wrap: name them with --{side[:-2]}")
        _require_names(model, mg, list(self.feeds.values()), "feed")
        _require_names(model, mg, list(self.fetches.values()), "fetch")
        object.__setattr__(self, "out", check_out(model, self.out, self.force, is_dir=True))

    @classmethod
    def of(
        cls,
        model: Model,
        out: str | Path,
        *,
        feeds: list[str] | tuple[str, ...] = (),
        fetches: list[str] | tuple[str, ...] = (),
        force: bool = False,
        allow_risky_ops: bool = False,
    ) -> WrapRequest:
        """The named feeds and fetches (tensor or node names), else the detected ones."""
        if model.format != "graph_def":
            raise SmlensError(model.path, f"wraps a frozen GraphDef, not a {model.format}")
        mg = model.meta_graphs[0]
        if not allow_risky_ops:
            require_safe(model, mg, RISKY_HINT)
        found = graph_io(mg)
        feed_names = [tensor_name(n) for n in feeds] or [f.tensor for f in found.feeds]
        fetch_names = [tensor_name(n) for n in fetches] or [f.name for f in found.fetches]
        return cls(
            model=model,
            feeds=signature_keys(feed_names),
            fetches=signature_keys(fetch_names),
            out=Path(out),
            force=force,
        )

    def message(self) -> dict:
        return {
            "op": "wrap",
            "path": str(Path(self.model.path).resolve()),
            "feeds": dict(self.feeds),
            "fetches": dict(self.fetches),
            "out": str(self.out),
            "force": self.force,
        }


@dataclass(frozen=True)
class Converted:
    """What a freeze or wrap wrote, as smlens's reader finds it on reopening."""

    out: Path
    format: str  # "graph_def" | "saved_model"
    nodes: int
    feeds: dict[str, str]  # key -> tensor name (a frozen graph's keys are the tensors)
    fetches: dict[str, str]
    constants: int  # Const nodes
    weights: int  # the frozen weights smlens lists: Const tensors of CONSTANT_MIN_BYTES or more
    constant_bytes: int  # their bytes
    size: int  # bytes on disk
    model: Model = field(repr=False, compare=False)

    def lines(self) -> list[str]:
        """The report, one fact a line."""
        weights = "none"
        if self.weights:
            weights = f"{self.weights} ({human_bytes(self.constant_bytes)})"
        kind = "frozen GraphDef" if self.format == "graph_def" else "SavedModel (tag serve)"
        feeds = ", ".join(_pair(k, t) for k, t in self.feeds.items()) or "none"
        fetches = ", ".join(_pair(k, t) for k, t in self.fetches.items()) or "none"
        return [
            f"wrote {self.out} ({kind}, {human_bytes(self.size)})",
            f"  {counted(self.nodes, 'node')}, {counted(self.constants, 'Const node')}; "
            f"frozen weights of {human_bytes(CONSTANT_MIN_BYTES)} or more: {weights}",
            f"  feeds: {feeds}",
            f"  fetches: {fetches}",
        ]


def _pair(key: str, tensor: str) -> str:
    return tensor if key == tensor else f"{key} = {tensor}"


def reopen(out: Path) -> Converted:
    """Read what a conversion wrote with smlens's reader (no TensorFlow): the check that it
    is whole, and the figures the report gives."""
    model = open_model(out)
    if model.format == "saved_model":
        mg = model.meta_graph("serve")
        signature = mg.signatures.get(SERVING_KEY)
        if signature is None:
            raise SmlensError(out, f"the written SavedModel has no {SERVING_KEY!r} signature")
        feeds = {k: info.name for k, info in signature.inputs.items()}
        fetches = {k: info.name for k, info in signature.outputs.items()}
    elif model.format == "graph_def":
        mg = model.meta_graphs[0]
        found = graph_io(mg)
        feeds = {f.tensor: f.tensor for f in found.feeds}
        fetches = {f.name: f.name for f in found.fetches}
    else:
        raise SmlensError(out, f"reads as a {model.format}, not what was written")
    protos = node_defs(mg.graph)
    ops = [n.op for n in (protos if protos is not None else mg.graph.nodes)]
    weights = model.constants()
    return Converted(
        out=out,
        format=model.format,
        nodes=len(ops),
        feeds=feeds,
        fetches=fetches,
        constants=sum(op == "Const" for op in ops),
        weights=len(weights),
        constant_bytes=sum(v.nbytes or 0 for v in weights),
        size=sum(model.files.values()) if model.files else _size(out),
        model=model,
    )


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def convert(
    engine,
    request: FreezeRequest | WrapRequest,
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> Converted:
    """Run ``request`` in ``engine``'s worker (a RunEngine), then reopen what it wrote."""
    doing = "while freezing" if isinstance(request, FreezeRequest) else "while wrapping"
    reply = engine.request(request.message(), doing, progress=progress, cancelled=cancelled)
    return reopen(Path(reply["out"]))
