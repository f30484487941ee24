"""One tensor's values: statistics, histogram, a 2-D slice as a table and as an image.

Loading and analysis run off the UI thread (TaskRunner); a newer tensor cancels the older.
The widget knows arrays, not variables, so the run and graph panels reuse it for outputs and
weights. Its parts live beside it: ``stats_view`` (the statistics grid), ``histogram``,
``table`` (the slice as a table, and the controls that pick the slice) and ``image``; the
slicing, statistics and formatting they show are core's (``core.analysis.tensor_values``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.tensor_values import (
    COPY_LIMIT,
    TensorData,
    analyze,
    format_value,
    is_text,
    load_and_analyze,
    save_npy,
    slice_2d,
    values_text,
)
from smlens.core.model import format_dims
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.base.theme import current
from smlens.gui.base.widgets import mono_font, muted_label, placeholder_label
from smlens.gui.tensor.stats_view import TensorStatsView, error_style
from smlens.gui.tensor.table import ArrayTableView, SliceControls

if TYPE_CHECKING:
    from smlens.gui.tensor.histogram import TensorHistogram
    from smlens.gui.tensor.image import TensorPicture

HISTOGRAM_TAB, VALUES_TAB, IMAGE_TAB = range(3)


class TensorView(QWidget):
    """Statistics, histogram, values and image of one tensor.

    ``show_tensor(title, loader)`` reads through ``loader()`` on a worker thread;
    ``show_array(title, array)`` shows an array at hand. ``loaded`` fires once the view
    shows the new tensor, ``failed`` with a message when reading it failed.
    """

    loaded = Signal()
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None, with_stats: bool = True):
        super().__init__(parent)
        # The run panel's outputs table shows each output's statistics already.
        self.with_stats = with_stats
        self.data: TensorData | None = None
        self.title = ""
        self._protected: Path | None = None
        self._picture_stale = False
        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._on_loaded)
        self._runner.failed.connect(self._on_failed)
        self._runner.busy_changed.connect(self._on_busy_changed)
        self._build()
        self.clear()

    # building -------------------------------------------------------------------------

    def _build(self) -> None:
        self.title_label = QLabel()
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info_label = muted_label()
        self.caption_label = muted_label()  # what the tensor is for: "optimizer state of ..."
        self.caption_label.hide()
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(12)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setToolTip("Reading and summarising the values")
        self.busy_bar.hide()  # shown only while a read runs
        self.copy_button = QPushButton("Copy values")
        self.copy_button.setToolTip(f"Copy up to {COPY_LIMIT:,} values as text (Ctrl+Shift+C)")
        self.copy_button.setShortcut("Ctrl+Shift+C")
        self.copy_button.clicked.connect(self.copy_values)
        self.export_button = QPushButton("Export .npy…")
        self.export_button.setToolTip("Save the whole tensor as a NumPy .npy file")
        self.export_button.clicked.connect(self._on_export_clicked)
        header = QHBoxLayout()
        header.addWidget(self.title_label)
        header.addWidget(self.info_label)
        header.addStretch(1)
        header.addWidget(self.busy_bar)
        header.addWidget(self.copy_button)
        header.addWidget(self.export_button)
        self.header = QWidget()
        header_rows = QVBoxLayout(self.header)
        header_rows.setContentsMargins(0, 0, 0, 0)
        header_rows.addLayout(header)
        header_rows.addWidget(self.caption_label)
        header.setContentsMargins(0, 0, 0, 0)

        self.stats_view = TensorStatsView()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        self.slice_controls = SliceControls()
        self.slice_controls.changed.connect(self._on_slice_changed)

        self._hist: TensorHistogram | None = None  # built when first shown: pyqtgraph
        self._hist_page = QWidget()
        QVBoxLayout(self._hist_page).setContentsMargins(0, 0, 0, 0)
        self.table = ArrayTableView()
        self._picture: TensorPicture | None = None  # built when first shown: two plots
        self._picture_array: np.ndarray | None = None  # the array the picture is set up for
        self._picture_page = QWidget()
        page = QVBoxLayout(self._picture_page)
        page.setContentsMargins(0, 0, 0, 0)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._hist_page, "Histogram")
        self.tabs.addTab(self.table, "Values")
        self.tabs.addTab(self._picture_page, "Image")
        self.tabs.setTabToolTip(HISTOGRAM_TAB, "Distribution of the finite values")
        self.tabs.setTabToolTip(VALUES_TAB, "A 2-D slice of the values as a table")
        self.tabs.setTabToolTip(IMAGE_TAB, "A 2-D slice, or a conv kernel grid, as an image")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        # the slice picker sits beside the tabs it drives, saving a row for the plots
        self.tabs.setCornerWidget(self.slice_controls, Qt.Corner.TopRightCorner)

        self.scalar_label = QLabel()
        self.scalar_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scalar_label.setWordWrap(True)
        self.scalar_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = mono_font()
        font.setPointSize(font.pointSize() + 6)
        self.scalar_label.setFont(font)
        self.placeholder = placeholder_label()
        self.content = QStackedWidget()
        self.content.setMinimumHeight(60)  # a short dock still shows the header and tabs
        self.content.addWidget(self.tabs)
        self.content.addWidget(self.scalar_label)
        self.content.addWidget(self.placeholder)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.header)
        layout.addWidget(self.stats_view)
        layout.addWidget(self.message)
        layout.addWidget(self.content, 1)

    @property
    def hist_plot(self) -> TensorHistogram:
        """The Histogram tab's plot, built on first use (pyqtgraph costs startup time)."""
        if self._hist is None:
            from smlens.gui.tensor.histogram import TensorHistogram

            self._hist = TensorHistogram()
            self._hist_page.layout().addWidget(self._hist)
        return self._hist

    @property
    def picture_view(self) -> TensorPicture:
        """The Image tab's content, built on first use (it costs startup time otherwise)."""
        if self._picture is None:
            from smlens.gui.tensor.image import TensorPicture

            self._picture = TensorPicture()
            self._picture.changed.connect(self._on_slice_changed)
            self._picture_page.layout().addWidget(self._picture)
        return self._picture

    # public API -------------------------------------------------------------------------

    def set_protected_folder(self, folder: str | Path | None) -> None:
        """The model's folder, into which Export refuses to write."""
        if folder is not None and Path(folder).is_file():
            folder = Path(folder).parent
        self._protected = Path(folder) if folder is not None else None

    def show_tensor(self, title: str, loader: Callable[[], np.ndarray], caption: str = "") -> None:
        """Read and show a tensor; ``caption`` says what it is for, under the title (an
        optimizer moment names its weight)."""
        self._begin(title)
        self.caption_label.setText(caption)
        self.caption_label.setVisible(bool(caption))
        self._runner.start(load_and_analyze, loader)

    def caption_text(self) -> str:
        """The caption under the title ("" when none is shown)."""
        return self.caption_label.text() if not self.caption_label.isHidden() else ""

    def show_array(self, title: str, array: np.ndarray) -> None:
        self._begin(title)
        self._runner.start(analyze, np.asarray(array))

    def clear(self) -> None:
        self._runner.cancel()
        self._begin("")
        self._show_placeholder("Select a tensor to see its values.")

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def export_npy(self, dest: str | Path) -> None:
        """Save the shown tensor; raises PermissionError inside the model folder."""
        if self.data is None:
            raise ValueError("no tensor is shown")
        save_npy(self.data.array, dest, self._protected)

    def copy_values(self) -> str:
        """Put the values on the clipboard; returns the text put there."""
        if self.data is None:
            return ""
        text, truncated = values_text(self.data.array)
        QGuiApplication.clipboard().setText(text)
        count = min(self.data.array.size, COPY_LIMIT)
        note = f" (truncated: {self.data.array.size:,} values in all)" if truncated else ""
        self._say(f"Copied {count:,} values to the clipboard{note}.")
        return text

    # showing --------------------------------------------------------------------------

    def _begin(self, title: str) -> None:
        self.data = None
        self.title = title
        self.title_label.setText(title)
        self.title_label.setToolTip(title)
        self.info_label.setText("")
        self.caption_label.setText("")
        self.caption_label.hide()
        self._say("")
        self.stats_view.clear()
        self.header.setVisible(bool(title))
        self.stats_view.setVisible(bool(title) and self.with_stats)
        if self._hist is not None:
            self._hist.clear_counts()
        self.table.array_model.set_array(np.zeros((0, 0)))
        if self._picture is not None:
            self._picture.clear()
        self._picture_array = None
        self.slice_controls.set_shape(())
        self.copy_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self._show_placeholder("Reading…" if title else "")

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(error_style() if error else f"color: {current().muted};")
        self.message.setVisible(bool(text))

    def _show_placeholder(self, text: str, error: bool = False) -> None:
        self.placeholder.setText(text)
        self.placeholder.setStyleSheet(error_style() if error else f"color: {current().muted};")
        self.content.setCurrentWidget(self.placeholder)

    def _on_busy_changed(self, busy: bool) -> None:
        self.busy_bar.setVisible(busy)

    def _on_failed(self, error: object) -> None:
        self._show_placeholder(f"Cannot read the values:\n{error}", error=True)
        self.failed.emit(str(error))

    def _on_loaded(self, data: TensorData | None) -> None:
        if data is None:
            return
        self.data = data
        array = data.array
        text = is_text(array)
        shape = format_dims(array.shape)
        dtype = "string" if text else array.dtype.name
        self.info_label.setText(f"{dtype} · {shape} · {array.size:,} values")
        self.stats_view.set_stats(data.stats, text)
        self.content.setCurrentWidget(self.tabs)
        self.copy_button.setEnabled(True)
        self.export_button.setEnabled(True)
        if data.counts is not None:
            self.hist_plot.set_counts(data.edges, data.counts)
        self.tabs.setTabEnabled(HISTOGRAM_TAB, data.counts is not None)
        picture = not text and array.ndim >= 1 and array.size > 0
        self.tabs.setTabEnabled(IMAGE_TAB, picture)
        self.tabs.setTabText(IMAGE_TAB, "Plot" if array.ndim == 1 else "Image")
        if not self.tabs.isTabEnabled(self.tabs.currentIndex()):
            self.tabs.setCurrentIndex(VALUES_TAB)
        if array.ndim == 0:
            self.scalar_label.setText(format_value(array.item()))
            self.content.setCurrentWidget(self.scalar_label)
        elif array.size == 0:
            self._show_placeholder(f"Empty tensor: shape {shape} holds no values.")
        self.slice_controls.set_shape(array.shape)
        self._on_slice_changed()
        self.loaded.emit()

    def _on_slice_changed(self) -> None:
        if self.data is None or self.data.array.ndim == 0:
            return
        rows, cols = self.slice_controls.axes()
        self.table.set_array(slice_2d(self.data.array, rows, cols, self.slice_controls.index()))
        self._picture_stale = True
        if self.tabs.currentIndex() == IMAGE_TAB:
            self._draw_picture()

    def _on_tab_changed(self, index: int) -> None:
        if index == IMAGE_TAB and self._picture_stale:
            self._draw_picture()

    def _draw_picture(self) -> None:
        """Drawn only while the Image tab shows: a 100 MB slice costs a noticeable moment."""
        self._picture_stale = False
        if self.data is None or not self.tabs.isTabEnabled(IMAGE_TAB):
            return
        if self._picture_array is not self.data.array:
            self._picture_array = self.data.array
            self.picture_view.set_array(self.data.array)  # may ask for a redraw: drawn below
            self._picture_stale = False
        self.picture_view.draw(self.data.array, self.table.array_model.array, self.data.stats)

    def _on_export_clicked(self) -> None:
        start = str(Path.home() / f"{self.title.replace('/', '_') or 'tensor'}.npy")
        dest, _ = QFileDialog.getSaveFileName(self, "Export tensor", start, "NumPy array (*.npy)")
        if not dest:
            return
        try:
            self.export_npy(dest)
        except (OSError, ValueError) as e:
            self._say(f"Not exported: {e}", error=True)
        else:
            self._say(f"Saved to {dest}")


def main(argv: list[str]) -> None:
    """``python -m smlens.gui.tensor.view MODEL [VARIABLE]``: one variable's values."""
    from functools import partial

    from smlens.core.formats.reader import open_model
    from smlens.gui.base.preview import application

    app = application()
    model = open_model(argv[1])
    var = model.tensor(argv[2]) if len(argv) > 2 else model.tensors()[0]
    view = TensorView()
    view.set_protected_folder(model.path)
    view.show_tensor(var.name, partial(model.read_tensor, var.key))
    view.resize(900, 650)
    view.show()
    sys.exit(app.exec())


if __name__ == "__main__":
    main(sys.argv)
