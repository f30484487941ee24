"""One output's elements, A against B, over every call of a comparison: the distribution
of |Δ| and the elements that moved most. The figures per output are ``outputs.py``'s; this
is what the window draws for the output a user picked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smlens.core.diff.outputs import value_text
from smlens.core.diff.report.histogram import bin_count
from smlens.core.run.pair import PairCalls

WORST_COUNT = 20


@dataclass(frozen=True)
class WorstElement:
    """One element of an output: the call it is in, its index there, both values as text,
    and |b - a| (inf where one side only is NaN or infinite)."""

    run: int
    index: tuple[int, ...]
    a: str
    b: str
    delta: float


@dataclass(frozen=True)
class OutputElements:
    """|Δ| of one output's elements: a histogram of the finite ones, the worst ones, and
    why there is nothing to show (strings, shapes that differ, an output one side lacks)."""

    key: str
    counts: np.ndarray
    edges: np.ndarray
    count: int = 0
    nonfinite: int = 0
    worst: tuple[WorstElement, ...] = ()
    note: str = ""


def _numeric(array: np.ndarray) -> bool:
    return array.dtype != object and array.dtype.kind not in "SUV"


def _abs_delta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|b - a| per element; 0 where both are the same NaN or infinity, inf where one side
    only is non-finite (the tolerance rule of ``outputs.py``)."""
    kind = np.complex128 if "c" in (a.dtype.kind, b.dtype.kind) else np.float64
    fa, fb = a.astype(kind), b.astype(kind)
    with np.errstate(invalid="ignore", over="ignore"):
        delta = np.abs(fb - fa).astype(np.float64)
        same = (np.isnan(fa) & np.isnan(fb)) | (np.isinf(fa) & (fa == fb))
    delta[same] = 0.0
    delta[~same & ~np.isfinite(delta)] = np.inf
    return delta


def output_elements(pair: PairCalls, key: str, worst_count: int = WORST_COUNT) -> OutputElements:
    """The |Δ| histogram and the ``worst_count`` largest |Δ| of output ``key``."""
    empty = np.zeros(0), np.zeros(0)
    if not pair.calls or any(key not in a or key not in b for _, a, b in pair.calls):
        return OutputElements(key, *empty, note="only one side has this output")
    runs = [(np.asarray(a[key]), np.asarray(b[key])) for _, a, b in pair.calls]
    if any(a.shape != b.shape for a, b in runs):
        return OutputElements(key, *empty, note="the shapes differ: no element pairs up")
    if not all(_numeric(a) and _numeric(b) for a, b in runs):
        return OutputElements(key, *empty, note="strings: equal or not, no |Δ|")
    deltas = [_abs_delta(a, b) for a, b in runs]
    flat = np.concatenate([d.reshape(-1) for d in deltas]) if deltas else np.zeros(0)
    finite = flat[np.isfinite(flat)]
    if finite.size:
        counts, edges = np.histogram(finite, bins=bin_count(finite.size))
    else:
        counts, edges = empty
    worst = _worst(runs, deltas, worst_count)
    return OutputElements(
        key, counts, edges, count=flat.size, nonfinite=flat.size - finite.size, worst=worst
    )


def _worst(runs, deltas: list[np.ndarray], n: int) -> tuple[WorstElement, ...]:
    """The ``n`` largest |Δ| over every call, largest first; ties in call and index order."""
    candidates: list[tuple[float, int, int]] = []  # (-delta, run, flat index)
    for run, delta in enumerate(deltas):
        flat = delta.reshape(-1)
        take = min(n, flat.size)
        if take == 0:
            continue
        # argpartition: the n largest of a million elements without sorting them all
        top = np.argpartition(-flat, take - 1)[:take] if take < flat.size else np.arange(take)
        candidates.extend((-float(flat[i]), run, int(i)) for i in top)
    candidates.sort()
    elements = []
    for negative, run, flat_index in candidates[:n]:
        a, b = runs[run]
        index = tuple(int(i) for i in np.unravel_index(flat_index, a.shape)) if a.ndim else ()
        elements.append(
            WorstElement(run, index, value_text(a[index]), value_text(b[index]), -negative)
        )
    return tuple(elements)
