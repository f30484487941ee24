"""The histogram of |B - A| over one output's elements: the tensor viewer's histogram with
the comparison's axis names and a title (imported when the first comparison is shown, not
at start, as pyqtgraph is)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QWidget

from smlens.gui.tensor.histogram import TensorHistogram


class OutputDeltaHistogram(TensorHistogram):
    """Counts of |Δ| per bin, titled with the output they are of."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setLabel("bottom", "|B - A|")
        self.setLabel("left", "elements")
        self.setToolTip("Elements per |Δ| bin; drag or scroll to zoom")

    def clear_counts(self) -> None:
        super().clear_counts()
        self.setTitle(None)

    def set_counts(self, edges: np.ndarray, counts: np.ndarray, title: str = "") -> None:
        super().set_counts(edges, counts)
        self.setTitle(title or None)
