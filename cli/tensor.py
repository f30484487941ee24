"""``smlens tensor``: one variable's (or frozen constant's) statistics and a preview of its
values."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from smlens.core.analysis.stats import tensor_stats
from smlens.core.errors import SmlensError
from smlens.core.formats.reader import open_model


def _find(model, name: str):
    try:
        return model.tensor(name)
    except KeyError as e:
        names = {v.name for v in model.tensors()}
        close = sorted(n for n in names if name.lower() in n.lower())[:10]
        hint = f"; did you mean: {', '.join(close)}" if close else ""
        reason = e.args[0] if e.args and e.args[0] != name else "no such variable"
        raise SmlensError(model.path, f"{name!r}: {reason}{hint}") from None


def print_tensor(path: str, name: str, out: str | None = None, verify: bool = False) -> int:
    model = open_model(path)
    if not model.has_values():
        problem = next((p for p in model.problems if p.part == "variables"), None)
        raise SmlensError(
            problem.path if problem else path,
            problem.message if problem else "this model has no variables",
        )
    var = _find(model, name)
    source = model.source_of(var.key)
    if verify:
        source.verify(var.key)
    values = source.read(var.key)
    if out:
        out_path = Path(out)
        if out_path.resolve().is_relative_to(Path(model.path).resolve()):
            raise SmlensError(out_path, "will not write into the model folder")
        np.save(out_path, values, allow_pickle=values.dtype == object)
        print(f"saved {var.name} {values.dtype}{list(values.shape)} to {out_path}")
        return 0
    print(f"name:        {var.name}")
    print(f"key:         {var.key}")
    if var.constant:
        print(f"constant:    a frozen weight (Const node {var.name}), read by {var.consumer}")
    if var.object_path:
        print(f"object path: {var.object_path}")
    print(f"dtype:       {var.dtype}")
    print(f"shape:       {var.shape}")
    stats = tensor_stats(values)
    print(f"elements:    {stats.count}")
    if stats.min is not None:
        print(f"min / max:   {stats.min:.6g} / {stats.max:.6g}")
        print(f"mean / std:  {stats.mean:.6g} / {stats.std:.6g}")
        print(f"zeros:       {stats.zero_fraction:.2%}")
        if stats.nan_count or stats.inf_count:
            print(f"NaN / Inf:   {stats.nan_count} / {stats.inf_count}")
    with np.printoptions(threshold=200, edgeitems=4, linewidth=100):
        print("values:")
        print(values)
    return 0


def export_all(path: str, out: str | None) -> int:
    """``smlens tensor --dir D --all --out FILE.npz``: every variable and frozen constant,
    keyed by resolved name."""
    from smlens.core.analysis.variables_export import export_variables, exported_text

    if not out or not out.endswith(".npz"):
        raise SmlensError(out or "--out", "--all writes one .npz: give --out FILE.npz")
    model = open_model(path)
    written = export_variables(model, out)
    print(f"saved {exported_text(model, written)} to {out}")
    return 0
