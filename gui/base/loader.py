"""Open models off the UI thread: the newest open wins, and every failure is one line."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from smlens.core.analysis.prepare import prepare
from smlens.core.errors import SmlensError
from smlens.core.formats.reader import open_model
from smlens.core.model import Model
from smlens.gui.base.tasks import TaskRunner

log = logging.getLogger(__name__)


def _read(path: Path, progress, cancelled) -> Model:
    """open_model as a TaskRunner task, with the passes the panels show at once (op counts,
    the risky-op scan). Reading cannot stop halfway; a cancelled read's result is dropped by
    the runner."""
    return prepare(open_model(path, progress=progress), progress)


def describe_error(path: str | Path, error: BaseException) -> str:
    """ "file: what is wrong" for any exception a read can raise."""
    if isinstance(error, SmlensError):
        return str(error)
    if isinstance(error, OSError):
        return f"{error.filename or path}: {error.strerror or error}"
    return f"{path}: could not be read ({type(error).__name__}: {error})"


class ModelLoader(QObject):
    """Reads one model at a time on the thread pool; opening another cancels the first."""

    model_loaded = Signal(object)  # Model
    load_failed = Signal(str, str)  # path, "file: what is wrong"
    progressed = Signal(float, str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.path: Path | None = None
        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._on_runner_finished)
        self._runner.failed.connect(self._on_runner_failed)
        self._runner.progressed.connect(self.progressed)
        self._runner.busy_changed.connect(self.busy_changed)

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def open(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._runner.start(_read, self.path)

    def cancel(self) -> None:
        self._runner.cancel()

    def _on_runner_finished(self, model: Model) -> None:
        self.model_loaded.emit(model)

    def _on_runner_failed(self, error: BaseException) -> None:
        if not isinstance(error, SmlensError):
            log.error("reading %s failed", self.path, exc_info=error)
        self.load_failed.emit(str(self.path), describe_error(self.path, error))
