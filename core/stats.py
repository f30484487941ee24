"""Summary statistics of a tensor's values, shared by the CLI and the tensor viewer."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


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


def _as_float(values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "c":
        return np.abs(values)  # statistics of complex tensors are of their magnitudes
    if values.dtype.kind in "fiub":
        return values.astype(np.float64, copy=False)
    return values.astype(np.float64)  # bfloat16, float8 and other ml_dtypes


def tensor_stats(values: np.ndarray) -> TensorStats:
    """Min, max, mean, std over the finite values; zero fraction; NaN and Inf counts."""
    if values.dtype == object or values.dtype.kind in "SU":
        return TensorStats(count=int(values.size))
    if values.size == 0:
        return TensorStats(count=0)
    flat = _as_float(values.reshape(-1))
    nan = int(np.count_nonzero(np.isnan(flat)))
    inf = int(np.count_nonzero(np.isinf(flat)))
    zero = float(np.count_nonzero(flat == 0) / flat.size)
    finite = flat[np.isfinite(flat)] if nan or inf else flat
    if finite.size == 0:
        return TensorStats(count=int(flat.size), zero_fraction=zero, nan_count=nan, inf_count=inf)
    return TensorStats(
        count=int(flat.size),
        min=float(finite.min()),
        max=float(finite.max()),
        mean=float(finite.mean()),
        std=float(finite.std()),
        zero_fraction=zero,
        nan_count=nan,
        inf_count=inf,
    )
