"""The histogram of |B - A| over one output's elements, drawn as filled steps with
pyqtgraph (imported when the first comparison is shown, not at start)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from smlens.gui.base.plots import pg
from smlens.gui.base.theme import current


class OutputDeltaHistogram(pg.PlotWidget):
    """Counts of |Δ| per bin, on a log count axis: most elements agree to the last digit,
    and the few that moved are the ones to see."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setLabel("bottom", "|B - A|")
        self.setLabel("left", "elements")
        self.setMouseEnabled(x=True, y=False)
        self.showGrid(x=False, y=True, alpha=0.15)
        for axis in ("bottom", "left"):  # plain numbers: no "(x0.001)" unit prefix
            self.getAxis(axis).enableAutoSIPrefix(False)
        accent = QColor(current().accent)
        fill = QColor(accent)
        fill.setAlpha(110)
        self.curve = self.plot([0, 1], [0], stepMode="center", fillLevel=0, brush=fill, pen=accent)
        self.setToolTip("Elements per |Δ| bin; drag or scroll to zoom")

    def clear_counts(self) -> None:
        self.curve.setData([0, 1], [0])
        self.setTitle(None)

    def set_counts(self, edges: np.ndarray, counts: np.ndarray, title: str = "") -> None:
        self.curve.setData(edges, counts)
        self.setTitle(title or None)
        self.autoRange()
