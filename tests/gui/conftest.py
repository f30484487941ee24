"""GUI tests collect Python's cyclic garbage only on the UI thread, as the app does."""

from __future__ import annotations

import gc

import pytest

from smlens.gui.base.collector import collect_garbage_on_the_ui_thread


@pytest.fixture(autouse=True)
def _garbage_on_the_ui_thread(qapp):
    collect_garbage_on_the_ui_thread()
    yield
    gc.collect()  # this test's widgets go now, on this thread, not in a later worker
