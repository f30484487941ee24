"""The variables of a diff as rows of a drift table: one per variable of either export, with
its status and value figures, sortable by how far the values moved.

Plain data for the compare window's Variables tab, and for anything else that lists drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from smlens.core.diff.changes import Change, ModelDiff, ValueDelta
from smlens.core.model.roles import WEIGHT
from smlens.core.model.text import short_dtype, tensor_type_text

STATUS_ORDER = {
    "identical": 0,
    "not compared": 1,
    "removed": 2,
    "added": 2,
    "renamed": 2,
    "reshaped": 3,
}
ARROW = "→"


@dataclass(frozen=True)
class DriftRow:
    name: str
    status: str
    type_text: str
    delta: ValueDelta | None = None
    change: Change | None = None

    @property
    def role(self) -> str:
        """The variable's role (core.model.roles), A's for a pair."""
        if self.delta is not None:
            return self.delta.role
        return (self.change.role if self.change is not None else None) or WEIGHT

    def sort_key(self, column: int):
        """What ``column`` sorts by. Drift columns: (0, figure), identical as figure 0; rows
        that differ in a way no figure measures (reshaped, added, ...) rank above any figure,
        so a descending sort puts them first; None (no figure, not known to differ) last."""
        d = self.delta
        if column == 0:
            return self.name
        if column == 1:
            return STATUS_ORDER.get(self.status, 4)
        if column == 2:
            return self.type_text
        if d is not None and d.identical:
            return (0, 0.0)
        figure = None if d is None else self.figures()[column - 3]
        if figure is not None:
            return (0, figure)
        if self.status == "identical":
            return None
        return (1, STATUS_ORDER.get(self.status, 4), self.name)

    def figures(self) -> tuple:
        d = self.delta
        if d is None:
            return (None, None, None, None)
        if d.identical and d.max_abs is None:  # by checksum: nothing read, nothing moved
            return (0.0, 0.0, 0.0, 0.0)
        return (d.max_abs, d.mean_abs, d.relative_l2, d.changed_fraction)


def drift_rows(diff: ModelDiff) -> list[DriftRow]:
    """A row per variable pair (renamed ones named ``old → new``), then per variable added,
    removed, or with a new dtype or shape."""
    renamed = {c.path[1]: c for c in diff.groups.get("variables", []) if c.kind == "renamed"}
    rows = []
    for name, d in diff.value_deltas.items():
        if name in renamed:
            status = "renamed"
        elif d.identical:
            status = "identical"
        elif d.identical is None:
            status = "not compared"
        else:
            status = "changed"
        change = renamed.get(name)
        label = f"{change.before} {ARROW} {change.after}" if change else name
        rows.append(DriftRow(label, status, tensor_type_text(d.dtype, d.shape), d, change))
    for c in diff.groups.get("variables", []):
        if c.kind in ("added", "removed"):
            rows.append(DriftRow(c.path[1], c.kind, _type_text(c.before or c.after), change=c))
        elif c.kind == "changed" and c.before is not None:  # dtype or shape changed
            text = f"{_type_text(c.before)} {ARROW} {_type_text(c.after)}"
            rows.append(DriftRow(c.path[1], "reshaped", text, change=c))
    return rows


def _type_text(described: str | None) -> str:
    """ "DT_FLOAT (10, 8)" -> "float32 (10, 8)"."""
    dtype, _, shape = (described or "").partition(" ")
    return f"{short_dtype(dtype)} {shape}".strip()
