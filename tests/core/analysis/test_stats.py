"""tensor_stats and value_histogram against numpy, across chunk boundaries and dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from smlens.core.analysis.stats import CHUNK, tensor_stats, value_histogram


def _numpy_stats(a: np.ndarray) -> dict:
    flat = (np.abs(a) if a.dtype.kind == "c" else a).astype(np.float64).reshape(-1)
    finite = flat[np.isfinite(flat)]
    return {
        "min": finite.min(),
        "max": finite.max(),
        "mean": finite.mean(),
        "std": finite.std(),
        "zero_fraction": np.count_nonzero(flat == 0) / flat.size,
        "nan_count": int(np.isnan(flat).sum()),
        "inf_count": int(np.isinf(flat).sum()),
    }


def _arrays():
    rng = np.random.default_rng(7)
    big = rng.standard_normal(3 * CHUNK + 17).astype(np.float32) * 1e3 + 5e3
    big[[0, CHUNK, 2 * CHUNK + 5]] = [np.nan, np.inf, -np.inf]
    big[CHUNK + 3 : CHUNK + 40] = 0
    nan_chunk = rng.standard_normal(2 * CHUNK)
    nan_chunk[:CHUNK] = np.nan  # a chunk with no finite value at all
    return {
        "float32_chunks_nan_inf_zero": big,
        "float64_all_nan_chunk": nan_chunk,
        "float16": rng.standard_normal(1000).astype(np.float16),
        "int8": rng.integers(-128, 127, 5000, dtype=np.int8),
        "int64_wide": rng.integers(-(2**40), 2**40, 3000),
        "uint8": rng.integers(0, 255, (30, 40), dtype=np.uint8),
        "bool": rng.random(101) < 0.3,
        "complex64": (rng.standard_normal(50) + 1j * rng.standard_normal(50)).astype(np.complex64),
    }


@pytest.mark.parametrize("name", list(_arrays()))
def test_stats_equal_numpy_float64_results(name):
    a = _arrays()[name]
    stats = tensor_stats(a)
    expected = _numpy_stats(a)
    assert stats.count == a.size
    for key in ("min", "max", "zero_fraction", "nan_count", "inf_count"):
        assert getattr(stats, key) == expected[key], key  # exact
    assert stats.mean == pytest.approx(expected["mean"], rel=1e-9, abs=1e-9)
    assert stats.std == pytest.approx(expected["std"], rel=1e-9)


@pytest.mark.parametrize("name", list(_arrays()))
def test_histogram_counts_every_finite_value_like_numpy(name):
    a = _arrays()[name]
    stats = tensor_stats(a)
    counts, edges = value_histogram(a, stats)
    finite = int(a.size - stats.nan_count - stats.inf_count)
    assert counts.sum() == finite and len(edges) == len(counts) + 1
    values = np.abs(a) if a.dtype.kind == "c" else a.astype(np.float64)
    expected, _ = np.histogram(values[np.isfinite(values)], bins=edges)
    # bins are found by scaling, as fast as numpy's own path but without its edge fix-ups:
    # a value within float rounding of an edge may land in the neighbouring bin
    assert np.abs(counts - expected).sum() <= max(2, finite // 10_000)


def test_all_nan_and_empty_and_text_tensors_have_no_range():
    assert tensor_stats(np.array([np.nan, np.inf])).min is None
    assert tensor_stats(np.array([np.nan, np.inf])).nan_count == 1
    assert tensor_stats(np.zeros(0)).count == 0
    text = np.array([b"a", b"b"], dtype=object)
    assert tensor_stats(text).count == 2 and value_histogram(text, tensor_stats(text)) is None


def test_cancelled_stats_stop_early():
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 1

    assert tensor_stats(np.zeros(4 * CHUNK, np.float32), cancelled) is None
    assert len(calls) == 2


def test_a_constant_tensor_gets_one_bin_around_its_value():
    a = np.ones((3, 2), np.float32)
    counts, edges = value_histogram(a, tensor_stats(a))
    assert counts.tolist() == [6] and edges.tolist() == [0.5, 1.5]
