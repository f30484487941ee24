"""The histogram of a tensor's finite values, drawn as filled steps with pyqtgraph."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from smlens.gui.base.plots import pg
from smlens.gui.base.theme import current


class TensorHistogram(pg.PlotWidget):
    """Counts per bin; zoom and pan along the value axis only."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setLabel("bottom", "value")
        self.setLabel("left", "count")
        self.setMouseEnabled(x=True, y=False)
        self.showGrid(x=False, y=True, alpha=0.15)
        for axis in ("bottom", "left"):  # plain numbers: no "(x0.001)" unit prefix
            self.getAxis(axis).enableAutoSIPrefix(False)
        accent = QColor(current().accent)
        fill = QColor(accent)
        fill.setAlpha(110)
        self.curve = self.plot([0, 1], [0], stepMode="center", fillLevel=0, brush=fill, pen=accent)
        self.setToolTip("Counts of the finite values per bin; drag or scroll to zoom the values")

    def clear_counts(self) -> None:
        self.curve.setData([0, 1], [0])

    def set_counts(self, edges: np.ndarray, counts: np.ndarray) -> None:
        self.curve.setData(edges, counts)
        self.autoRange()
