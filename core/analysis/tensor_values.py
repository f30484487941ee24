"""What the tensor viewer shows of an array, as plain functions testable without a window:
slices, kernel grids, cell text, clipboard text, the off-thread analysis and .npy export."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smlens.core.analysis.stats import (
    HISTOGRAM_BINS,
    TensorStats,
    is_text,
    tensor_stats,
    value_histogram,
)

COPY_LIMIT = 100_000  # values put on the clipboard before truncating
CELL_CHARS = 200  # characters of a string shown in a table cell
IMAGE_PIXELS = 1 << 20  # larger slices are averaged down in blocks before drawing

__all__ = ["HISTOGRAM_BINS", "is_text"]


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


def shrink_image(image: np.ndarray, pixels: int = IMAGE_PIXELS) -> tuple[np.ndarray, int]:
    """``image`` averaged over square blocks until it has at most ``pixels`` pixels, so
    drawing a 5000 x 5000 kernel stays quick; returns (image, block side)."""
    height, width = image.shape
    block = max(1, math.ceil(math.sqrt(height * width / pixels)))
    if block == 1:
        return image, 1
    h, w = height // block, width // block
    blocks = image[: h * block, : w * block].reshape(h, block, w, block)
    with np.errstate(invalid="ignore"):
        return np.nanmean(blocks, axis=(1, 3), dtype=np.float32), block


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
    """(counts, edges) over the finite values, or None for text and empty tensors
    (`value_histogram` in core/analysis/stats.py: every value counted, about 50 ms for
    25 M float32)."""
    return value_histogram(array, stats, bins)


@dataclass
class TensorData:
    """A loaded tensor with what the view shows of it."""

    array: np.ndarray
    stats: TensorStats
    counts: np.ndarray | None
    edges: np.ndarray | None


def analyze(array: np.ndarray, *, progress, cancelled) -> TensorData | None:
    """Stats and histogram of ``array``; None once ``cancelled()`` (checked per chunk)."""
    array = np.asarray(array)
    progress(0.3, "statistics")
    stats = tensor_stats(array, cancelled)
    if stats is None or cancelled():
        return None
    progress(0.7, "histogram")
    hist = value_histogram(array, stats, cancelled=cancelled)
    if cancelled():
        return None
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
