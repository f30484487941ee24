"""A row per output of one signature run through two exports (or against a saved run):
its error figures, coloured by whether it stays within its tolerance. The compare window's
Outputs tab and the Run panel's comparison show the same table."""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import QTableView, QWidget

from smlens.core.diff.outputs import OutputStats, SignatureOutputs
from smlens.gui.base import theme
from smlens.gui.base.widgets import row_table

COLUMNS = (
    "Output",
    "Verdict",
    "Max |Δ|",
    "Mean |Δ|",
    "Max rel",
    "Beyond",
    "Cosine",
    "Top-1",
    "First differing",
)
TIPS = (
    "The output key of the signature",
    "within tolerance, beyond it, or why it could not be compared",
    "Largest |B - A| over the elements",
    "Mean |B - A| over the finite elements",
    "Largest |B - A| / |A| where A is not 0",
    "Elements beyond atol + rtol·|A|, of all elements (and the tolerance)",
    "Cosine similarity of A and B as vectors",
    "Inputs whose top class (argmax, or the class id) agrees, of all inputs",
    "The first element beyond tolerance: its index, then A's and B's values",
)
KEY, VERDICT, MAX_ABS, MEAN_ABS, MAX_REL, BEYOND, COSINE, TOP1, FIRST = range(len(COLUMNS))
NUMERIC = (MAX_ABS, MEAN_ABS, MAX_REL, BEYOND, COSINE, TOP1)
STATS_ROLE = Qt.ItemDataRole.UserRole
# Row tints: a green for within tolerance, the theme's error colour beyond it.
_WITHIN = {False: "#e5f4e8", True: "#1f3524"}
_WITHIN_TEXT = {False: "#2e7d32", True: "#56d364"}
_BEYOND_TEXT = {False: "#c62828", True: "#ff7b72"}


def within_color() -> QColor:
    return QColor(_WITHIN[theme.current().dark])


def beyond_color() -> QColor:
    return QColor(theme.current().error_bg)


def verdict_color(within: bool) -> QColor:
    """The foreground of a verdict: green within tolerance, red beyond it."""
    return QColor((_WITHIN_TEXT if within else _BEYOND_TEXT)[theme.current().dark])


def _g(value: float | None, digits: int = 4) -> str:
    if value is None:
        return ""
    if math.isinf(value):
        return "inf"
    return "0" if value == 0 else f"{value:.{digits}g}"


def verdict_text(stats: OutputStats) -> str:
    if stats.within:
        return "within"
    if stats.status == "compared":
        return "beyond"
    return {"shape": "shape differs", "dtype": "dtype differs"}.get(stats.status, stats.detail)


def cell_text(stats: OutputStats, column: int) -> str:
    """What one cell of ``stats``'s row says."""
    if column == KEY:
        return stats.key
    if column == VERDICT:
        return verdict_text(stats)
    if stats.status != "compared":
        return stats.detail if column == FIRST else ""
    if column == BEYOND:
        if stats.strings_equal is not None:
            return f"{stats.strings_differ:,} of {stats.count:,} differ"
        return f"{stats.beyond:,} of {stats.count:,}"
    if column == TOP1:
        if stats.top1_rows is None:
            return ""
        return f"{stats.top1_agree:,} of {stats.top1_rows:,}"
    if column == FIRST:
        if stats.first_index is None:
            return ""
        run = f"call {stats.first_run} " if stats.first_run else ""
        return f"{run}{list(stats.first_index)}: {stats.first_a} vs {stats.first_b}"
    value = {
        MAX_ABS: stats.max_abs,
        MEAN_ABS: stats.mean_abs,
        MAX_REL: stats.max_rel,
        COSINE: stats.cosine,
    }[column]
    return _g(value, 7 if column == COSINE else 4)


class OutputDiffTableModel(QAbstractTableModel):
    """The outputs of one SignatureOutputs, in its order (sorted keys)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.signature: SignatureOutputs | None = None
        self.rows: list[OutputStats] = []

    def set_signature(self, signature: SignatureOutputs | None) -> None:
        self.beginResetModel()
        self.signature = signature
        self.rows = list(signature.outputs.values()) if signature is not None else []
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return TIPS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        stats = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(stats, column)
        if role == Qt.ItemDataRole.BackgroundRole:
            return within_color() if stats.within else beyond_color()
        if role == Qt.ItemDataRole.ForegroundRole and column == VERDICT:
            return verdict_color(stats.within)
        if role == Qt.ItemDataRole.FontRole and column in (*NUMERIC, FIRST):
            return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(stats)
        if role == STATS_ROLE:
            return stats
        return None


def _tooltip(stats: OutputStats) -> str:
    dtypes = (
        stats.dtype_a if stats.dtype_a == stats.dtype_b else f"{stats.dtype_a} → {stats.dtype_b}"
    )
    shapes = (
        f"{list(stats.shape_a)}"
        if stats.shape_a == stats.shape_b
        else f"{stats.shape_a} → {stats.shape_b}"
    )
    lines = [f"{stats.key}: {dtypes} {shapes}"]
    if stats.status == "compared":
        lines.append(f"atol {stats.atol:g}, rtol {stats.rtol:g}")
        if stats.nonfinite_mismatch:
            lines.append(f"{stats.nonfinite_mismatch:,} NaN/Inf on one side only")
    return "\n".join(lines)


def output_diff_table(model: OutputDiffTableModel, parent: QWidget | None = None) -> QTableView:
    """The table over ``model``: one row selected at a time, columns fitted to their text."""
    table = row_table(model)
    table.setSortingEnabled(False)  # the keys' order, as smlens diff prints them
    table.setAlternatingRowColors(False)  # the tints say within or beyond
    if parent is not None:
        table.setParent(parent)
    return table
