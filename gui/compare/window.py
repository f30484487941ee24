"""The compare window: a CompareView under its own problem bar, like a diff tool's window.

It is a separate top-level window, not a dock: a comparison needs the whole width for its
two columns, while the main window keeps showing one model. It closes with the main window.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from smlens.core.errors import SmlensError
from smlens.gui.base.problem_bar import ProblemBar
from smlens.gui.base.theme import app_icon
from smlens.gui.compare.comparer import Comparison, Side, side_path
from smlens.gui.compare.view import CompareView

APP_TITLE = "SavedModel Lens"


class CompareWindow(QMainWindow):
    diff_ready = Signal(object)  # Comparison
    compare_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("compareWindow")
        self.setWindowIcon(app_icon())
        self.setWindowTitle(f"Compare — {APP_TITLE}")
        self.problem_bar = ProblemBar(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.problem_bar)
        self.view = CompareView(self)
        self.setCentralWidget(self.view)
        self.view.diff_ready.connect(self._on_view_diff_ready)
        self.view.compare_failed.connect(self._on_view_compare_failed)
        close = self.addAction("Close")
        close.setShortcut(QKeySequence(QKeySequence.StandardKey.Close))
        close.triggered.connect(self.close)
        self.resize(1400, 900)
        if parent is not None:
            parent.installEventFilter(self)

    @property
    def busy(self) -> bool:
        return self.view.busy

    @property
    def comparison(self) -> Comparison | None:
        return self.view.comparison

    def compare(self, a: Side, b: Side) -> None:
        self.problem_bar.clear()
        self.setWindowTitle(f"{side_path(a).name} ⇄ {side_path(b).name} — Compare — {APP_TITLE}")
        self.view.compare(a, b)

    def wait(self, timeout_ms: int) -> bool:
        """Run the event loop until the running comparison ends; False on timeout."""
        if self.busy:
            loop = QEventLoop()
            self.diff_ready.connect(loop.quit)
            self.compare_failed.connect(loop.quit)
            QTimer.singleShot(timeout_ms, loop.quit)
            loop.exec()
        return not self.busy

    def screenshot(self, out: str, timeout_ms: int) -> int:
        """Render this window to ``out`` once the comparison ends: 0, or 2 when it failed."""
        if not self.wait(timeout_ms):
            self.view.cancel()
            self.problem_bar.show_error(f"still comparing after {timeout_ms // 1000} s")
        for _ in range(3):  # let the deferred sizes and repaints run
            QApplication.processEvents()
        if not self.grab().save(out):
            raise SmlensError(out, "could not write the screenshot")
        failed = self.problem_bar.isVisibleTo(self) and self.problem_bar.level == "error"
        return 0 if self.comparison is not None and not failed else 2

    def _on_view_diff_ready(self, comparison: Comparison) -> None:
        diff = comparison.diff
        self.setWindowTitle(
            f"{comparison.a.path.name} → {comparison.b.path.name} — Compare — {APP_TITLE}"
        )
        problems = diff.problems + comparison.a.problems + comparison.b.problems
        self.problem_bar.show_problems(problems)
        self.diff_ready.emit(comparison)

    def _on_view_compare_failed(self, message: str) -> None:
        self.problem_bar.show_error(message)
        self.compare_failed.emit(message)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Close with the main window, so the app does not linger on a stray compare window."""
        if watched is self.parent() and event.type() == QEvent.Type.Close:
            self.close()
        return False

    def closeEvent(self, event) -> None:
        self.view.cancel()
        self.view.outputs.close_engine()
        super().closeEvent(event)
