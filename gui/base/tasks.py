"""Run slow core functions off the UI thread and hand results back on it.

A slow step is a plain function ``f(*args, progress, cancelled)`` in core; ``TaskRunner``
runs it on Qt's thread pool. Starting a new task cancels the stale one, whose result is
then dropped (after Orange3's ConcurrentMixin).
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, QTimer, Signal


class _Signals(QObject):
    finished = Signal(int, object)
    failed = Signal(int, object)
    progressed = Signal(int, float, str)


# While a task runs, the UI thread waits for the GIL at every Qt virtual call that PySide
# checks for a Python override, up to the switch interval each time (5 ms by default): a
# layout or paint of many such calls stalled the window 0.5 s behind a graph being built.
# A shorter interval makes the worker hand the GIL over sooner.
TASK_SWITCH_INTERVAL = 0.0005
_running = 0
_running_lock = threading.Lock()
_default_interval = sys.getswitchinterval()


@contextlib.contextmanager
def _short_switch_interval():
    global _running, _default_interval
    with _running_lock:
        if _running == 0:
            _default_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_default_interval, TASK_SWITCH_INTERVAL))
        _running += 1
    try:
        yield
    finally:
        with _running_lock:
            _running -= 1
            if _running == 0:
                sys.setswitchinterval(_default_interval)


_held: list[tuple[QThreadPool, QRunnable]] | None = None  # jobs waiting for a UI burst


@contextlib.contextmanager
def tasks_held():
    """Hold back the tasks started inside (on the UI thread) until the UI has finished the
    burst of work around them: handing a model to every panel, then laying out and painting
    them. A task started at once would compete for the GIL with every Python call the burst
    makes, and double it (a 140,000-op model: 0.25 s of frozen window instead of 0.07 s)."""
    global _held
    if _held is not None:  # nested: the outer hold releases
        yield
        return
    _held = []
    try:
        yield
    finally:
        jobs, _held = _held, None
        if jobs:
            QTimer.singleShot(0, lambda: _release(jobs))


def _release(jobs: list[tuple[QThreadPool, QRunnable]]) -> None:
    """Start held jobs once the burst's layouts and paints are done: they are posted
    events, handled here first, uncontended."""
    QCoreApplication.sendPostedEvents()
    for pool, job in jobs:
        pool.start(job)


def _submit(pool: QThreadPool, job: QRunnable) -> None:
    if _held is None:
        pool.start(job)
    else:
        _held.append((pool, job))


def tasks_running() -> bool:
    """Whether any TaskRunner task is running now (on any thread)."""
    return _running > 0


class _Job(QRunnable):
    def __init__(
        self, serial: int, fn: Callable, args: tuple, signals: _Signals, stop: threading.Event
    ):
        super().__init__()
        self.serial = serial
        self.fn = fn
        self.args = args
        self.signals = signals
        self.stop = stop

    def run(self) -> None:
        def progress(fraction: float, text: str = "") -> None:
            if not self.stop.is_set():
                with contextlib.suppress(RuntimeError):  # the runner was deleted
                    self.signals.progressed.emit(self.serial, fraction, text)

        try:
            with _short_switch_interval():
                result = self.fn(*self.args, progress=progress, cancelled=self.stop.is_set)
        except Exception as e:  # handed to the GUI thread, which shows it as a message
            self._emit(self.signals.failed, e)
        else:
            self._emit(self.signals.finished, result)
        finally:  # the pool's wrapper can outlive the job: let go of what it was given
            self.fn = self.args = None

    def _emit(self, signal, value: object) -> None:
        with contextlib.suppress(RuntimeError):  # the runner was deleted while this ran
            signal.emit(self.serial, value)


class TaskRunner(QObject):
    """Runs one task at a time from the caller's point of view: the newest one wins."""

    finished = Signal(object)  # the result, on the GUI thread
    failed = Signal(object)  # the exception
    progressed = Signal(float, str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None):
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._signals = _Signals(self)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self._signals.progressed.connect(self._on_progressed)
        self._serial = 0
        self._stop: threading.Event | None = None

    @property
    def busy(self) -> bool:
        return self._stop is not None

    def start(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args, progress=..., cancelled=...)``; a running task is cancelled."""
        self.cancel()
        self._serial += 1
        self._stop = threading.Event()
        _submit(self._pool, _Job(self._serial, fn, args, self._signals, self._stop))
        self.busy_changed.emit(True)

    def cancel(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self._stop = None
            self.busy_changed.emit(False)

    def _current(self, serial: int) -> bool:
        return serial == self._serial and self._stop is not None

    def _on_finished(self, serial: int, result: object) -> None:
        if self._current(serial):
            self._stop = None
            self.busy_changed.emit(False)
            self.finished.emit(result)

    def _on_failed(self, serial: int, error: object) -> None:
        if self._current(serial):
            self._stop = None
            self.busy_changed.emit(False)
            self.failed.emit(error)

    def _on_progressed(self, serial: int, fraction: float, text: str) -> None:
        if self._current(serial):
            self.progressed.emit(fraction, text)
