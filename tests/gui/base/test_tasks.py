"""TaskRunner shortens the GIL switch interval while a task runs, and restores it; tasks
started during a held UI burst wait for it."""

from __future__ import annotations

import sys
import threading

from PySide6.QtCore import QThreadPool

from smlens.gui.base.tasks import TASK_SWITCH_INTERVAL, TaskRunner, tasks_held, tasks_running


def _interval(progress=None, cancelled=None) -> float:
    return sys.getswitchinterval()


def test_a_running_task_hands_the_gil_over_sooner_and_restores_it(qtbot):
    before = sys.getswitchinterval()
    runner = TaskRunner()
    with qtbot.waitSignal(runner.finished, timeout=10_000) as result:
        runner.start(_interval)
    assert result.args[0] <= TASK_SWITCH_INTERVAL < before
    qtbot.waitUntil(lambda: sys.getswitchinterval() == before, timeout=10_000)


def test_tasks_started_in_a_held_burst_wait_for_it_to_end(qtbot):
    pool = QThreadPool()
    runner = TaskRunner(pool=pool)
    with tasks_held():
        runner.start(_interval)
        assert runner.busy
        assert pool.activeThreadCount() == 0  # queued, not handed to the pool
    assert pool.activeThreadCount() == 0  # still queued: it goes after the UI's turn
    with qtbot.waitSignal(runner.finished, timeout=10_000):
        pass
    assert not tasks_running()


def test_outside_a_hold_a_task_starts_at_once():
    pool = QThreadPool()
    release = threading.Event()
    runner = TaskRunner(pool=pool)
    runner.start(lambda progress=None, cancelled=None: release.wait(10))
    assert pool.activeThreadCount() == 1
    release.set()
    pool.waitForDone(10_000)
