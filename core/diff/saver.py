"""Saver and restore functions compared as what they write and read, not node by node.

``__inference__traced_save`` reads every variable in object-graph order, which changes
between two exports of one model; what matters is the set of (variable, dtype, slice) its
SaveV2 writes (and RestoreV2 reads). Checkpoint keys name list positions
(``variables/3/...``), so each key is named by the variable stored under it.
"""

from __future__ import annotations

from smlens.core.diff.changes import Change
from smlens.core.diff.function_matching import split_input, strip_uid
from smlens.core.errors import SmlensError
from smlens.core.model import Function, Model

SAVER_OPS = ("SaveV2", "RestoreV2", "SaveSlices", "RestoreSlice", "Save", "Restore")
_SAVER_NAMES = ("__inference__traced_save", "__inference__traced_restore")


def is_saver(fn: Function, roles: set[str] = frozenset()) -> bool:
    """Whether ``fn`` only saves or restores the checkpoint."""
    if any(role.startswith("saver:") for role in roles):
        return True
    return strip_uid(fn.name) in _SAVER_NAMES


def saved_entries(fn: Function, model: Model | None, rename: dict[str, str]) -> set[tuple]:
    """(variable or key, dtype, slice) for every tensor ``fn``'s SaveV2/RestoreV2 nodes name;
    variable names are mapped through ``rename`` (B's names to A's)."""
    by_name = {n.name: n for n in fn.nodes}
    by_key = {v.key: v.name for v in model.variables} if model is not None else {}
    out: set[tuple] = set()
    for node in fn.nodes:
        if node.op not in ("SaveV2", "RestoreV2") or len(node.data_inputs) < 3:
            continue
        keys = _strings(by_name.get(split_input(node.data_inputs[1])[1]))
        slices = _strings(by_name.get(split_input(node.data_inputs[2])[1]))
        dtypes = node.attrs.get("dtypes", []) if node._attr_proto is not None else []
        for i, key in enumerate(keys):
            name = by_key.get(key)
            label = rename.get(name, name) if name is not None else key
            dtype = dtypes[i] if i < len(dtypes) else ""
            out.add((label, str(dtype), slices[i] if i < len(slices) else ""))
    return out


def _strings(node) -> list[str]:
    if node is None or node.op != "Const":
        return []
    try:
        values = node.attrs["value"].numpy().reshape(-1)
    except (SmlensError, ValueError):  # an undecodable constant: no names from it
        return []
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]


def diff_saver(
    path: tuple[str, ...], fa: Function, fb: Function, entries_a: set, entries_b: set
) -> Change | None:
    """One change naming what a saver function writes or reads that it did not, or None."""
    if entries_a == entries_b:
        return None
    gone = sorted(entries_a - entries_b)
    new = sorted(entries_b - entries_a)
    verb = "restores" if "restore" in fa.name else "saves"

    def listed(entries) -> str:
        names = [e[0] for e in entries[:5]]
        return ", ".join(names) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")

    parts = []
    if new:
        parts.append(f"{len(new)} more ({listed(new)})")
    if gone:
        parts.append(f"{len(gone)} fewer ({listed(gone)})")
    return Change(
        path,
        "changed",
        [list(e) for e in gone],
        [list(e) for e in new],
        reason=f"function {path[-1]} {verb} other tensors: " + "; ".join(parts),
    )
