"""The Run panel's "Compare with another export or a saved run…": the signature and inputs
the panel holds, run through this export and the other (a folder), or this export held
against a saved run (.npz), shown as the compare window's Outputs tab shows them.

The run goes through the panel's warm worker, off the UI thread; Cancel (or closing the
dialog) kills that worker, and the panel's next run starts a fresh one.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThreadPool, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from smlens.core.diff.output_run import OutputRun, run_against_other
from smlens.core.diff.outputs import Tolerances
from smlens.core.run.client import RunEngine
from smlens.core.run.messages import describe_failure
from smlens.core.run.pair import Feed
from smlens.core.run.request import LoadRequest
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.base.widgets import muted_label
from smlens.gui.run.output_comparison import OutputComparisonView


def is_saved_run(path: str | Path) -> bool:
    return Path(path).suffix == ".npz"


class RunCompareDialog(QDialog):
    """One comparison of the panel's export with another export or a saved run."""

    run_finished = Signal(object)  # OutputRun
    run_failed = Signal(str)

    def __init__(
        self,
        engine: RunEngine,
        target: LoadRequest,
        key: str,
        feed: Feed,
        source: str,
        other: str | Path,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.engine = engine
        self.other = Path(other)
        self.run: OutputRun | None = None
        this = target.model.path.name
        if is_saved_run(other):
            sides = f"A: the saved run {self.other.name}   B: this export, {this}"
        else:
            sides = f"A: this export, {this}   B: {self.other.name}"
        self.setWindowTitle(f"Compare {key} — {this} with {self.other.name}")
        self.sides = QLabel(sides)
        self.sides.setToolTip(f"{target.model.path}\n{self.other}")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(140)
        self.progress.setMaximumHeight(12)
        self.status = muted_label()
        self.status.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the run: kills the worker")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        self.comparison = OutputComparisonView()
        top = QHBoxLayout()
        top.addWidget(self.sides)
        top.addStretch(1)
        top.addWidget(self.progress)
        top.addWidget(self.status)
        top.addWidget(self.cancel_button)
        top.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.comparison, 1)
        self.resize(1100, 700)

        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.runner = TaskRunner(self, self._pool)
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)
        self.runner.progressed.connect(self._on_runner_progressed)
        self.runner.busy_changed.connect(self._on_runner_busy_changed)
        self.status.setText("Starting…")
        self.runner.start(
            run_against_other, target, key, feed, source, str(other), Tolerances(), engine
        )

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def cancel(self) -> None:
        if self.runner.busy:
            self.runner.cancel()
            self.engine.stop()
            self.status.setText("Cancelled")

    def closeEvent(self, event) -> None:
        self.cancel()
        super().closeEvent(event)

    def _on_runner_finished(self, run: OutputRun) -> None:
        self.run = run
        self.comparison.set_run(run)
        self.status.setText("")
        self.run_finished.emit(run)

    def _on_runner_failed(self, error: BaseException) -> None:
        message = describe_failure(error)
        self.status.setText(message)
        self.run_failed.emit(message)

    def _on_runner_progressed(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 100))
        if text:
            self.status.setText(text[:1].upper() + text[1:] + "…")

    def _on_runner_busy_changed(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setEnabled(busy)
