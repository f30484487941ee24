"""TaskRunner shortens the GIL switch interval while a task runs, and restores it."""

from __future__ import annotations

import sys

from smlens.gui.base.tasks import TASK_SWITCH_INTERVAL, TaskRunner


def _interval(progress=None, cancelled=None) -> float:
    return sys.getswitchinterval()


def test_a_running_task_hands_the_gil_over_sooner_and_restores_it(qtbot):
    before = sys.getswitchinterval()
    runner = TaskRunner()
    with qtbot.waitSignal(runner.finished, timeout=10_000) as result:
        runner.start(_interval)
    assert result.args[0] <= TASK_SWITCH_INTERVAL < before
    qtbot.waitUntil(lambda: sys.getswitchinterval() == before, timeout=10_000)
