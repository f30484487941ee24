"""Start the window: ``smlens [PATH [PATH]] [--screenshot OUT.png] [--view NAME]``."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QSettings, QThreadPool, QTimer, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from smlens.core.errors import SmlensError
from smlens.gui.base.collector import collect_garbage_on_the_ui_thread
from smlens.gui.base.tasks import tasks_running
from smlens.gui.base.theme import app_icon, apply_theme, follow_system, set_preference
from smlens.gui.window.main_window import THEME_KEY, MainWindow
from smlens.resources import sample_path

log = logging.getLogger("smlens")

LOAD_TIMEOUT_MS = 120_000
SCREENSHOT_SIZE = (1400, 900)


def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# What the offscreen platform says of every window it cannot size by hint: nothing to act on.
_OFFSCREEN_NOISE = ("does not support propagateSizeHints",)


def _quiet_offscreen_noise(kind, context, message: str) -> None:
    """Qt's messages on stderr as they come, but the offscreen platform's noise."""
    if not any(noise in message for noise in _OFFSCREEN_NOISE):
        print(message, file=sys.stderr)


def _application() -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "smlens"])
    app.setApplicationName("SavedModel Lens")
    app.setOrganizationName("smlens")
    app.setWindowIcon(app_icon())
    set_preference(str(QSettings().value(THEME_KEY, "system")))
    apply_theme(app)
    follow_system(app)
    collect_garbage_on_the_ui_thread()
    return app


def install_excepthook(window: MainWindow) -> Callable[[], None]:
    """Log unexpected exceptions (Qt calls sys.excepthook for errors in slots) and show
    one line in the window instead of dying. Returns the function that undoes it."""
    previous = sys.excepthook

    def hook(kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, value, tb)
            return
        log.error("unexpected error", exc_info=(kind, value, tb))
        with contextlib.suppress(RuntimeError):  # the window is already deleted
            window.report_error(f"{kind.__name__}: {value}")

    sys.excepthook = hook
    return lambda: setattr(sys, "excepthook", previous)


def wait_for_load(window: MainWindow, timeout_ms: int = LOAD_TIMEOUT_MS) -> bool:
    """Run the event loop until the window's current load ends; False on timeout."""
    if not window.loader.busy:
        return True
    loop = QEventLoop()
    window.model_loaded.connect(loop.quit)
    window.load_failed.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return not window.loader.busy


def wait_for_view(window: MainWindow, view: str, timeout_ms: int = LOAD_TIMEOUT_MS) -> None:
    """Run the event loop while the shown panel works off the UI thread (the graph's
    layout, the Run panel's device listing), so the screenshot shows its result. A panel
    says so by ``settling``, else by ``busy``."""
    panel = window.panels.get(window.view_key(view))
    waited = 0
    while getattr(panel, "settling", getattr(panel, "busy", False)) and waited < timeout_ms:
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
        waited += 20


def wait_for_tasks(timeout_ms: int = LOAD_TIMEOUT_MS) -> None:
    """Run the event loop while any panel's task runs off the UI thread, so the
    screenshot shows what it found."""
    waited = 0
    while tasks_running() and waited < timeout_ms:
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
        waited += 20


def _screenshot(app: QApplication, window: MainWindow, paths, out: str, view: str | None) -> int:
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    failures: list[str] = []  # "file: what is wrong", as the loader says it
    window.load_failed.connect(failures.append)
    window.open_paths(paths)
    if not wait_for_load(window):
        window.loader.cancel()
        window.problem_bar.show_error(
            f"{paths[0]}: still loading after {LOAD_TIMEOUT_MS // 1000} s"
        )
    if len(paths) > 1 and window.compare_window is not None:  # smlens A B: the comparison
        window.compare_window.resize(*SCREENSHOT_SIZE)
        return window.compare_window.screenshot(out, LOAD_TIMEOUT_MS)
    if view:
        try:
            window.show_view(view)
        except KeyError as e:
            raise SmlensError("--view", e.args[0]) from None
        wait_for_view(window, view)
    for _ in range(3):  # let the deferred dock sizes and repaints run
        app.processEvents()
    wait_for_tasks()  # what panels find off the UI thread (the overview's release line)
    app.processEvents()
    if not window.grab().save(out):
        raise SmlensError(out, "could not write the screenshot")
    if window.model is None or window.problem_bar.level == "error":
        # The PNG shows the error; the command line says it too, as every command does.
        path, _, said = (failures[-1] if failures else "").partition(": ")
        if not said:
            shown = window.problem_bar.lines
            path, said = paths[0], " ".join(shown) if shown else "no model opened"
        raise SmlensError(path, f"{said} (the screenshot {out} shows it)")
    return 0


def run_app(paths: list[str], screenshot: str | None = None, view: str | None = None) -> int:
    """Open ``paths`` (or the sample) in the window; with ``screenshot``, render the
    window to that PNG once loading ends and return 0, or 2 when the window shows an
    error (the model failed to open, or a panel failed)."""
    logging.basicConfig(format="smlens: %(levelname)s: %(name)s: %(message)s")
    if screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a screenshot needs no screen
        qInstallMessageHandler(_quiet_offscreen_noise)
    elif not _has_display():
        raise SmlensError("$DISPLAY", "not set: no screen for the window (try --screenshot)")
    if screenshot:
        paths = list(paths) or [str(sample_path())]
    app = _application()
    window = MainWindow(persist=screenshot is None)
    if view:
        try:
            window.view_key(view)
        except KeyError as e:
            window.deleteLater()
            raise SmlensError("--view", e.args[0]) from None
    restore_hook = install_excepthook(window)
    try:
        if screenshot:
            return _screenshot(app, window, paths, screenshot, view)
        window.show()
        if view:
            window.show_view(view)
        window.start(paths)
        return app.exec()
    finally:
        restore_hook()
        window.loader.cancel()
        if window.compare_window is not None:
            window.compare_window.view.cancel()
        QThreadPool.globalInstance().waitForDone(5000)
