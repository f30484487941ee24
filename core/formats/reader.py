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
from smlens.core.formats.bundle import CheckpointPrefix, TensorBundle
from smlens.core.formats.constants import find_constants
from smlens.core.formats.convert import (
    convert_graph,
    convert_meta_graph,
    dangling_children,
    gc_paused,
)
from smlens.core.formats.files import (
    exists,
    is_regular,
    outside,
    outside_message,
    read_regular,
    special_kind,
)
from smlens.core.formats.names import OBJECT_GRAPH_KEY, resolve_variables
from smlens.core.formats.pieces import parse
from smlens.core.formats.sniff import sniff_file
from smlens.core.model import Asset, Fingerprint, MetaGraph, Model
from smlens.core.tasks import Progress, no_progress


def open_model(path: str | Path, progress: Progress | None = None) -> Model:
    """Read the model at ``path``. Raises SmlensError when nothing usable is there.

    The collector is paused while the many small objects are made and what was read is
    frozen out of its reach (gc_paused): its passes would hold the GIL, stalling the window
    that reads on a worker thread."""
    with gc_paused(freeze=True):
        model = _open(path, progress or no_progress)
    model.constant_finder = find_constants  # frozen weights, found when first asked for
    return model


def _open(text: str | Path, progress: Progress) -> Model:
    path = Path(text)
    if not exists(path):
        prefix = _checkpoint_prefix_of(CheckpointPrefix.of(text))
        if prefix is not None:
            return _open_checkpoint(prefix, path, progress)
        raise SmlensError(path, "no such file or folder")
    if path.is_dir():
        return _open_folder(path, progress)
    return _open_file(path, progress)


def _checkpoint_prefix_of(prefix: CheckpointPrefix) -> CheckpointPrefix | None:
    """``prefix`` if it is a checkpoint's (``model.ckpt-10`` with ``.index`` beside it)."""
    return prefix if is_regular(prefix.index) else None


def _open_folder(folder: Path, progress: Progress) -> Model:
    for name in ("saved_model.pb", "saved_model.pbtxt"):
        if exists(folder / name):  # a FIFO by that name is refused, not skipped
            return _open_saved_model(folder, folder / name, progress)
    state = folder / "checkpoint"
    if exists(state) and not state.is_dir():
        prefix, problems = _prefix_from_state(state)
        return _open_checkpoint(prefix, folder, progress, problems)
    indexes = _own_indexes(folder)
    if indexes:
        return _open_checkpoint(CheckpointPrefix.of_file(indexes[-1], ".index"), folder, progress)
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


def _own_indexes(folder: Path) -> list[Path]:
    """The folder's regular ``.index`` files, oldest first."""
    found = []
    for p in folder.glob("*.index"):
        try:
            found.append((p.stat().st_mtime, p))
        except OSError:  # a broken symlink
            continue
    return [p for _, p in sorted(found) if is_regular(p)]


_STATE_LIMIT = 16 << 20  # a checkpoint state file lists paths: megabytes are already absurd


def _prefix_from_state(state: Path) -> tuple[CheckpointPrefix, list[Problem]]:
    """The checkpoint a state file names, preferring the folder's own files over a path that
    leads outside it; any such path becomes a Problem naming it."""
    msg = proto.CheckpointState()
    try:
        text_format.Parse(read_regular(state, _STATE_LIMIT).decode("utf-8"), msg)
    except (text_format.ParseError, UnicodeDecodeError) as e:
        raise SmlensError(state, f"not a checkpoint state file: {_short(str(e))}") from None
    if not msg.model_checkpoint_path:
        raise SmlensError(state, "the checkpoint state names no model_checkpoint_path")
    named = _short(msg.model_checkpoint_path)
    folder = state.parent
    named_path = msg.model_checkpoint_path.replace("\0", "")
    if not Path(named_path).is_absolute():
        named_path = os.path.join(folder, named_path)
    prefix = CheckpointPrefix.of(named_path)
    away = outside(prefix.index, folder) if is_regular(prefix.index) else None
    if is_regular(prefix.index) and away is None:
        return prefix, []
    # The state file often holds the absolute path of the machine that wrote it.
    local = CheckpointPrefix(folder, prefix.name)
    own = local if len(local.name) < 256 and _checkpoint_prefix_of(local) is not None else None
    if own is None and (indexes := _own_indexes(folder)):
        own = CheckpointPrefix.of_file(indexes[-1], ".index")
    if own is not None:
        if away is None or own.name == prefix.name:  # a copied folder: nothing read outside
            return own, []
        message = (
            f"names checkpoint {named!r}, which is outside the model folder ({away}); "
            f"opened the folder's own {own.name or own.index.name} instead"
        )
        return own, [Problem("variables", str(state), message)]
    if away is not None:
        message = f"names checkpoint {named!r}, outside the model folder ({away}): read from there"
        return prefix, [Problem("variables", str(state), message)]
    raise SmlensError(state, f"names checkpoint {named!r}, whose .index is missing")


def _short(text: str, limit: int = 200) -> str:
    """A hostile name cut to a length one error line can carry."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _open_file(path: Path, progress: Progress) -> Model:
    kind, message = sniff_file(path)
    if kind == "saved_model":
        return _open_saved_model(path.parent, path, progress, parsed=message)
    if kind == "checkpoint_index":
        return _open_checkpoint(CheckpointPrefix.of_file(path, ".index"), path, progress)
    if kind == "checkpoint_state":
        prefix, problems = _prefix_from_state(path)
        return _open_checkpoint(prefix, path, progress, problems)
    model = Model(path=path, format=kind, files=_file_sizes([path]))
    if kind == "meta_graph":
        model.meta_graphs = [convert_meta_graph(message)]
        suffix = ".meta" if path.name.endswith(".meta") else path.suffix
        prefix = _checkpoint_prefix_of(CheckpointPrefix.of_file(path, suffix)) if suffix else None
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
    for mg in saved.meta_graphs:
        for node, child in dangling_children(mg.object_graph_def)[:10]:
            message = f"object graph node {node} names child {child}, which does not exist"
            model.problems.append(Problem("object_graph", str(pb_path), message))
    progress(0.5, "reading fingerprint and variables")
    model.fingerprint = _read_fingerprint(folder / "fingerprint.pb", model.problems)
    prefix = CheckpointPrefix(folder / "variables", "variables")
    if exists(prefix.index):
        shown = [prefix.folder] if outside(prefix.folder, folder) else _checkpoint_files(prefix)
        model.problems.extend(_outside_problems("variables", folder, shown))
        _attach_checkpoint(model, prefix)
    elif _expects_variables(model, folder / "variables"):
        model.problems.append(
            Problem("variables", str(prefix.index), "missing: variable values are unavailable")
        )
    model.assets = _list_assets(folder, model.problems)
    model.keras_metadata = is_regular(folder / "keras_metadata.pb")
    model.files = _file_sizes(_walk(folder, []), folder)
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
    data = read_regular(pb_path)
    if pb_path.suffix == ".pbtxt":
        msg = proto.SavedModel()
        try:
            proto.parse_text(data.decode("utf-8"), msg)
        except (text_format.ParseError, UnicodeDecodeError) as e:
            raise SmlensError(pb_path, f"cannot parse as a text SavedModel: {e}") from None
        return msg
    if not data:
        raise SmlensError(pb_path, "the file is empty")
    try:
        msg = parse(proto.SavedModel(), data)  # no long GIL hold: see pieces
    except pb_message.DecodeError as e:
        raise SmlensError(pb_path, f"cannot parse: truncated or not a SavedModel ({e})") from None
    if not msg.meta_graphs:
        raise SmlensError(pb_path, "holds no MetaGraphDef: truncated or not a SavedModel")
    return msg


def _read_fingerprint(path: Path, problems: list[Problem]) -> Fingerprint | None:
    if not exists(path):
        return None
    try:
        fp = proto.FingerprintDef.FromString(read_regular(path))
    except SmlensError as e:
        problems.append(Problem("fingerprint", e.path, e.message))
        return None
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


def _attach_checkpoint(model: Model, prefix: CheckpointPrefix) -> None:
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


def _open_checkpoint(
    prefix: CheckpointPrefix, shown: Path, progress: Progress, problems: list[Problem] | None = None
) -> Model:
    progress(0.0, f"reading {prefix.index.name}")
    model = Model(path=shown, format="checkpoint")
    model.problems.extend(problems or [])
    meta = prefix.file(".meta")
    if exists(meta):
        try:
            kind, message = sniff_file(meta)
        except SmlensError as e:  # the variables are still readable without the graph
            kind, message = None, None
            model.problems.append(Problem("graph", e.path, f"graph unavailable: {e.message}"))
        if kind == "meta_graph":
            model.meta_graphs = [convert_meta_graph(message)]
    _attach_checkpoint(model, prefix)
    if model.checkpoint is None:
        raise SmlensError(model.problems[-1].path, model.problems[-1].message)
    root = shown if shown.is_dir() else shown.parent
    model.files = _file_sizes(_checkpoint_files(prefix), root)
    progress(1.0, "done")
    return model


def _checkpoint_files(prefix: CheckpointPrefix) -> list[Path]:
    return [p for p in prefix.files() if is_regular(p)]


def _outside_problems(part: str, folder: Path, paths: list[Path]) -> list[Problem]:
    """One Problem for each path that resolves outside ``folder``, naming where it leads."""
    problems = []
    for path in paths:
        if (real := outside(path, folder)) is not None:
            message = outside_message(path, real) + ": read from there"
            problems.append(Problem(part, str(path), message))
    return problems


def _list_assets(folder: Path, problems: list[Problem]) -> list[Asset]:
    """Every file under assets/ and assets.extra/; a special file, or a path leading
    outside the model folder, is listed with a Problem naming it."""
    assets = []
    for sub, extra in (("assets", False), ("assets.extra", True)):
        top = folder / sub
        if (real := outside(top, folder)) is not None and top.is_dir():
            message = outside_message(top, real) + ": not listed"
            problems.append(Problem("assets", str(top), message))
            continue
        for path in _walk(top, problems):
            size = _size(path)
            real = outside(path, folder)
            if real is not None:
                problems.append(
                    Problem("assets", str(path), outside_message(path, real) + ": not previewed")
                )
            elif (kind := _special(path)) is not None:
                problems.append(Problem("assets", str(path), f"is {kind}: not listed"))
                continue
            assets.append(Asset(path.relative_to(folder).as_posix(), size, extra))
    return assets


def _walk(folder: Path, problems: list[Problem]) -> list[Path]:
    """Files under ``folder``, not following symlinked folders (each one becomes a Problem)."""
    if not folder.is_dir():
        return []
    found = []
    for root, dirs, names in os.walk(folder):
        found.extend(Path(root) / n for n in names)
        for d in dirs:
            if (Path(root) / d).is_symlink():
                link = Path(root) / d
                where = os.path.realpath(link)
                problems.append(
                    Problem("assets", str(link), f"is a symlink to the folder {where}: not listed")
                )
    return sorted(found)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # a broken symlink
        return 0


def _special(path: Path) -> str | None:
    try:
        return special_kind(path.stat().st_mode)
    except OSError:
        return "a broken symlink"


def _file_sizes(paths: list[Path], base: Path | None = None) -> dict[str, int]:
    """Regular files only (a FIFO is never opened), keyed relative to ``base``; a file
    outside it gets a ``../`` path, so ``base / key`` still finds it."""
    sizes = {}
    for p in paths:
        if not is_regular(p):
            continue
        rel = Path(os.path.relpath(p, base)).as_posix() if base else p.name
        sizes[rel] = _size(p)
    return sizes
