"""The distribution of one variable's value changes (after - before) between two exports.

The compare view plots it for the selected variable or frozen weight; the summary figures
per tensor come from ``values.diff_variables``. Both tensors are read whole through their
source (the checkpoint's bundle, or the graph's constants), which is fine for the one tensor
a user picked (diff_variables streams, since it reads them all).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from smlens.core.diff.values import differences, holds_strings, nonfinite_note
from smlens.core.errors import SmlensError
from smlens.core.model import Model
from smlens.core.tasks import CancelCheck, Cancelled, Progress

MIN_BINS, MAX_BINS = 10, 120


@dataclass(frozen=True)
class DeltaHistogram:
    """Counts of ``after - before`` per bin (``edges`` has one more entry than ``counts``).

    ``nonfinite`` counts elements whose difference is NaN or ±Inf, left out of the bins;
    ``note`` says why there are no bins (strings, no checkpoint).
    """

    name: str
    counts: np.ndarray
    edges: np.ndarray
    count: int = 0
    changed: int = 0
    nonfinite: int = 0
    minimum: float = 0.0
    maximum: float = 0.0
    mean: float = 0.0
    note: str = ""


def bin_count(n: int) -> int:
    """√n bins, kept between MIN_BINS and MAX_BINS: enough shape, no comb of empty bins."""
    return int(min(MAX_BINS, max(MIN_BINS, math.sqrt(max(n, 1)))))


def delta_histogram(
    a: Model,
    b: Model,
    key_a: str,
    key_b: str,
    name: str = "",
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> DeltaHistogram:
    """Histogram of B's tensor ``key_b`` minus A's tensor ``key_a`` (same shape)."""
    name = name or key_a
    empty = np.zeros(0), np.zeros(0)
    sources = a.source_of(key_a), b.source_of(key_b)  # a checkpoint, or frozen constants
    if sources[0] is None or sources[1] is None:
        return DeltaHistogram(name, *empty, note="no checkpoint to read values from")
    tensors = []
    for i, (source, key) in enumerate(zip(sources, (key_a, key_b), strict=True)):
        if cancelled is not None and cancelled():
            raise Cancelled("the histogram was cancelled")
        if progress is not None:
            progress(i / 3, f"reading {key} of {'AB'[i]}")
        tensors.append(source.read(key))
    before, after = tensors
    if before.shape != after.shape:
        raise SmlensError(key_b, f"shape {after.shape} differs from A's {before.shape}")
    if holds_strings(before):
        changed = int(np.count_nonzero(before != after))
        note = "string values have no numeric difference"
        return DeltaHistogram(name, *empty, count=before.size, changed=changed, note=note)
    d = differences(before.reshape(-1), after.reshape(-1))
    finite = d[np.isfinite(d)]
    nonfinite = d.size - finite.size
    if cancelled is not None and cancelled():
        raise Cancelled("the histogram was cancelled")
    counts, edges = np.histogram(finite, bins=bin_count(finite.size))
    return DeltaHistogram(
        name,
        counts,
        edges,
        count=d.size,
        changed=int(np.count_nonzero(d)),
        nonfinite=nonfinite,
        minimum=float(finite.min()) if finite.size else 0.0,
        maximum=float(finite.max()) if finite.size else 0.0,
        mean=float(finite.mean()) if finite.size else 0.0,
        note=nonfinite_note(nonfinite) if nonfinite else "",
    )
