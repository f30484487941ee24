"""A 2-D slice of a tensor as a table, and the controls that pick the slice: which two
axes run down and across, and an index for every other axis."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QSpinBox, QTableView, QWidget

from smlens.core.analysis.tensor_values import CELL_CHARS, format_bytes_value, format_value, is_text
from smlens.gui.base.widgets import mono_font, muted_label


class ArrayTableModel(QAbstractTableModel):
    """A 2-D array as a read-only table; rows and columns labelled with their indices."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._array = np.zeros((0, 0))
        self._text = False

    @property
    def array(self) -> np.ndarray:
        return self._array

    def set_array(self, array: np.ndarray) -> None:
        self.beginResetModel()
        self._array = array
        self._text = is_text(array)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._array.shape[0]

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._array.shape[1]

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            text = format_value(self._array[index.row(), index.column()])
            return text if len(text) <= CELL_CHARS else text[:CELL_CHARS] + "…"
        if role == Qt.ItemDataRole.ToolTipRole:
            value = self._array[index.row(), index.column()]
            if isinstance(value, bytes):
                return f"{len(value)} bytes\n{format_bytes_value(value)}"
            return repr(value.item() if hasattr(value, "item") else value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = Qt.AlignmentFlag.AlignLeft if self._text else Qt.AlignmentFlag.AlignRight
            return int(align | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            return str(section)
        return None


class SliceControls(QWidget):
    """Which two axes are rows and columns, and a spin box for every other axis."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows = QComboBox()
        self.cols = QComboBox()
        self.spins: dict[int, QSpinBox] = {}
        self._shape: tuple[int, ...] = ()
        self._axes: tuple[int, int | None] = (0, None)
        self._spin_box = QWidget()
        self._spin_layout = QHBoxLayout(self._spin_box)
        self._spin_layout.setContentsMargins(0, 0, 0, 0)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 0, 0, 2)
        layout.setSpacing(4)
        for text, combo in (("Rows", self.rows), ("Columns", self.cols)):
            label = muted_label(text)
            label.setBuddy(combo)
            combo.setToolTip(f"The axis that runs {'down' if combo is self.rows else 'across'}")
            layout.addWidget(label)
            layout.addWidget(combo)
            combo.currentIndexChanged.connect(self._on_axes_changed)
        layout.addSpacing(8)
        layout.addWidget(self._spin_box)

    def set_shape(self, shape: tuple[int, ...]) -> None:
        self._shape = shape
        self._axes = (len(shape) - 2, len(shape) - 1) if len(shape) >= 2 else (0, None)
        for combo, axis in zip((self.rows, self.cols), self._axes, strict=True):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([f"axis {ax} ({n})" for ax, n in enumerate(shape)])
            combo.setCurrentIndex(-1 if axis is None else axis)
            combo.blockSignals(False)
        self._rebuild_spins()
        self.setVisible(len(shape) >= 3)  # a matrix needs no index; its table can scroll

    def axes(self) -> tuple[int, int | None]:
        if len(self._shape) < 2:
            return 0, None
        return self.rows.currentIndex(), self.cols.currentIndex()

    def index(self) -> list[int]:
        return [self.spins[ax].value() if ax in self.spins else 0 for ax in range(len(self._shape))]

    def set_index(self, axis: int, value: int) -> None:
        self.spins[axis].setValue(value)

    def _on_axes_changed(self) -> None:
        rows, cols = self.rows.currentIndex(), self.cols.currentIndex()
        if rows == cols:  # picking the other combo's axis swaps the two
            other = self.cols if self.sender() is self.rows else self.rows
            before = self._axes[0] if self.sender() is self.rows else self._axes[1]
            other.blockSignals(True)
            other.setCurrentIndex(before)
            other.blockSignals(False)
        self._axes = (self.rows.currentIndex(), self.cols.currentIndex())
        self._rebuild_spins()
        self.changed.emit()

    def _on_spin_changed(self, _value: int) -> None:
        self.changed.emit()

    def _rebuild_spins(self) -> None:
        old = {ax: spin.value() for ax, spin in self.spins.items()}
        for spin in self.spins.values():
            spin.deleteLater()
        self.spins = {}
        shown = self.axes()
        for ax, n in enumerate(self._shape):
            if ax in shown:
                continue
            spin = QSpinBox()
            spin.setRange(0, max(n - 1, 0))
            spin.setValue(min(old.get(ax, 0), max(n - 1, 0)))
            spin.setPrefix(f"axis {ax} = ")
            spin.setToolTip(f"index along axis {ax} (0 … {n - 1})")
            spin.valueChanged.connect(self._on_spin_changed)
            self._spin_layout.addWidget(spin)
            self.spins[ax] = spin


class ArrayTableView(QTableView):
    """The slice's values in a fixed-width font, text columns wider than number columns."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.array_model = ArrayTableModel(self)
        self.setModel(self.array_model)
        self.horizontalHeader().setDefaultSectionSize(96)
        self.verticalHeader().setDefaultSectionSize(22)
        self.setFont(mono_font())
        self.setAlternatingRowColors(True)

    def set_array(self, array: np.ndarray) -> None:
        self.horizontalHeader().setDefaultSectionSize(320 if is_text(array) else 96)
        self.array_model.set_array(array)
