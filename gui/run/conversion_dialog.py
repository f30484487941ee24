"""What the freeze and wrap dialogs share: where the result goes (a path with Browse, checked
by core's ``check_out`` when Run is pressed), the conversion run in a worker of the
dialog's own off the UI thread with progress and Cancel, TensorFlow's one-line error, and
on success the reopened result's summary (``Converted.lines()``) with "Open in window".

A dialog subclass adds what to convert (freeze_dialog.py: the outputs, or a SavedModel's
signature; wrap_dialog.py: the feeds and fetches) and builds core's request from it; core
checks the request as it is built, and its message is what the dialog shows.

The worker is the dialog's own, so Cancel, which kills it, never takes the Run panel's warm
model with it; closing the dialog lets it quit.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from smlens.core.errors import SmlensError
from smlens.core.model import Model
from smlens.core.run.availability import (
    NO_TENSORFLOW_STAGE,
    TensorFlowStatus,
    find_tensorflow,
)
from smlens.core.run.client import RunCancelled, RunEngine, RunError
from smlens.core.run.conversion import Converted, FreezeRequest, WrapRequest, convert
from smlens.core.run.messages import describe_failure, short_tf_error
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.base.widgets import heading_label, mono_font, muted_label, problem_frame
from smlens.gui.run.tensorflow_notice import TensorFlowNotice


def one_line(error: BaseException) -> str:
    """A failed conversion as one line: TensorFlow's message without its stack, first line
    only (the whole text goes to the tooltip); smlens's own errors as they are."""
    if isinstance(error, RunError) and error.stage not in ("missing-op", NO_TENSORFLOW_STAGE):
        text = short_tf_error(error)
    elif isinstance(error, SmlensError):
        text = str(error)  # "path: what is wrong", as the command line says it
    else:
        text = describe_failure(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


class ConversionDialog(QDialog):
    """The frame of a conversion dialog; subclasses fill ``form`` and build the request."""

    conversion_finished = Signal(object)  # the Converted now on show
    conversion_failed = Signal(str)  # the one line shown instead (an error, or "Cancelled")
    open_requested = Signal(str)  # "Open in window": the written model's path

    title = ""  # the window title
    doing = ""  # "Freezing": what needs TensorFlow, in the notice
    hint = ""  # one line under the heading: what the conversion does
    out_is_dir = False  # the result is a folder (a SavedModel), not a file
    out_filter = ""  # the Browse dialog's file filter, for a file result

    def __init__(
        self,
        model: Model,
        parent: QWidget | None = None,
        *,
        engine: RunEngine | None = None,
        tensorflow: TensorFlowStatus | None = None,
    ):
        super().__init__(parent)
        self.model = model
        self._engine = engine
        self._tensorflow = tensorflow if tensorflow is not None else find_tensorflow()
        self.converted: Converted | None = None
        self.setWindowTitle(self.title)
        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._on_conversion_finished)
        self._runner.failed.connect(self._on_conversion_failed)
        self._runner.progressed.connect(self._on_conversion_progressed)
        self._runner.busy_changed.connect(self._on_busy_changed)

        self.heading = heading_label(f"{self.title.rstrip('…')}: {model.path.name}")
        self.hint_label = muted_label(self.hint)
        self.hint_label.setWordWrap(True)

        self.tensorflow_frame = TensorFlowNotice()
        self.tensorflow_label = self.tensorflow_frame.label
        self.copy_install_button = self.tensorflow_frame.copy_button
        self.tensorflow_frame.copied.connect(self._on_install_command_copied)

        self.form = QVBoxLayout()  # the subclass's part: what to convert
        self.form.setContentsMargins(0, 0, 0, 0)

        self.out_edit = QLineEdit(str(self.default_out()))
        self.out_edit.setToolTip("Where the result is written: never inside the model's folder")
        self.out_edit.textChanged.connect(self._on_out_changed)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.replace_check = QCheckBox("Replace it if it exists (--force)")
        out_label = QLabel("Write to")
        out_label.setBuddy(self.out_edit)
        out_row = QHBoxLayout()
        out_row.addWidget(out_label)
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(self.browse_button)

        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumWidth(140)
        self.progress_bar.setMaximumHeight(12)
        self.progress_bar.hide()
        self.status_label = muted_label()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        status_row = QHBoxLayout()
        status_row.addWidget(self.progress_bar)
        status_row.addWidget(self.status_label, 1)
        self.error_label = QLabel()
        self.error_frame = problem_frame(self.error_label)

        self.result_view = QPlainTextEdit()
        self.result_view.setReadOnly(True)
        self.result_view.setFont(mono_font())
        self.result_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.result_view.setMaximumHeight(self.fontMetrics().height() * 5 + 16)  # lines() is 4
        self.result_view.hide()

        self.run_button = QPushButton(self.run_text())
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the conversion: kills its TensorFlow worker")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.open_button = QPushButton("Open in window")
        self.open_button.setToolTip("Open the written model in the main window")
        self.open_button.clicked.connect(self._on_open_clicked)
        self.open_button.hide()
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.tensorflow_frame)
        layout.addLayout(self.form, 1)
        layout.addLayout(out_row)
        layout.addWidget(self.replace_check)
        layout.addLayout(status_row)
        layout.addWidget(self.error_frame)
        layout.addWidget(self.result_view)
        layout.addLayout(buttons)
        self.resize(640, 480)
        self._show_tensorflow()

    # -- what a subclass says -------------------------------------------------------------

    def default_out(self) -> Path:
        """Where the result goes unless the user says otherwise: beside the model's folder."""
        raise NotImplementedError

    def run_text(self) -> str:
        raise NotImplementedError

    def build_request(self, out: str, force: bool) -> FreezeRequest | WrapRequest:
        """Core's request for what the form says; SmlensError when core refuses it."""
        raise NotImplementedError

    def ready_reason(self) -> str | None:
        """Why Run cannot start with the form as it is (nothing chosen), or None."""
        return None

    # -- the engine -----------------------------------------------------------------------

    @property
    def engine(self) -> RunEngine:
        """The dialog's own worker, made on the first run."""
        if self._engine is None:
            self._engine = RunEngine()
        return self._engine

    @property
    def busy(self) -> bool:
        return self._runner.busy

    @property
    def worker_running(self) -> bool:
        """A TensorFlow worker of this dialog is alive."""
        return self._engine is not None and self._engine.running

    # -- running --------------------------------------------------------------------------

    def run(self) -> bool:
        """Check the request (core says what is wrong) and start it; False when refused."""
        if self.busy:
            return False
        self.converted = None
        self.result_view.hide()
        self.open_button.hide()
        try:
            request = self.build_request(
                self.out_edit.text().strip(), self.replace_check.isChecked()
            )
        except SmlensError as e:  # outside the model folder, names the graph has, safe ops
            self._show_failure(str(e))
            return False
        self.progress_bar.setValue(0)
        self._show_status("Starting TensorFlow…")
        self._runner.start(convert, self.engine, request)
        return True

    def cancel(self) -> None:
        """Stop the conversion: the worker is killed (TensorFlow cannot be interrupted), and
        what it was writing goes with its temporary name."""
        if not self._runner.busy:
            return
        self._runner.cancel()
        self.engine.kill()
        self._show_failure("Cancelled: nothing was written")

    def shutdown(self) -> None:
        """Stop a conversion and let the dialog's worker quit."""
        if self._runner.busy:
            self._runner.cancel()
            self.engine.kill()
        if self._engine is not None:
            self._engine.close()

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)

    # -- showing --------------------------------------------------------------------------

    def _show_tensorflow(self) -> None:
        reason = self._tensorflow.needed_for(self.doing)
        self.tensorflow_frame.show_reason(reason)
        self.update_enabled()

    def update_enabled(self) -> None:
        """Run needs TensorFlow, a form that names something, and no conversion under way."""
        blocked = self._tensorflow.needed_for(self.doing) or self.ready_reason()
        self.run_button.setEnabled(not self.busy and not blocked)
        self.run_button.setToolTip(blocked or "")

    def _show_status(self, text: str) -> None:
        """A progress or success line; any failure shown before goes."""
        self.status_label.setText(text)
        self.error_frame.hide()

    def _show_failure(self, text: str, detail: str = "") -> None:
        """One line in the error frame; ``detail`` (TensorFlow's whole text) as its tooltip."""
        self.status_label.setText("")
        self.error_label.setText(text)
        self.error_label.setToolTip(detail if detail != text else "")
        self.error_frame.show()
        self.conversion_failed.emit(text)

    def _on_out_changed(self, _text: str) -> None:
        if not self.busy:
            self._show_status("")

    def _on_browse_clicked(self) -> None:
        start = self.out_edit.text().strip() or str(self.default_out())
        if self.out_is_dir:
            path, _ = QFileDialog.getSaveFileName(self, "Write the SavedModel folder", start)
        else:
            path, _ = QFileDialog.getSaveFileName(self, self.title, start, self.out_filter)
        if path:
            self.out_edit.setText(path)

    def _on_install_command_copied(self) -> None:
        self._show_status("Install command copied")

    def _on_busy_changed(self, busy: bool) -> None:
        self.cancel_button.setVisible(busy)
        self.progress_bar.setVisible(busy)
        self.out_edit.setEnabled(not busy)
        self.browse_button.setEnabled(not busy)
        self.update_enabled()

    def _on_conversion_progressed(self, fraction: float, text: str) -> None:
        self.progress_bar.setValue(round(100 * fraction))
        if text:
            self._show_status(text[:1].upper() + text[1:] + "…")

    def _on_conversion_failed(self, error: object) -> None:
        if isinstance(error, RunCancelled):
            self._show_failure("Cancelled: nothing was written")
            return
        if self._engine is not None and self._engine.tensorflow is not None:
            self._tensorflow = self._engine.tensorflow  # the worker's word on TensorFlow
            self._show_tensorflow()
        detail = error.message if isinstance(error, SmlensError) else str(error)
        self._show_failure(one_line(error), detail)

    def _on_conversion_finished(self, converted: Converted) -> None:
        self.converted = converted
        self._show_status("Written and reopened by smlens's reader:")
        self.result_view.setPlainText("\n".join(converted.lines()))
        self.result_view.show()
        self.open_button.show()
        self.open_button.setDefault(True)
        self.conversion_finished.emit(converted)

    def _on_open_clicked(self) -> None:
        if self.converted is not None:
            self.open_requested.emit(str(self.converted.out))
            self.accept()


def open_on_its_own(dialog_class, module: str) -> int:
    """``python -m MODULE MODEL_PATH``: the dialog alone over the model (a preview while
    working on it); 2 with one line when the path is missing or cannot be read."""
    import sys

    from smlens.core import open_model
    from smlens.gui.base.preview import application

    if len(sys.argv) < 2:
        print(f"usage: python -m {module} MODEL_PATH", file=sys.stderr)
        return 2
    try:
        opened = open_model(sys.argv[1])
    except SmlensError as e:
        print(f"smlens: error: {e}", file=sys.stderr)
        return 2
    app = application()
    dialog = dialog_class(opened)
    dialog.show()
    return app.exec()
