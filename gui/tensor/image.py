"""A tensor's values as a picture: a 2-D slice or a conv kernel grid as an image with a
colour bar, a 1-D tensor as a line."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.stats import TensorStats
from smlens.core.analysis.tensor_values import kernel_grid, numeric_view, shrink_image
from smlens.gui.base.plots import pg
from smlens.gui.base.theme import current
from smlens.gui.base.widgets import muted_label

LINE_SYMBOLS = 200  # 1-D tensors up to this size get a dot per value


class TensorPicture(QWidget):
    """Image of a slice (diverging colours for signed values) or line plot of a vector.

    ``changed`` fires when the kernel-grid choice changes, so the owner redraws.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.kernel_check = QCheckBox("Kernel grid (HWIO)")
        self.kernel_check.setToolTip(
            "Tile the height x width kernels of every output channel for one input channel"
        )
        self.kernel_check.toggled.connect(self._on_option_changed)
        self.channel_spin = QSpinBox()
        self.channel_spin.setPrefix("input channel ")
        self.channel_spin.setToolTip("The input channel whose kernels are tiled")
        self.channel_spin.valueChanged.connect(self._on_option_changed)
        self.note = muted_label()
        tools = QHBoxLayout()
        tools.setContentsMargins(0, 0, 0, 0)
        tools.addWidget(self.kernel_check)
        tools.addWidget(self.channel_spin)
        tools.addStretch(1)
        tools.addWidget(self.note)
        self.kernel_tools = QWidget()
        self.kernel_tools.setLayout(tools)

        self.image_plot = pg.PlotWidget()
        self.image_plot.invertY(True)
        self.image_plot.setAspectLocked(True)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_plot.addItem(self.image_item)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False)
        self.colorbar.setImageItem(self.image_item, insert_in=self.image_plot.getPlotItem())
        self.line_plot = pg.PlotWidget()
        self.line_plot.setLabel("bottom", "index")
        for plot in (self.image_plot, self.line_plot):
            for axis in ("bottom", "left"):
                plot.getAxis(axis).enableAutoSIPrefix(False)
        self.line_plot.setClipToView(True)
        self.line_plot.setDownsampling(auto=True, mode="peak")  # millions of points stay quick
        accent = QColor(current().accent)
        self.line_curve = self.line_plot.plot(pen=pg.mkPen(accent, width=1.5), symbolBrush=accent)
        self._conv = False
        self.stack = QStackedWidget()
        self.stack.addWidget(self.image_plot)
        self.stack.addWidget(self.line_plot)

        # What the pointer is over: the value under it, at full resolution (the drawing may
        # be block means), so hovering reads the stored number.
        self.readout = muted_label(" ")
        self.readout.setToolTip("The value under the pointer")
        self._values: np.ndarray | None = None  # what the image shows, one value per cell
        self.image_plot.scene().sigMouseMoved.connect(self._on_image_mouse_moved)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.kernel_tools)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.readout)

    def clear(self) -> None:
        self._values = None
        self.readout.setText(" ")
        self.image_item.clear()
        self.line_curve.setData([], [])
        self.kernel_tools.hide()
        self.note.setText("")
        self._conv = False

    def set_array(self, array: np.ndarray) -> None:
        """Offer the kernel grid for 4-D (HWIO) tensors, on by default."""
        conv = array.ndim == 4 and array.size > 0
        self._conv = conv
        self.kernel_tools.setVisible(conv)
        self.kernel_check.setVisible(conv)
        self.channel_spin.setVisible(conv)
        if conv:
            self.channel_spin.blockSignals(True)
            self.channel_spin.setRange(0, array.shape[2] - 1)
            self.channel_spin.blockSignals(False)
            self.kernel_check.blockSignals(True)
            self.kernel_check.setChecked(True)
            self.kernel_check.blockSignals(False)

    def draw(self, array: np.ndarray, table: np.ndarray, stats: TensorStats | None) -> None:
        """Draw ``array`` (1-D: a line) or its 2-D slice ``table``; ``stats`` of the whole
        array give the colour range when the slice is the whole array."""
        if array.ndim == 1:
            values = numeric_view(array).astype(np.float64)
            values[~np.isfinite(values)] = np.nan  # drawn as gaps; inf would wreck the range
            symbol = "o" if array.size <= LINE_SYMBOLS else None
            self.line_curve.setData(values, connect="finite", symbol=symbol, symbolSize=5)
            self.line_plot.autoRange()
            self.stack.setCurrentWidget(self.line_plot)
            return
        grid = array.ndim == 4 and self.kernel_check.isChecked()
        self.channel_spin.setEnabled(grid)
        if grid:
            image = kernel_grid(numeric_view(array), self.channel_spin.value())
        else:
            image = np.asarray(numeric_view(table), dtype=np.float32)
        whole = not grid and table.size == array.size and stats is not None
        for axis in ("left", "bottom"):
            self.image_plot.getPlotItem().showAxis(axis, not grid)
        self._show_image(image, (stats.min, stats.max) if whole else None)
        self.stack.setCurrentWidget(self.image_plot)

    def value_at(self, x: float, y: float) -> str | None:
        """ "row 3, col 7: 0.1234" for the point (x, y) of the image's view; None off it."""
        if self._values is None or x < 0 or y < 0:
            return None
        row, col = int(y), int(x)
        if row >= self._values.shape[0] or col >= self._values.shape[1]:
            return None
        return f"row {row}, col {col}: {float(self._values[row, col]):.6g}"

    def _on_image_mouse_moved(self, position) -> None:
        if self.stack.currentWidget() is not self.image_plot:
            return
        point = self.image_plot.getPlotItem().vb.mapSceneToView(position)
        self.readout.setText(self.value_at(point.x(), point.y()) or " ")

    def _show_image(self, image: np.ndarray, span: tuple | None) -> None:
        self._values = image
        height, width = image.shape
        image, block = shrink_image(image)
        self.note.setText(f"drawn as {block} x {block} block means" if block > 1 else "")
        self.kernel_tools.setVisible(self._conv or block > 1)
        if span is None or span[0] is None:
            finite = image[np.isfinite(image)]
            span = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        lo, hi = span
        if lo < 0 < hi:  # signed weights: a diverging map centred on zero
            lo, hi = -max(-lo, hi), max(-lo, hi)
            cmap = pg.colormap.get("CET-D1")
        else:
            cmap = pg.colormap.get("viridis")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        self.image_plot.setAspectLocked(max(height, width) <= 8 * min(height, width))
        self.image_item.setImage(image, autoLevels=False)
        self.image_item.setRect(0, 0, width, height)  # axes keep the slice's own indices
        self.colorbar.setColorMap(cmap)
        self.colorbar.setLevels((lo, hi))
        self.image_plot.autoRange()

    def _on_option_changed(self, *_args) -> None:
        self.changed.emit()
