"""delta_histogram on in-memory checkpoints: bins equal numpy's, NaN/Inf are counted apart,
strings have no bins, cancelling raises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from smlens.core.diff.report.histogram import MAX_BINS, bin_count, delta_histogram
from smlens.core.diff.values import differences
from smlens.core.model import Model
from smlens.core.tasks import Cancelled


class _Bundle:
    def __init__(self, tensors: dict[str, np.ndarray]):
        self.tensors = tensors

    def read(self, key: str) -> np.ndarray:
        return self.tensors[key]


def _model(**tensors) -> Model:
    return Model(Path("m"), "checkpoint", checkpoint=_Bundle(tensors))


def test_bins_equal_numpys_histogram_of_after_minus_before():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((30, 20)).astype(np.float32)
    b = a + rng.normal(0, 0.1, a.shape).astype(np.float32)
    h = delta_histogram(_model(w=a), _model(w=b), "w", "w")
    d = b.astype(np.float64) - a.astype(np.float64)
    np.testing.assert_array_equal(h.counts, np.histogram(d, bins=h.edges)[0])
    assert h.counts.size == bin_count(600) == 24
    assert (h.minimum, h.maximum) == (d.min(), d.max())
    assert h.count == h.changed == 600 and h.nonfinite == 0


def test_nonfinite_differences_are_counted_apart():
    a = np.array([1.0, 2.0, np.inf, np.nan], np.float32)
    b = np.array([1.5, 2.0, np.inf, 0.0], np.float32)
    h = delta_histogram(_model(w=a), _model(w=b), "w", "w")
    assert h.nonfinite == 2  # inf - inf and nan -> 0
    assert h.counts.sum() == 2
    assert "NaN/Inf" in h.note


def test_strings_have_no_bins_and_cancel_raises():
    a = np.array([b"x", b"y"], dtype=object)
    b = np.array([b"x", b"z"], dtype=object)
    h = delta_histogram(_model(s=a), _model(s=b), "s", "s")
    assert h.counts.size == 0 and h.changed == 1 and "string" in h.note
    with pytest.raises(Cancelled):
        delta_histogram(_model(s=a), _model(s=b), "s", "s", cancelled=lambda: True)


def test_differences_of_bools_ints_and_bin_limits():
    np.testing.assert_array_equal(
        differences(np.array([True, False]), np.array([False, False])), [-1.0, 0.0]
    )
    np.testing.assert_array_equal(
        differences(np.array([250], np.uint8), np.array([5], np.uint8)), [-245.0]
    )
    assert bin_count(1) == 10 and bin_count(10**9) == MAX_BINS
