"""Every variable of a model written to one .npz, keyed by resolved name: the archive is
written one tensor at a time, so memory holds one variable, never the whole model. A frozen
graph's weights (its big Const tensors, ``Model.constants``) are written too, under their
node names."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from smlens.core.errors import SmlensError
from smlens.core.model import Model
from smlens.core.model.roles import is_training_state
from smlens.core.model.text import counted
from smlens.core.tasks import CancelCheck, Cancelled, Progress


def _storable(values: np.ndarray) -> np.ndarray:
    """Strings as fixed-width bytes: a .npz that needs no pickle to read back."""
    if values.dtype == object:
        items = [v if isinstance(v, bytes) else str(v).encode() for v in values.ravel()]
        return np.array(items, dtype=bytes).reshape(values.shape)
    return values


def export_variables(
    model: Model,
    out: str | Path,
    *,
    with_slots: bool = True,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> dict[str, str]:
    """Write each distinct variable, then each frozen constant, to ``out`` (.npz) under its
    resolved name (a constant's node name); returns {name: key}. Refuses to write into the
    model's folder."""
    if not model.has_values():
        raise SmlensError(model.path, "this model has no variables to export")
    target = Path(out).resolve()
    folder = model.path if model.path.is_dir() else model.path.parent
    if target.is_relative_to(folder.resolve()):
        raise SmlensError(out, "will not write into the model folder")
    variables = [v for v in model.tensors() if with_slots or not is_training_state(v.role)]
    written: dict[str, str] = {}
    partial = target.with_name(target.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for i, var in enumerate(variables):
                if cancelled is not None and cancelled():
                    raise Cancelled("export stopped")
                if progress is not None:
                    progress(i / max(1, len(variables)), var.name)
                values = _storable(model.read_tensor(var.key))
                with archive.open(var.name + ".npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asarray(values), allow_pickle=False)
                written[var.name] = var.key
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    if progress is not None:
        progress(1.0, "done")
    return written


def exported_text(model: Model, written: dict[str, str]) -> str:
    """What ``export_variables`` wrote, as the CLI and the window say it: "6 variables",
    "3 constants", "6 variables and 3 constants"."""
    source = model.constant_source()
    constants = sum(1 for key in written.values() if source is not None and key in source.entries)
    variables = len(written) - constants
    parts = [counted(variables, "variable")] if variables or not constants else []
    if constants:
        parts.append(counted(constants, "constant"))
    return " and ".join(parts)
