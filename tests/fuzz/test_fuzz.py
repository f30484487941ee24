"""The seeded mutation fuzzer, a short slice per run: every damaged export is read, shown,
scanned and its variables read, and the only exception allowed is the project's own.

SMLENS_FUZZ_CASES=10000 (and SMLENS_FUZZ_SEED) run a longer slice; ``python -m
tests.fuzz.mutate --cases 10000`` does the same outside pytest and prints the figures.
"""

from __future__ import annotations

import json
import os
import resource

from tests.fuzz.mutate import HANG_SECONDS, SOURCES, run

CASES = int(os.environ.get("SMLENS_FUZZ_CASES", "600"))
SEED = int(os.environ.get("SMLENS_FUZZ_SEED", "0"))
MEMORY_BOUND_MIB = 512  # growth of the process's peak RSS over the whole slice


def test_fuzz_slice_raises_only_project_errors(models, capsys):
    sources = {name: models.path(name) for name in SOURCES}
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    outcome = run(sources, CASES, SEED)
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024 - rss_before
    figures = outcome.figures() | {"rss_growth_mib": growth}
    with capsys.disabled():
        print("\nfuzz slice:", json.dumps(figures))
    assert outcome.cases == CASES
    assert outcome.opened > CASES // 4  # the mutations mostly leave something readable
    assert outcome.failures == [], json.dumps(outcome.failures[:3], indent=1)
    assert outcome.hangs == [] and outcome.slowest < HANG_SECONDS
    assert growth < MEMORY_BOUND_MIB
    assert {"entry", "field", "flip", "truncate"} <= set(outcome.kinds)
