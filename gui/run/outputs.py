"""The run panel's outputs: a row per output with its dtype, shape, device, statistics and
its difference from the baseline run."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFontDatabase

from smlens.core.model.text import format_dims
from smlens.core.run.deltas import OutputDelta
from smlens.core.run.state import RunRecord
from smlens.gui.base.theme import current

COLUMNS = ("Output", "DType", "Shape", "Device", "Min", "Max", "Mean", "Std", "NaN", "Δ max |a-b|")
KEY, DTYPE, SHAPE, DEVICE, MIN, MAX, MEAN, STD, NAN, DELTA = range(len(COLUMNS))
NUMERIC = (MIN, MAX, MEAN, STD, NAN, DELTA)
ARRAY_ROLE = Qt.ItemDataRole.UserRole


def short_device(name: str) -> str:
    """ "/job:localhost/replica:0/task:0/device:CPU:0" -> "CPU:0"."""
    return name.rsplit("device:", 1)[-1] if "device:" in name else name


def dtype_text(array: np.ndarray) -> str:
    return "string" if array.dtype == object or array.dtype.kind in "SU" else array.dtype.name


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.5g}"


class OutputTableModel(QAbstractTableModel):
    """The outputs of one run, in signature order, with deltas against a baseline."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.record: RunRecord | None = None
        self.keys: list[str] = []
        self.deltas: dict[str, OutputDelta] = {}
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

    def set_record(self, record: RunRecord | None, order: list[str] | None = None) -> None:
        self.beginResetModel()
        self.record = record
        outputs = record.outputs if record else {}
        ordered = [k for k in (order or []) if k in outputs]
        self.keys = ordered + sorted(k for k in outputs if k not in ordered)
        self.deltas = {}
        self.endResetModel()

    def set_deltas(self, deltas: dict[str, OutputDelta]) -> None:
        self.deltas = deltas
        if self.keys:
            self.dataChanged.emit(self.index(0, DELTA), self.index(len(self.keys) - 1, DELTA))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.keys)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if role == Qt.ItemDataRole.ToolTipRole and section == DELTA:
                return "The largest absolute difference from the baseline run"
        return None

    def array(self, row: int) -> np.ndarray:
        return self.record.outputs[self.keys[row]]

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.record is None:
            return None
        key = self.keys[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(key, col)
        if role == ARRAY_ROLE:
            return self.record.outputs[key]
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and col in (*NUMERIC, SHAPE):
            return self._mono
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._color(key, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == DEVICE:
                return self.record.result.output_devices.get(key, "")
            if col == DELTA and key in self.deltas:
                delta = self.deltas[key]
                return f"{delta.differing:,} values differ" if delta.differing else "identical"
        return None

    def _text(self, key: str, col: int) -> str:
        array = self.record.outputs[key]
        stats = self.record.stats.get(key)
        if col == KEY:
            return key
        if col == DTYPE:
            return dtype_text(array)
        if col == SHAPE:
            return format_dims(array.shape)
        if col == DEVICE:
            return short_device(self.record.result.output_devices.get(key, "?"))
        if col == DELTA:
            return self.deltas[key].text if key in self.deltas else ""
        if stats is None:
            return ""
        if col == NAN:
            return f"{stats.nan_count:,}" if stats.min is not None or stats.nan_count else "—"
        return _number({MIN: stats.min, MAX: stats.max, MEAN: stats.mean, STD: stats.std}[col])

    def _color(self, key: str, col: int) -> QColor | None:
        theme = current()
        stats = self.record.stats.get(key)
        bad = "#ef9a9a" if theme.dark else "#c62828"
        if col == NAN and stats is not None and (stats.nan_count or stats.inf_count):
            return QColor(bad)
        if col == DELTA and key in self.deltas:
            delta = self.deltas[key]
            mismatch = delta.status != "compared" or (delta.max_abs is None and delta.differing)
            if mismatch or (delta.max_abs is not None and not np.isfinite(delta.max_abs)):
                return QColor("#f5a049" if theme.dark else "#b35c00")
            return QColor(theme.muted) if not delta.differing else None
        if col in (DTYPE, DEVICE):
            return QColor(theme.muted)
        return None
