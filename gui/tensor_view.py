"""One tensor's values: statistics, histogram, a 2-D slice as a table and as an image.

Loading and analysis run off the UI thread (TaskRunner); a newer tensor cancels the older.
The widget knows arrays, not variables, so the run panel can reuse it for outputs.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from smlens.core.stats import TensorStats, tensor_stats
from smlens.gui.tasks import TaskRunner
from smlens.gui.theme import current

HISTOGRAM_BINS = 100
COPY_LIMIT = 100_000  # values put on the clipboard before truncating
CELL_CHARS = 200  # characters of a string shown in a table cell

# --- pure helpers, testable without Qt -------------------------------------------------


def is_text(array: np.ndarray) -> bool:
    return array.dtype == object or array.dtype.kind in "SU"


def slice_2d(array: np.ndarray, rows: int, cols: int | None, index: Sequence[int]) -> np.ndarray:
    """The 2-D slice of ``array`` with axis ``rows`` down and ``cols`` across; every other
    axis is fixed at ``index[axis]``. A 1-D array (``cols`` None) becomes one column."""
    if array.ndim == 0:
        return array.reshape(1, 1)
    keep = (rows, cols)
    picked = array[tuple(slice(None) if ax in keep else int(index[ax]) for ax in range(array.ndim))]
    if cols is None:
        return picked.reshape(-1, 1)
    return picked.T if rows > cols else picked


def kernel_grid(kernel: np.ndarray, in_channel: int, pad: int = 1) -> np.ndarray:
    """Tile an HWIO conv kernel's output channels for one input channel into one image,
    the tiles separated by NaN (drawn transparent)."""
    h, w, _, out = kernel.shape
    tiles = np.asarray(kernel[:, :, in_channel, :], dtype=np.float32)
    across = math.ceil(math.sqrt(out)) or 1
    down = math.ceil(out / across) or 1
    grid = np.full((down * (h + pad) - pad, across * (w + pad) - pad), np.nan, np.float32)
    for o in range(out):
        r, c = divmod(o, across)
        grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = tiles[:, :, o]
    return grid


def format_bytes_value(value: bytes) -> str:
    """Bytes as text: UTF-8 where it decodes, ``\\xNN`` for other bytes, escapes for
    control characters and backslashes, so the text maps back to the bytes unambiguously."""
    out = []
    for ch in value.decode("utf-8", "surrogateescape"):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\n\t\r":
            out.append(repr(ch)[1:-1])
        elif not ch.isprintable() and ch != " ":
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def format_value(value) -> str:
    """One element for a table cell: 6 significant digits for floats."""
    if isinstance(value, bytes):
        return format_bytes_value(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (complex, np.complexfloating)):
        return f"{value.real:.6g}{value.imag:+.6g}j"
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return str(value)


def values_text(array: np.ndarray, limit: int = COPY_LIMIT) -> tuple[str, bool]:
    """The values as pasteable text (nested lists, numpy style); at most ``limit`` values,
    flattened in C order, with a notice line when truncated. Returns (text, truncated)."""
    truncated = array.size > limit
    shown = array.reshape(-1)[:limit] if truncated else array
    if is_text(shown):
        shown = np.vectorize(format_bytes_value, otypes=[object])(shown) if shown.size else shown
    text = np.array2string(
        np.asarray(shown), threshold=shown.size + 1, separator=", ", max_line_width=120
    )
    if truncated:
        text = f"# first {limit:,} of {array.size:,} values, flattened in C order\n{text}"
    return text, truncated


def numeric_view(array: np.ndarray) -> np.ndarray:
    """A float view of numeric values for plots: magnitudes of complex, 0/1 for bool."""
    if array.dtype.kind == "c":
        return np.abs(array)
    if array.dtype.kind == "f" and array.dtype.itemsize >= 4:
        return array
    return array.astype(np.float64 if array.dtype.kind in "iu" else np.float32)


def histogram(array: np.ndarray, stats: TensorStats, bins: int = HISTOGRAM_BINS):
    """(counts, edges) over the finite values, or None for text and empty tensors.

    Whole-array np.histogram: about 0.3 s for 25 M float32, so no sampling is needed.
    Integers with a small range get one bin per value; at most ``bins`` bins otherwise.
    """
    if is_text(array) or stats.min is None:
        return None
    flat = numeric_view(array.reshape(-1))
    if stats.nan_count or stats.inf_count:
        flat = flat[np.isfinite(flat)]
    lo, hi = stats.min, stats.max
    if array.dtype.kind in "iub" and hi - lo < 256:
        edges = np.arange(lo - 0.5, hi + 1.5)
        return np.histogram(flat, bins=edges)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    bins = min(bins, max(8, math.ceil(2 * flat.size ** (1 / 3))))  # Rice's rule for small tensors
    return np.histogram(flat, bins=bins, range=(lo, hi))


@dataclass
class TensorData:
    """A loaded tensor with what the view shows of it."""

    array: np.ndarray
    stats: TensorStats
    counts: np.ndarray | None
    edges: np.ndarray | None


def analyze(array: np.ndarray, *, progress, cancelled) -> TensorData | None:
    array = np.asarray(array)
    progress(0.3, "statistics")
    stats = tensor_stats(array)
    if cancelled():
        return None
    progress(0.7, "histogram")
    hist = histogram(array, stats)
    counts, edges = hist if hist is not None else (None, None)
    return TensorData(array, stats, counts, edges)


def load_and_analyze(loader: Callable[[], np.ndarray], *, progress, cancelled):
    progress(0.0, "reading")
    array = loader()
    if cancelled():
        return None
    return analyze(array, progress=progress, cancelled=cancelled)


def inside(path: str | Path, folder: str | Path) -> bool:
    return Path(path).resolve().is_relative_to(Path(folder).resolve())


def save_npy(array: np.ndarray, dest: str | Path, protected: str | Path | None) -> None:
    """Write ``array`` to ``dest``; refuse anywhere inside the ``protected`` folder."""
    if protected is not None and inside(dest, protected):
        raise PermissionError(f"will not write into the model folder {protected}")
    np.save(dest, array, allow_pickle=array.dtype == object)


# --- widgets ---------------------------------------------------------------------------


class ArrayTableModel(QAbstractTableModel):
    """A 2-D array as a read-only table; rows and columns labelled with their indices."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._array = np.zeros((0, 0))
        self._text = False

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


def _mono_font():
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


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
        layout.setContentsMargins(0, 0, 0, 0)
        for text, combo in (("Rows", self.rows), ("Columns", self.cols)):
            layout.addWidget(QLabel(text))
            layout.addWidget(combo)
            combo.currentIndexChanged.connect(self._on_axes_changed)
        layout.addSpacing(12)
        layout.addWidget(self._spin_box)
        layout.addStretch(1)

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
        self.setVisible(len(shape) >= 2)

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


STAT_NAMES = ("min", "max", "mean", "std", "zeros", "NaN", "Inf", "count")
NUMERIC_STATS = STAT_NAMES[:7]


def _error_style() -> str:
    return "color: #ef9a9a;" if current().dark else "color: #c62828;"


class TensorView(QWidget):
    """Statistics, histogram, values and image of one tensor.

    ``show_tensor(title, loader)`` reads through ``loader()`` on a worker thread;
    ``show_array(title, array)`` shows an array at hand. ``loaded`` fires once the view
    shows the new tensor, ``failed`` with a message when reading it failed.
    """

    loaded = Signal()
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.data: TensorData | None = None
        self.title = ""
        self._protected: Path | None = None
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
        self.info_label = QLabel()
        self.info_label.setProperty("role", "muted")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.setTextVisible(False)
        self.copy_button = QPushButton("Copy values")
        self.copy_button.clicked.connect(self.copy_values)
        self.export_button = QPushButton("Export .npy…")
        self.export_button.clicked.connect(self._on_export_clicked)
        header = QHBoxLayout()
        header.addWidget(self.title_label)
        header.addWidget(self.info_label)
        header.addStretch(1)
        header.addWidget(self.busy_bar)
        header.addWidget(self.copy_button)
        header.addWidget(self.export_button)

        self.stat_labels: dict[str, QLabel] = {}
        self._stat_keys: dict[str, QLabel] = {}
        stats = QGridLayout()
        stats.setHorizontalSpacing(6)
        for i, name in enumerate(STAT_NAMES):
            key = QLabel(name)
            key.setProperty("role", "muted")
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setMinimumWidth(100)
            stats.addWidget(key, i // 4, 2 * (i % 4), Qt.AlignmentFlag.AlignRight)
            stats.addWidget(value, i // 4, 2 * (i % 4) + 1)
            self.stat_labels[name] = value
            self._stat_keys[name] = key
        stats.setColumnStretch(8, 1)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        self.slice_controls = SliceControls()
        self.slice_controls.changed.connect(self._on_slice_changed)

        accent = QColor(current().accent)
        self.hist_plot = pg.PlotWidget()
        self.hist_plot.setLabel("bottom", "value")
        self.hist_plot.setLabel("left", "count")
        self.hist_plot.setMouseEnabled(x=True, y=False)
        fill = QColor(accent)
        fill.setAlpha(110)
        self.hist_curve = self.hist_plot.plot(
            [0, 1], [0], stepMode="center", fillLevel=0, brush=fill, pen=accent
        )

        self.table_model = ArrayTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.horizontalHeader().setDefaultSectionSize(96)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setFont(_mono_font())

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.hist_plot, "Histogram")
        self.tabs.addTab(self.table, "Values")
        self.tabs.addTab(self._build_picture(), "Image")

        self.scalar_label = QLabel()
        self.scalar_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scalar_label.setWordWrap(True)
        self.scalar_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = _mono_font()
        font.setPointSize(font.pointSize() + 6)
        self.scalar_label.setFont(font)
        self.placeholder = QLabel()
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.content = QStackedWidget()
        self.content.addWidget(self.tabs)
        self.content.addWidget(self.scalar_label)
        self.content.addWidget(self.placeholder)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(header)
        layout.addLayout(stats)
        layout.addWidget(self.message)
        layout.addWidget(self.slice_controls)
        layout.addWidget(self.content, 1)

    def _build_picture(self) -> QWidget:
        self.kernel_check = QCheckBox("Kernel grid (HWIO)")
        self.kernel_check.setToolTip("Tile the HxW kernels of every output channel")
        self.kernel_check.toggled.connect(self._on_slice_changed)
        self.channel_spin = QSpinBox()
        self.channel_spin.setPrefix("input channel ")
        self.channel_spin.valueChanged.connect(self._on_slice_changed)
        tools = QHBoxLayout()
        tools.addWidget(self.kernel_check)
        tools.addWidget(self.channel_spin)
        tools.addStretch(1)
        self.kernel_tools = QWidget()
        self.kernel_tools.setLayout(tools)
        tools.setContentsMargins(0, 0, 0, 0)

        self.image_plot = pg.PlotWidget()
        self.image_plot.invertY(True)
        self.image_plot.setAspectLocked(True)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_plot.addItem(self.image_item)
        self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False)
        self.colorbar.setImageItem(self.image_item, insert_in=self.image_plot.getPlotItem())
        self.line_plot = pg.PlotWidget()
        self.line_plot.setLabel("bottom", "index")
        accent = QColor(current().accent)
        self.line_curve = self.line_plot.plot(pen=pg.mkPen(accent, width=1.5), symbolBrush=accent)
        self.picture = QStackedWidget()
        self.picture.addWidget(self.image_plot)
        self.picture.addWidget(self.line_plot)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.kernel_tools)
        layout.addWidget(self.picture, 1)
        return page

    # public API -------------------------------------------------------------------------

    def set_protected_folder(self, folder: str | Path | None) -> None:
        """The model's folder, into which Export refuses to write."""
        if folder is not None and Path(folder).is_file():
            folder = Path(folder).parent
        self._protected = Path(folder) if folder is not None else None

    def show_tensor(self, title: str, loader: Callable[[], np.ndarray]) -> None:
        self._begin(title)
        self._runner.start(load_and_analyze, loader)

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
        self.info_label.setText("")
        self._say("")
        for name, label in self.stat_labels.items():
            label.setText("")
            self._stat_keys[name].show()
            label.show()
        self.hist_curve.setData([0, 1], [0])
        self.table_model.set_array(np.zeros((0, 0)))
        self.image_item.clear()
        self.line_curve.setData([], [])
        self.slice_controls.set_shape(())
        self.kernel_tools.hide()
        self.copy_button.setEnabled(False)
        self.export_button.setEnabled(False)
        self._show_placeholder("Reading…" if title else "")

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(_error_style() if error else f"color: {current().muted};")
        self.message.setVisible(bool(text))

    def _show_placeholder(self, text: str, error: bool = False) -> None:
        self.placeholder.setText(text)
        self.placeholder.setStyleSheet(_error_style() if error else f"color: {current().muted};")
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
        shape = "(" + ", ".join(map(str, array.shape)) + ")"
        dtype = "string" if is_text(array) else array.dtype.name
        self.info_label.setText(f"{dtype} · {shape} · {array.size:,} values")
        self._show_stats(data.stats, is_text(array))
        self.content.setCurrentWidget(self.tabs)
        self.copy_button.setEnabled(True)
        self.export_button.setEnabled(True)
        if data.counts is not None:
            self.hist_curve.setData(data.edges, data.counts)
        self.tabs.setTabEnabled(0, data.counts is not None)
        picture = not is_text(array) and array.ndim >= 1 and array.size > 0
        self.tabs.setTabEnabled(2, picture)
        self.tabs.setTabText(2, "Plot" if array.ndim == 1 else "Image")
        if not self.tabs.isTabEnabled(self.tabs.currentIndex()):
            self.tabs.setCurrentIndex(1)
        if array.ndim == 0:
            self.scalar_label.setText(format_value(array.item()))
            self.content.setCurrentWidget(self.scalar_label)
        elif array.size == 0:
            self._show_placeholder(f"Empty tensor: shape {shape} holds no values.")
        width = 320 if is_text(array) else 96
        self.table.horizontalHeader().setDefaultSectionSize(width)
        self.slice_controls.set_shape(array.shape)
        conv = array.ndim == 4 and picture
        self.kernel_tools.setVisible(conv)
        if conv:
            self.channel_spin.setRange(0, array.shape[2] - 1)
            self.kernel_check.setChecked(True)
        self._on_slice_changed()
        self.loaded.emit()

    def _show_stats(self, stats: TensorStats, text: bool) -> None:
        for name in NUMERIC_STATS:
            self._stat_keys[name].setVisible(not text)
            self.stat_labels[name].setVisible(not text)

        def number(value) -> str:
            return "—" if value is None else f"{value:.6g}"

        labels = self.stat_labels
        for name in ("min", "max", "mean", "std"):
            labels[name].setText(number(getattr(stats, name)))
        zeros = stats.zero_fraction
        labels["zeros"].setText("—" if zeros is None else f"{zeros:.2%}")
        labels["NaN"].setText(f"{stats.nan_count:,}")
        labels["Inf"].setText(f"{stats.inf_count:,}")
        labels["count"].setText(f"{stats.count:,}")
        for name in ("NaN", "Inf"):
            bad = getattr(stats, name.lower() + "_count") > 0
            labels[name].setStyleSheet(_error_style() + " font-weight: bold;" if bad else "")

    def _on_slice_changed(self) -> None:
        if self.data is None or self.data.array.ndim == 0:
            return
        array = self.data.array
        rows, cols = self.slice_controls.axes()
        index = self.slice_controls.index()
        table = slice_2d(array, rows, cols, index)
        self.table_model.set_array(table)
        if not self.tabs.isTabEnabled(2):
            return
        if array.ndim == 1:
            values = numeric_view(array).astype(np.float64)
            values[~np.isfinite(values)] = np.nan  # drawn as gaps; inf would wreck the range
            symbol = "o" if array.size <= 200 else None
            self.line_curve.setData(values, connect="finite", symbol=symbol, symbolSize=5)
            self.line_plot.autoRange()
            self.picture.setCurrentWidget(self.line_plot)
            return
        grid = array.ndim == 4 and self.kernel_check.isChecked()
        self.channel_spin.setEnabled(grid)
        if grid:
            image = kernel_grid(numeric_view(array), self.channel_spin.value())
        else:
            image = np.asarray(numeric_view(table), dtype=np.float32)
        for axis in ("left", "bottom"):
            self.image_plot.getPlotItem().showAxis(axis, not grid)
        self._show_image(image)
        self.picture.setCurrentWidget(self.image_plot)

    def _show_image(self, image: np.ndarray) -> None:
        height, width = image.shape
        self.image_plot.setAspectLocked(max(height, width) <= 8 * min(height, width))
        finite = image[np.isfinite(image)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if lo < 0 < hi:  # signed weights: a diverging map centred on zero
            lo, hi = -max(-lo, hi), max(-lo, hi)
            cmap = pg.colormap.get("CET-D1")
        else:
            cmap = pg.colormap.get("viridis")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5
        self.image_item.setImage(image, autoLevels=False)
        self.colorbar.setColorMap(cmap)
        self.colorbar.setLevels((lo, hi))
        self.image_plot.autoRange()

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
    """``python -m smlens.gui.tensor_view MODEL [VARIABLE]``: one variable's values."""
    from smlens.core.reader import open_model
    from smlens.gui.preview import application

    app = application()
    model = open_model(argv[1])
    var = model.variable(argv[2]) if len(argv) > 2 else model.variables[0]
    view = TensorView()
    view.set_protected_folder(model.path)
    view.show_tensor(var.name, lambda: model.checkpoint.read(var.key))
    view.resize(900, 650)
    view.show()
    sys.exit(app.exec())


if __name__ == "__main__":
    main(sys.argv)
