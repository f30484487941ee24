"""Python's cyclic garbage collector, run on the UI thread and out of the way of tasks.

Left automatic, the collector runs in whichever thread happens to allocate; when that is a
worker thread and the garbage holds Qt objects, Qt destroys widgets off the UI thread and
crashes or deadlocks. So automatic collection is off and a UI-thread timer collects instead,
as pyqtgraph's GarbageCollector does, with one change: no pass while a task runs. A task
building a 140,000-op graph allocates hundreds of thousands of objects that live on (and are
frozen out of the collector's reach when it ends, see core.tasks.gc_paused); passes over
them meanwhile held the GIL for 30-80 ms each on the UI thread. Garbage without cycles is
freed by reference counting either way.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QTimer

from smlens.gui.base.tasks import tasks_running

INTERVAL_MS = 500
# A young generation this big is what a task built and handed over (a layout, a diff); a
# pass over it on the UI thread cost 0.35-0.4 s. It is frozen instead, as core's readers
# freeze what they read (core.tasks.gc_paused): its cycles are then never collected.
FREEZE_ABOVE = 200_000


class UiThreadCollector:
    """Collects generation 0 (and 1 and 2 when theirs are due, by gc's own thresholds) on a
    timer, skipping while tasks run and freezing a young generation too big to walk."""

    def __init__(self, interval_ms: int = INTERVAL_MS):
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer()
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        if tasks_running():
            return
        young, middle, old = gc.get_count()
        if young <= self.threshold[0]:
            return
        if young > FREEZE_ABOVE:
            gc.freeze()
            return
        if middle <= self.threshold[1]:
            gc.collect(0)
        elif old <= self.threshold[2]:
            gc.collect(1)
        else:
            gc.collect(2)


_collector: UiThreadCollector | None = None


def collect_garbage_on_the_ui_thread() -> None:
    """Turn automatic collection off and collect on the UI thread instead. Needs a
    QApplication; idempotent."""
    global _collector
    if _collector is None:
        _collector = UiThreadCollector()
