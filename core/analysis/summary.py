"""The whole model as JSON-ready data, for ``smlens show --json`` and scripts."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from smlens.core.analysis.graph_io import GraphIO, graph_io
from smlens.core.analysis.ops import CustomOpGroup, custom_ops, op_counts
from smlens.core.analysis.releases import Need, release_table, required_release
from smlens.core.errors import SmlensError
from smlens.core.formats.training import find_training_folder
from smlens.core.model import MetaGraph, Model, Shape, Signature, TensorInfo, Variable
from smlens.core.model.roles import ROLES


def _shape(shape: Shape) -> list[int] | None:
    return None if shape.dims is None else list(shape.dims)


def _tensor(info: TensorInfo) -> dict:
    out = {"dtype": info.dtype, "shape": _shape(info.shape), "encoding": info.encoding}
    if info.encoding == "name":
        out["name"] = info.name
    elif info.coo_sparse:
        out["values"], out["indices"], out["dense_shape"] = info.coo_sparse
    else:
        out["components"] = [_tensor(c) for c in info.components]
        out["type_spec"] = info.type_spec.type_name if info.type_spec else None
    return out


def _signature(sig: Signature) -> dict:
    return {
        "method_name": sig.method_name,
        "inputs": {k: _tensor(v) for k, v in sig.inputs.items()},
        "outputs": {k: _tensor(v) for k, v in sig.outputs.items()},
    }


def custom_op_group(group: CustomOpGroup) -> dict:
    """One namespace of ops TensorFlow does not define: ``ops`` maps each op to the nodes
    using it; ``package`` is the pip package that usually provides them and ``load`` what
    ``smlens run --load`` takes (both None when no provider is known)."""
    return {
        "namespace": group.namespace,
        "ops": dict(group.ops),
        "package": group.package,
        "load": group.module,
    }


def _need(need: Need) -> dict:
    if need.kind == "graph_def":
        return {"kind": need.kind, "min_consumer": need.min_consumer, "since": str(need.since)}
    return {
        "kind": need.kind,
        "op": need.op,
        "attr": need.attr or None,
        "since": str(need.since),
        "until": str(need.until) if need.until else None,
        "nodes": need.nodes,
        "first_node": need.where,
        "at_default": need.at_default,
    }


def min_tensorflow(mg: MetaGraph) -> dict:
    """The oldest TensorFlow release that loads ``mg``: ``release``, the ``set_by`` ops and
    attrs of that release, every later-than-the-oldest ``needs``, what no release dates
    or defines, and the GraphDef versions. ``error`` alone when the table is unreadable."""
    try:
        found = required_release(mg)
        table = release_table()
    except SmlensError as e:
        return {"error": str(e)}
    return {
        "release": str(found.release),
        "oldest_checked": found.oldest_checked,
        "until": str(found.until) if found.until else None,
        "text": found.text(),
        "set_by": [_need(n) for n in found.set_by],
        "needs": [_need(n) for n in found.needs],
        "release_with_stripped_default_attrs": (
            str(found.stripped_release) if found.stripped_release else None
        ),
        "custom_ops": list(found.custom),
        "undated_ops": list(found.undated),
        "unknown_attrs": [{"op": op, "attr": attr} for op, attr in found.unknown_attrs],
        "graph_def": {
            "producer": found.producer,
            "min_consumer": found.min_consumer,
            "written_by": str(found.written_by) if found.written_by else None,
            "written_after": str(found.written_after) if found.written_after else None,
        },
        "table": {
            "oldest": str(table.oldest),
            "pinned": table.pinned,
            "not_fetched": table.not_fetched,
            "sources": table.sources,
        },
    }


def _meta_graph(mg: MetaGraph) -> dict:
    counts = op_counts(mg)
    return {
        "tags": mg.tags,
        "tensorflow_version": mg.tf_version,
        "tensorflow_git_version": mg.tf_git_version,
        "stripped_default_attrs": mg.stripped_default_attrs,
        "signatures": {k: _signature(s) for k, s in mg.signatures.items()},
        "num_nodes": len(mg.graph.nodes),
        "num_functions": len(mg.functions),
        "num_function_nodes": sum(len(f.nodes) for f in mg.functions.values()),
        "ops": {op: c.total for op, c in sorted(counts.items())},
        "custom_ops": [custom_op_group(g) for g in custom_ops([mg])],
        "min_tensorflow": min_tensorflow(mg),
        "collections": sorted(mg.collections),
        "asset_files": [asdict(a) for a in mg.asset_files],
        "concrete_functions": sorted(mg.object_graph.concrete_functions) if mg.object_graph else [],
        "graph_io": None if mg.callable_signatures else graph_io_summary(graph_io(mg)),
    }


def graph_io_summary(io: GraphIO) -> dict:
    """Feeds and ranked fetches of a meta graph without signatures (``graph_io``):
    ``feeds`` [{name, tensor, op, dtype, shape, default}], ``fetches`` [{name, rank, op,
    dtype, shape, reason}], ``left_out`` [{name, op, kind, reason}]."""
    return {
        "feeds": [
            {
                "name": f.name,
                "tensor": f.tensor,
                "op": f.op,
                "dtype": f.dtype,
                "shape": _shape(f.shape),
                "default": f.default,
            }
            for f in io.feeds
        ],
        "fetches": [
            {
                "name": f.name,
                "rank": f.rank,
                "op": f.op,
                "dtype": f.dtype or None,
                "shape": _shape(f.shape),
                "reason": f.reason,
            }
            for f in io.fetches
        ],
        "output_nodes": io.output_nodes,
        "left_out": [asdict(left) for left in io.left_out],
    }


def _variable(v: Variable, aliases: list[str]) -> dict:
    return {
        "name": v.name,
        "key": v.key,
        "object_path": v.object_path,
        "dtype": v.dtype,
        "shape": _shape(v.shape),
        "num_elements": v.num_elements,
        "nbytes": v.nbytes,
        "trainable": v.trainable,
        "role": v.role,
        "slot_of": v.slot_of,
        "slot_name": v.slot_name,
        "partitioned": v.sliced,
        "also_stored_as": aliases,
    }


def _constant(c: Variable) -> dict:
    """A frozen weight: ``key`` is its tensor name, ``consumer`` the op that reads it."""
    return {
        "name": c.name,
        "key": c.key,
        "dtype": c.dtype,
        "shape": _shape(c.shape),
        "num_elements": c.num_elements,
        "nbytes": c.nbytes,
        "consumer": c.consumer,
    }


def _by_role(variables) -> dict[str, dict[str, int]]:
    """role -> {variables, elements}, for each role present, in ROLES order."""
    counts: dict[str, dict[str, int]] = {}
    for v in variables:
        entry = counts.setdefault(v.role, {"variables": 0, "elements": 0})
        entry["variables"] += 1
        entry["elements"] += v.num_elements
    return {role: counts[role] for role in ROLES if role in counts}


def model_summary(model: Model) -> dict:
    """Variables stored under several keys are listed once, with their other keys; the
    frozen constants (big Const tensors) come apart, and count as parameters."""
    groups = model.variable_groups()
    return {
        "path": str(model.path),
        "format": model.format,
        "saved_model_schema_version": model.schema_version,
        "fingerprint": asdict(model.fingerprint) if model.fingerprint else None,
        "meta_graphs": [_meta_graph(mg) for mg in model.meta_graphs],
        "variables": [_variable(v, [w.key for w in g[1:]]) for g in groups for v in g[:1]],
        "constants": [_constant(c) for c in model.constants()],
        "num_checkpoint_entries": len(model.variables),
        "num_parameters": sum(v.num_elements for g in groups for v in g[:1] if v.is_weight)
        + sum(c.num_elements for c in model.constants()),
        "variables_by_role": _by_role(g[0] for g in groups),
        "assets": [asdict(a) for a in model.assets],
        "keras_metadata": model.keras_metadata,
        "bytes": model.bytes_by_part(),
        "problems": [asdict(p) for p in model.problems],
        "training_folder": _training_folder(model),
    }


def _training_folder(model: Model) -> dict | None:
    """A training folder's checkpoint steps (oldest first) and the SavedModels exported below
    it (newest first), paths relative to the folder; None for anything else."""
    found = find_training_folder(model.path) if model.format != "saved_model" else None
    if found is None:
        return None
    shown = Path(model.checkpoint.prefix) if model.checkpoint is not None else None

    def relative(path: Path) -> str:
        return path.relative_to(found.folder).as_posix()

    return {
        "folder": str(found.folder),
        "checkpoints": [
            {
                "prefix": relative(c.prefix),
                "step": c.step,
                "has_meta": c.has_meta,
                "shown": c.prefix == shown,
            }
            for c in found.checkpoints
        ],
        "exports": [relative(e) for e in found.exports],
        "events": [relative(e) for e in found.events],
        "graphs": [relative(g) for g in found.graphs],
    }
