"""Run outputs as data: saved to and read from .npz, and how one run's outputs differ from
another's (a delta per output).

Both sides of a delta are plain arrays, so a CPU run, a GPU run and a saved file give
deltas alike. Nothing is pickled: string outputs are stored as fixed-width bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smlens.core.errors import SmlensError


@dataclass(frozen=True)
class OutputDelta:
    """How one output differs from the baseline's output of the same key."""

    key: str
    status: str  # "compared" | "shape" | "dtype" | "new" | "gone"
    max_abs: float | None = None  # numbers: max |a - b| over positions both finite
    differing: int = 0  # positions that differ (NaN against a number counts)
    detail: str = ""

    @property
    def text(self) -> str:
        """What a table cell shows."""
        if self.status != "compared":
            return self.detail
        if self.max_abs is None:  # strings
            return "equal" if not self.differing else f"{self.differing:,} differ"
        text = "0" if self.max_abs == 0 else f"{self.max_abs:.3g}"
        mismatch = self.differing if np.isnan(self.max_abs) else 0
        return text if not mismatch else f"{text} ({mismatch:,} differ)"


def _is_text(array: np.ndarray) -> bool:
    return array.dtype == object or array.dtype.kind in "SU"


def _as_bytes(array: np.ndarray) -> np.ndarray:
    out = np.empty(array.shape, dtype=object)
    out.ravel()[:] = [v.encode() if isinstance(v, str) else bytes(v) for v in array.ravel()]
    return out


def output_delta(key: str, current: np.ndarray, baseline: np.ndarray) -> OutputDelta:
    if current.shape != baseline.shape:
        return OutputDelta(key, "shape", detail=f"shape {baseline.shape} → {current.shape}")
    if _is_text(current) != _is_text(baseline):
        return OutputDelta(key, "dtype", detail=f"dtype {baseline.dtype} → {current.dtype}")
    if _is_text(current):
        differing = int(np.count_nonzero(_as_bytes(current) != _as_bytes(baseline)))
        return OutputDelta(key, "compared", None, differing)
    a = _numbers(current)
    b = _numbers(baseline)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - b)
    same_nan = np.isnan(a) & np.isnan(b)
    same_inf = np.isinf(a) & (a == b)
    diff[same_nan | same_inf] = 0.0
    differing = int(np.count_nonzero(diff != 0))  # NaN != 0 too
    finite = diff[np.isfinite(diff)]
    if finite.size == diff.size:
        max_abs = float(finite.max()) if finite.size else 0.0
    else:
        max_abs = float(np.nan) if np.isnan(diff).any() else float(np.inf)
    return OutputDelta(key, "compared", max_abs, differing)


def _numbers(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "c":
        return array.astype(np.complex128)
    return np.asarray(array, dtype=np.float64)


def output_deltas(
    current: dict[str, np.ndarray], baseline: dict[str, np.ndarray]
) -> dict[str, OutputDelta]:
    """A delta per key of either run: compared where both have it, else new or gone."""
    deltas = {}
    for key, value in current.items():
        if key in baseline:
            deltas[key] = output_delta(key, np.asarray(value), np.asarray(baseline[key]))
        else:
            deltas[key] = OutputDelta(key, "new", detail="not in the baseline")
    for key in baseline.keys() - current.keys():
        deltas[key] = OutputDelta(key, "gone", detail="only in the baseline")
    return deltas


def save_outputs(path: str | Path, outputs: dict[str, np.ndarray]) -> Path:
    """Write ``outputs`` to one .npz, one array per key; strings as fixed-width bytes."""
    path = Path(path)
    arrays = {}
    for key, value in outputs.items():
        value = np.asarray(value)
        arrays[key] = _as_bytes(value).astype(np.bytes_) if _is_text(value) else value
    with open(path, "wb") as f:
        np.savez(f, allow_pickle=False, **arrays)
    return path


def load_outputs(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a .npz written by ``save_outputs`` (or numpy), never unpickled."""
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            return {Path(path).stem: data}
        with data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise SmlensError(path, "no such file") from None
    except (OSError, ValueError) as e:
        raise SmlensError(path, f"not a .npz of outputs: {e}") from None
