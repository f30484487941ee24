"""Open anything a user may point at and build the neutral Model from it.

SavedModel folders (saved_model.pb or .pbtxt), bare checkpoints (a prefix, its .index, or a
folder with a ``checkpoint`` state file), MetaGraph ``.meta`` files and frozen GraphDefs
(``.pb``/``.pbtxt``). The kind is sniffed from the content, with the name only as a hint.
Nothing here writes to the model folder, and nothing imports TensorFlow.
"""

from __future__ import annotations

import os
from pathlib import Path

from google.protobuf import message as pb_message
from google.protobuf import text_format

from smlens.core.errors import Problem, SmlensError
from smlens.core.formats import proto
from smlens.core.formats.bundle import TensorBundle
from smlens.core.formats.convert import convert_graph, convert_meta_graph
from smlens.core.formats.names import OBJECT_GRAPH_KEY, resolve_variables
from smlens.core.formats.sniff import sniff_file
from smlens.core.model import Asset, Fingerprint, MetaGraph, Model
from smlens.core.tasks import Progress


def _no_progress(fraction: float, text: str) -> None:
    pass


def open_model(path: str | Path, progress: Progress | None = None) -> Model:
    """Read the model at ``path``. Raises SmlensError when nothing usable is there."""
    progress = progress or _no_progress
    path = Path(path)
    if not path.exists():
        prefix = _checkpoint_prefix_of(path)
        if prefix is not None:
            return _open_checkpoint(prefix, path, progress)
        raise SmlensError(path, "no such file or folder")
    if path.is_dir():
        return _open_folder(path, progress)
    return _open_file(path, progress)


def _checkpoint_prefix_of(path: Path) -> Path | None:
    """``path`` if it is a checkpoint prefix (``model.ckpt-10`` with ``.index`` beside it)."""
    index = path.with_name(path.name + ".index")
    return path if index.is_file() else None


def _open_folder(folder: Path, progress: Progress) -> Model:
    for name in ("saved_model.pb", "saved_model.pbtxt"):
        if (folder / name).is_file():
            return _open_saved_model(folder, folder / name, progress)
    state = folder / "checkpoint"
    if state.is_file():
        return _open_checkpoint(_prefix_from_state(state), folder, progress)
    indexes = sorted(folder.glob("*.index"), key=lambda p: p.stat().st_mtime)
    if indexes:
        return _open_checkpoint(indexes[-1].with_suffix(""), folder, progress)
    metas = sorted(folder.glob("*.meta"))
    if metas:
        return _open_file(metas[-1], progress)
    graphs = sorted(folder.glob("*.pb")) + sorted(folder.glob("*.pbtxt"))
    if graphs:  # a folder holding a frozen graph
        return _open_file(graphs[0], progress)
    if not any(folder.iterdir()):
        raise SmlensError(folder, "the folder is empty")
    raise SmlensError(
        folder,
        "not a model folder: found no saved_model.pb, saved_model.pbtxt, "
        "checkpoint state file, .index, .meta, .pb or .pbtxt file",
    )


def _prefix_from_state(state: Path) -> Path:
    msg = proto.CheckpointState()
    try:
        text_format.Parse(state.read_text(encoding="utf-8"), msg)
    except (text_format.ParseError, UnicodeDecodeError) as e:
        raise SmlensError(state, f"not a checkpoint state file: {e}") from None
    if not msg.model_checkpoint_path:
        raise SmlensError(state, "the checkpoint state names no model_checkpoint_path")
    prefix = Path(msg.model_checkpoint_path)
    if not prefix.is_absolute():
        prefix = state.parent / prefix
    if not prefix.with_name(prefix.name + ".index").is_file():
        # The state file often holds the absolute path of the machine that wrote it.
        local = state.parent / prefix.name
        if local.with_name(local.name + ".index").is_file():
            return local
        raise SmlensError(
            state, f"names checkpoint {msg.model_checkpoint_path!r}, whose .index is missing"
        )
    return prefix


def _open_file(path: Path, progress: Progress) -> Model:
    kind, message = sniff_file(path)
    if kind == "saved_model":
        return _open_saved_model(path.parent, path, progress, parsed=message)
    if kind == "checkpoint_index":
        return _open_checkpoint(path.with_suffix(""), path, progress)
    if kind == "checkpoint_state":
        return _open_checkpoint(_prefix_from_state(path), path, progress)
    model = Model(path=path, format=kind, files=_file_sizes([path]))
    if kind == "meta_graph":
        model.meta_graphs = [convert_meta_graph(message)]
        prefix = _checkpoint_prefix_of(path.with_suffix(""))
        if prefix is not None:
            _attach_checkpoint(model, prefix)
            model.files.update(_file_sizes(_checkpoint_files(prefix), path.parent))
    else:  # graph_def
        model.meta_graphs = [MetaGraph(tags=[], signatures={}, graph=convert_graph(message))]
    progress(1.0, "done")
    return model


def _open_saved_model(folder: Path, pb_path: Path, progress: Progress, parsed=None) -> Model:
    progress(0.0, f"reading {pb_path.name}")
    saved = parsed if parsed is not None else _parse_saved_model(pb_path)
    model = Model(
        path=folder, format="saved_model", schema_version=saved.saved_model_schema_version
    )
    model.meta_graphs = [convert_meta_graph(mg) for mg in saved.meta_graphs]
    progress(0.5, "reading fingerprint and variables")
    model.fingerprint = _read_fingerprint(folder / "fingerprint.pb", model.problems)
    prefix = folder / "variables" / "variables"
    if prefix.with_name("variables.index").is_file():
        _attach_checkpoint(model, prefix)
    elif _expects_variables(model, folder / "variables"):
        model.problems.append(
            Problem("variables", f"{prefix}.index", "missing: variable values are unavailable")
        )
    model.assets = _list_assets(folder)
    model.keras_metadata = (folder / "keras_metadata.pb").is_file()
    model.files = _file_sizes(_walk(folder), folder)
    progress(1.0, "done")
    return model


def _expects_variables(model: Model, folder: Path) -> bool:
    """Whether a SavedModel without a variables index should have had one."""
    if folder.is_dir() and any(folder.iterdir()):
        return True
    return any(
        node.variable is not None
        for mg in model.meta_graphs
        if mg.object_graph
        for node in mg.object_graph.nodes
    )


def _parse_saved_model(pb_path: Path):
    data = pb_path.read_bytes()
    if pb_path.suffix == ".pbtxt":
        msg = proto.SavedModel()
        try:
            text_format.Parse(data.decode("utf-8"), msg)
        except (text_format.ParseError, UnicodeDecodeError) as e:
            raise SmlensError(pb_path, f"cannot parse as a text SavedModel: {e}") from None
        return msg
    if not data:
        raise SmlensError(pb_path, "the file is empty")
    try:
        msg = proto.SavedModel.FromString(data)
    except pb_message.DecodeError as e:
        raise SmlensError(pb_path, f"cannot parse: truncated or not a SavedModel ({e})") from None
    if not msg.meta_graphs:
        raise SmlensError(pb_path, "holds no MetaGraphDef: truncated or not a SavedModel")
    return msg


def _read_fingerprint(path: Path, problems: list[Problem]) -> Fingerprint | None:
    if not path.is_file():
        return None
    try:
        fp = proto.FingerprintDef.FromString(path.read_bytes())
    except pb_message.DecodeError as e:
        problems.append(Problem("fingerprint", str(path), f"cannot parse: {e}"))
        return None
    return Fingerprint(
        saved_model_checksum=fp.saved_model_checksum,
        graph_def_program_hash=fp.graph_def_program_hash,
        signature_def_hash=fp.signature_def_hash,
        saved_object_graph_hash=fp.saved_object_graph_hash,
        checkpoint_hash=fp.checkpoint_hash,
        version=fp.version.producer,
        uuid=fp.uuid,
    )


def _attach_checkpoint(model: Model, prefix: Path) -> None:
    """Open the bundle at ``prefix`` into ``model``; a broken one becomes a Problem."""
    try:
        bundle = TensorBundle(prefix)
    except SmlensError as e:
        model.problems.append(Problem("variables", e.path, e.message))
        return
    model.checkpoint = bundle
    model.problems.extend(bundle.problems)
    trackable = None
    if OBJECT_GRAPH_KEY in bundle.entries:
        try:
            trackable = bundle.trackable_object_graph()
        except SmlensError as e:
            if not any(mg.object_graph for mg in model.meta_graphs):  # else names come from it
                model.problems.append(
                    Problem("variables", e.path, f"names unresolved: {e.message}")
                )
    saved = next((mg.object_graph for mg in model.meta_graphs if mg.object_graph), None)
    visible = bundle.keys()
    entries = {k: bundle.entries[k] for k in visible}
    model.variables = resolve_variables(entries, trackable, saved)


def _open_checkpoint(prefix: Path, shown: Path, progress: Progress) -> Model:
    progress(0.0, f"reading {prefix.name}.index")
    model = Model(path=shown, format="checkpoint")
    meta = prefix.with_name(prefix.name + ".meta")
    if meta.is_file():
        kind, message = sniff_file(meta)
        if kind == "meta_graph":
            model.meta_graphs = [convert_meta_graph(message)]
    _attach_checkpoint(model, prefix)
    if model.checkpoint is None:
        raise SmlensError(model.problems[-1].path, model.problems[-1].message)
    model.files = _file_sizes(_checkpoint_files(prefix), prefix.parent)
    progress(1.0, "done")
    return model


def _checkpoint_files(prefix: Path) -> list[Path]:
    return sorted(p for p in prefix.parent.glob(prefix.name + ".*") if p.is_file())


def _list_assets(folder: Path) -> list[Asset]:
    assets = []
    for sub, extra in (("assets", False), ("assets.extra", True)):
        for path in _walk(folder / sub):
            assets.append(Asset(path.relative_to(folder).as_posix(), path.stat().st_size, extra))
    return assets


def _walk(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found = []
    for root, _dirs, names in os.walk(folder):
        found.extend(Path(root) / n for n in names)
    return sorted(found)


def _file_sizes(paths: list[Path], base: Path | None = None) -> dict[str, int]:
    sizes = {}
    for p in paths:
        rel = p.relative_to(base).as_posix() if base else p.name
        sizes[rel] = p.stat().st_size
    return sizes
