"""gc_paused: collection off inside, back as it was after; ``freeze`` moves what lives out
of the collector's reach whether or not automatic collection was on (the window turns it
off and collects on a UI-thread timer)."""

from __future__ import annotations

import gc

import pytest

from smlens.core.tasks import gc_paused


@pytest.mark.parametrize("enabled", [True, False])
def test_freeze_happens_whether_or_not_collection_was_on(enabled):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        before = gc.get_freeze_count()
        with gc_paused(freeze=True):
            assert not gc.isenabled()
            kept = [[i] for i in range(1000)]
        assert gc.get_freeze_count() >= before + len(kept)
        assert gc.isenabled() == enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_without_freeze_nothing_moves():
    before = gc.get_freeze_count()
    with gc_paused():
        kept = [[i] for i in range(1000)]
    assert gc.get_freeze_count() == before and kept
