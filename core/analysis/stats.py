"""Summary statistics and histograms of a tensor's values, shared by the CLI and the viewer.

Both walk the tensor in cache-sized chunks in its own dtype instead of converting it to
float64 first: a 100 MB float32 tensor would otherwise become 200 MB of float64 and a
dozen full-size temporaries. Min, max and the NaN, Inf and zero counts stay exact; sums are
accumulated in float64 and the spread combined per chunk (Chan et al.), so the mean and
standard deviation match numpy's float64 results to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from smlens.core.tasks import CancelCheck, Cancelled

CHUNK = 1 << 18  # elements per pass: 1 MiB of float32, inside a core's L2 cache
HISTOGRAM_BINS = 100
NATIVE_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


@dataclass(frozen=True)
class TensorStats:
    count: int
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    zero_fraction: float | None = None
    nan_count: int = 0
    inf_count: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def is_text(values: np.ndarray) -> bool:
    return values.dtype == object or values.dtype.kind in "SU"


def _plain(chunk: np.ndarray) -> np.ndarray:
    """A chunk in a dtype numpy reduces natively: magnitudes of complex, 0/1 for bool,
    float32 for bfloat16, float8 and other ml_dtypes."""
    kind = chunk.dtype.kind
    if kind == "c":
        return np.abs(chunk)  # statistics of complex tensors are of their magnitudes
    if kind == "b":
        return chunk.view(np.uint8)
    if kind in "iu" or chunk.dtype in NATIVE_FLOATS:
        return chunk
    return chunk.astype(np.float32)


def _chunks(flat: np.ndarray, cancelled: Callable[[], bool] | None):
    for start in range(0, flat.size, CHUNK):
        if cancelled is not None and cancelled():
            raise Cancelled
        yield _plain(flat[start : start + CHUNK])


def tensor_stats(values: np.ndarray, cancelled: CancelCheck | None = None) -> TensorStats | None:
    """Min, max, mean, std over the finite values; zero fraction; NaN and Inf counts.

    None when ``cancelled()`` turned true on the way.
    """
    values = np.asarray(values)
    if is_text(values):
        return TensorStats(count=int(values.size))
    if values.size == 0:
        return TensorStats(count=0)
    flat = values.reshape(-1)
    lo = hi = None
    nan = inf = zeros = 0
    n = 0  # finite values seen
    mean = m2 = 0.0
    buffer = np.empty(min(CHUNK, flat.size), np.float64)
    try:
        for chunk in _chunks(flat, cancelled):
            zeros += int(np.count_nonzero(chunk == 0))
            if chunk.dtype.kind == "f":
                c_lo, c_hi = chunk.min(), chunk.max()  # NaN propagates; inf shows at an end
                if math.isnan(c_lo) or math.isinf(c_lo) or math.isinf(c_hi):
                    bad = np.isnan(chunk)
                    nan += int(np.count_nonzero(bad))
                    infs = np.isinf(chunk)
                    inf += int(np.count_nonzero(infs))
                    chunk = chunk[~(bad | infs)]
                    if chunk.size == 0:
                        continue
                    c_lo, c_hi = chunk.min(), chunk.max()
            else:
                c_lo, c_hi = chunk.min(), chunk.max()
            lo = c_lo if lo is None else min(lo, c_lo)
            hi = c_hi if hi is None else max(hi, c_hi)
            wide = buffer[: chunk.size]
            np.copyto(wide, chunk, casting="unsafe")
            c_n = wide.size
            c_mean = float(wide.sum()) / c_n
            wide -= c_mean
            np.multiply(wide, wide, out=wide)  # not np.dot: BLAS threads spin on 2 busy cores
            c_m2 = float(wide.sum())
            total = n + c_n  # Chan et al.'s pairwise update of the mean and the squared spread
            delta = c_mean - mean
            mean += delta * c_n / total
            m2 += c_m2 + delta * delta * n * c_n / total
            n = total
    except Cancelled:
        return None
    count = int(flat.size)
    zero = zeros / count
    if n == 0:
        return TensorStats(count=count, zero_fraction=zero, nan_count=nan, inf_count=inf)
    return TensorStats(
        count=count,
        min=float(lo),
        max=float(hi),
        mean=mean,
        std=math.sqrt(max(m2 / n, 0.0)),
        zero_fraction=zero,
        nan_count=nan,
        inf_count=inf,
    )


def value_histogram(
    values: np.ndarray,
    stats: TensorStats,
    bins: int = HISTOGRAM_BINS,
    cancelled: CancelCheck | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """(counts, edges) over the finite values, or None for text, empty and all-NaN tensors.

    Every value is counted, chunk by chunk, within the range the stats already found, so
    NaN and Inf fall outside it without a filtering copy. Integers with a small range get
    one bin per value; at most ``bins`` bins otherwise.
    """
    values = np.asarray(values)
    if is_text(values) or stats.min is None:
        return None
    flat = values.reshape(-1)
    lo, hi = stats.min, stats.max
    if values.dtype.kind in "iub" and hi - lo < 256:
        edges = np.arange(lo - 0.5, hi + 1.5)
        counts = np.zeros(len(edges) - 1, np.int64)
        offset = int(lo)
        try:
            for chunk in _chunks(flat, cancelled):
                counts += np.bincount(chunk.astype(np.int64) - offset, minlength=len(counts))
        except Cancelled:
            return None
        return counts, edges
    finite = stats.count - stats.nan_count - stats.inf_count
    if lo == hi:  # one value: one bin around it
        return np.array([finite], np.int64), np.array([lo - 0.5, hi + 0.5])
    bins = min(bins, max(8, math.ceil(2 * finite ** (1 / 3))))  # Rice's rule for small tensors
    edges = np.linspace(lo, hi, bins + 1)
    counts = np.zeros(bins, np.int64)
    work = np.float32 if values.dtype.itemsize <= 4 and values.dtype.kind != "i" else np.float64
    offset, scale = work(lo), work(bins / (hi - lo))
    skip = stats.nan_count or stats.inf_count
    try:
        for chunk in _chunks(flat, cancelled):
            if skip:
                chunk = chunk[np.isfinite(chunk)]
            # bin = floor((x - lo) * scale): within float rounding of numpy's edge tests,
            # at a quarter of np.histogram's cost
            index = np.subtract(chunk, offset, dtype=work)
            index *= scale
            bin_of = index.astype(np.int32)
            np.minimum(bin_of, bins - 1, out=bin_of)
            counts += np.bincount(bin_of, minlength=bins)
    except Cancelled:
        return None
    return counts, edges
