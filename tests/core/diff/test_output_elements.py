"""output_elements on calls built here: |Δ| bins equal numpy's histogram of |b - a|, the
worst elements come largest first with their call, index and both values, NaN on one side
is counted apart, strings and differing shapes have no bins; run_outputs honours a cancel
before it starts any worker."""

from __future__ import annotations

import numpy as np
import pytest

from smlens.core.diff.output_elements import output_elements
from smlens.core.diff.output_run import run_outputs
from smlens.core.diff.outputs import Tolerances
from smlens.core.run.pair import PairCalls, PairPlan
from smlens.core.tasks import Cancelled


def _pair(*calls: tuple[dict, dict]) -> PairCalls:
    plan = PairPlan("serve", "serving_default", "test", [{} for _ in calls], signature_b=None)
    return PairCalls(plan, [({}, a, b) for a, b in calls])


def test_bins_and_worst_elements_over_two_calls():
    rng = np.random.default_rng(0)
    a1 = rng.standard_normal((4, 3)).astype(np.float32)
    b1 = a1 + rng.standard_normal((4, 3)).astype(np.float32) * 1e-3
    a2 = rng.standard_normal((2, 3)).astype(np.float32)
    b2 = a2.copy()
    b2[1, 2] += 5.0  # the worst element: call 1, index [1, 2]
    pair = _pair(({"y": a1}, {"y": b1}), ({"y": a2}, {"y": b2}))

    elements = output_elements(pair, "y", worst_count=3)

    deltas = np.concatenate(
        [np.abs(b1.astype(np.float64) - a1).ravel(), np.abs(b2.astype(np.float64) - a2).ravel()]
    )
    counts, edges = np.histogram(deltas, bins=elements.counts.size)
    assert elements.count == 18 and elements.nonfinite == 0 and not elements.note
    assert elements.counts.tolist() == counts.tolist()
    assert np.allclose(elements.edges, edges)
    first = elements.worst[0]
    assert (first.run, first.index) == (1, (1, 2))
    assert first.delta == pytest.approx(5.0, abs=1e-5)
    assert first.a == f"{a2[1, 2]:.7g}" and first.b == f"{b2[1, 2]:.7g}"
    assert [w.delta for w in elements.worst] == sorted(deltas, reverse=True)[:3]


def test_nan_on_one_side_is_counted_apart_and_worst_same_nan_is_equal():
    a = np.array([1.0, np.nan, np.nan, np.inf], np.float32)
    b = np.array([1.5, np.nan, 2.0, np.inf], np.float32)

    elements = output_elements(_pair(({"y": a}, {"y": b})), "y")

    assert elements.count == 4 and elements.nonfinite == 1  # NaN in A only
    assert int(elements.counts.sum()) == 3  # 0.5, and 0 for the shared NaN and Inf
    assert elements.worst[0].index == (2,) and elements.worst[0].delta == np.inf
    assert elements.worst[1].index == (0,) and elements.worst[1].delta == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("a", "b", "note"),
    [
        (np.array([b"cat"], object), np.array([b"dog"], object), "strings"),
        (np.zeros((2, 3)), np.zeros((3, 2)), "shapes differ"),
    ],
    ids=["strings", "shape"],
)
def test_strings_and_shapes_have_no_bins(a, b, note):
    elements = output_elements(_pair(({"y": a}, {"y": b})), "y")
    assert elements.counts.size == 0 and not elements.worst and note in elements.note


def test_an_output_one_side_lacks_has_no_bins():
    elements = output_elements(_pair(({"y": np.zeros(2)}, {"z": np.zeros(2)})), "y")
    assert elements.counts.size == 0 and "one side" in elements.note


def test_run_outputs_cancelled_before_it_starts_raises_and_starts_nothing():
    started = []

    class _Engine:
        def run(self, *args, **kwargs):
            started.append(args)

    with pytest.raises(Cancelled):
        run_outputs([], None, None, Tolerances(), engine_b=_Engine(), cancelled=lambda: True)
    assert not started
