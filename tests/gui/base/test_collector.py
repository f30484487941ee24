"""The UI-thread garbage collector: automatic collection off, no pass while a task runs."""

from __future__ import annotations

import gc
import threading
import weakref

from smlens.gui.base.collector import UiThreadCollector
from smlens.gui.base.tasks import TaskRunner, tasks_running


class _Cycle:
    def __init__(self):
        self.me = self


def _young_garbage_cycle() -> weakref.ref:
    ref = weakref.ref(_Cycle())
    _keep.extend([] for _ in range(2 * gc.get_threshold()[0]))  # gen 0 over its threshold
    return ref


_keep: list = []


def test_no_pass_while_a_task_runs_then_the_cycle_is_collected(qtbot):
    collector = UiThreadCollector(interval_ms=60_000)  # checked by hand below
    release = threading.Event()
    runner = TaskRunner()
    runner.start(lambda progress=None, cancelled=None: release.wait(10))
    qtbot.waitUntil(tasks_running, timeout=10_000)
    cycle = _young_garbage_cycle()
    collector.check()
    assert cycle() is not None  # skipped: the task may be allocating what it will keep
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        release.set()
    qtbot.waitUntil(lambda: not tasks_running(), timeout=10_000)
    cycle = _young_garbage_cycle()
    collector.check()
    assert cycle() is None
    collector.timer.stop()
    _keep.clear()


def test_a_young_generation_too_big_to_walk_is_frozen_not_collected(qtbot, monkeypatch):
    import smlens.gui.base.collector as module

    monkeypatch.setattr(module, "FREEZE_ABOVE", 5 * gc.get_threshold()[0])
    collector = UiThreadCollector(interval_ms=60_000)
    frozen = gc.get_freeze_count()
    cycle = weakref.ref(_Cycle())
    _keep.extend([] for _ in range(10 * gc.get_threshold()[0]))  # what a task handed over
    collector.check()
    assert cycle() is not None  # not walked on the UI thread...
    assert gc.get_freeze_count() > frozen + 5 * gc.get_threshold()[0]  # ...but frozen
    assert gc.get_count()[0] < gc.get_threshold()[0]
    collector.timer.stop()
    _keep.clear()
