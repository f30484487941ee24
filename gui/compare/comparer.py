"""Open two exports and diff them off the UI thread; the newest request wins."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from smlens.core.diff.changes import ModelDiff
from smlens.core.diff.model_diff import diff_models
from smlens.core.errors import SmlensError
from smlens.core.formats.reader import open_model
from smlens.core.model import Model
from smlens.gui.base.loader import describe_error
from smlens.gui.base.tasks import TaskRunner

log = logging.getLogger(__name__)

Side = str | Path | Model


@dataclass(frozen=True)
class Comparison:
    a: Model
    b: Model
    diff: ModelDiff


class _OpenFailed(Exception):
    def __init__(self, path: Path, error: BaseException):
        super().__init__(describe_error(path, error))
        self.error = error


def _open_and_diff(a: Side, b: Side, progress, cancelled) -> Comparison:
    """Open whichever side is a path (10 % of the progress each), then diff (the rest)."""
    models = []
    for i, side in enumerate((a, b)):
        if isinstance(side, Model):
            models.append(side)
            continue
        path = Path(side).expanduser()
        progress(0.1 * i, f"opening {path.name}")
        try:
            models.append(open_model(path))
        except Exception as e:
            raise _OpenFailed(path, e) from e

    def scaled(fraction: float, text: str) -> None:
        progress(0.2 + 0.8 * fraction, text)

    diff = diff_models(*models, progress=scaled, cancelled=cancelled)
    return Comparison(models[0], models[1], diff)


def side_path(side: Side) -> Path:
    return side.path if isinstance(side, Model) else Path(side).expanduser()


class Comparer(QObject):
    """Holds the two sides of a comparison and its latest result."""

    diff_ready = Signal(object)  # Comparison
    compare_failed = Signal(str)  # "file: what is wrong"
    progressed = Signal(float, str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.sides: tuple[Side, Side] | None = None
        self.result: Comparison | None = None
        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._on_runner_finished)
        self._runner.failed.connect(self._on_runner_failed)
        self._runner.progressed.connect(self.progressed)
        self._runner.busy_changed.connect(self.busy_changed)

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def compare(self, a: Side, b: Side) -> None:
        """Diff ``a`` (the old export) against ``b``: paths are opened, Models reused."""
        self.sides = (a, b)
        self.result = None
        self._runner.start(_open_and_diff, a, b)

    def swap(self) -> None:
        """Compare B against A; models already read are not read again."""
        if self.result is not None:
            self.compare(self.result.b, self.result.a)
        elif self.sides is not None:
            self.compare(self.sides[1], self.sides[0])

    def cancel(self) -> None:
        self._runner.cancel()

    def _on_runner_finished(self, result: Comparison) -> None:
        self.result = result
        self.sides = (result.a, result.b)
        self.diff_ready.emit(result)

    def _on_runner_failed(self, error: BaseException) -> None:
        if isinstance(error, _OpenFailed):
            message = str(error)
            if not isinstance(error.error, SmlensError | OSError):
                log.error("opening a model to compare failed", exc_info=error.error)
        else:
            log.error("comparing failed", exc_info=error)
            message = f"could not compare: {type(error).__name__}: {error}"
        self.compare_failed.emit(message)
