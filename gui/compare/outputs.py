"""The compare window's Outputs tab: run a signature both exports share on the same inputs
and see what differs, output by output.

Choose the signature, edit its inputs (the Run panel's editor: fills with batch and seed by
default), set the tolerances, then "Run both": core's ``run_outputs`` runs off the UI
thread in this tab's own warm worker, which loads both exports. Cancel kills the worker
(the only way to interrupt TensorFlow); the next run starts a fresh one.
``python -m smlens.gui.compare.outputs A B`` opens the tab alone.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.warmup import has_warmup, preview_warmup
from smlens.core.diff.output_run import OutputRun, run_outputs
from smlens.core.diff.outputs import (
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    Tolerances,
    parse_tolerances,
    signature_line,
)
from smlens.core.errors import SmlensError
from smlens.core.model import MetaGraph, Model
from smlens.core.run.client import RunCancelled, RunEngine
from smlens.core.run.inputs import InputsRefused
from smlens.core.run.messages import describe_failure
from smlens.core.run.pair import (
    DEFAULT_BATCH,
    Feed,
    plan_for_feed,
    shared_signatures,
    shared_tag_set,
)
from smlens.core.run.request import LoadRequest
from smlens.core.tasks import CancelCheck, Progress
from smlens.gui.base.tasks import TaskRunner
from smlens.gui.base.widgets import muted_label, problem_frame
from smlens.gui.run.inputs_editor import FILL_TEXT, KINDS, RunInputsEditor
from smlens.gui.run.output_comparison import OutputComparisonView

INPUTS_WIDTH = 470  # pixels: an input's name, its source combo and a fill's parameters


def run_both(
    a: Model,
    mg_a: MetaGraph,
    b: Model,
    mg_b: MetaGraph,
    key: str,
    feed: Feed,
    source: str,
    tolerances: Tolerances,
    engine: RunEngine,
    *,
    progress: Progress,
    cancelled: CancelCheck,
) -> OutputRun:
    """Signature ``key`` of A and B on ``feed``, in ``engine``'s one worker: the task the
    tab hands its TaskRunner (the load requests scan for risky ops, so they are built
    here, off the UI thread)."""
    progress(0.0, "loading A and B")
    target_a = LoadRequest(model=a, meta_graph=mg_a)
    target_b = LoadRequest(model=b, meta_graph=mg_b)
    plan = plan_for_feed(mg_a, mg_b, key, feed, source)
    return run_outputs(
        [plan],
        target_a,
        target_b,
        tolerances,
        engine_a=engine,
        engine_b=engine,
        progress=progress,
        cancelled=cancelled,
    )


def tolerance_texts(text: str) -> list[str]:
    """ "1e-5, probabilities:1e-3" -> ["1e-5", "probabilities:1e-3"]: the --atol values."""
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


def inputs_source(editor: RunInputsEditor) -> str:
    """Where the inputs came from, in the diff's words: "x: fill random normal, batch 8,
    seed 0", "x: expression"."""
    parts = []
    fills = False
    for key, source in editor.sources().items():
        if source.kind == "fill":
            fills = True
            parts.append(f"{key}: fill {FILL_TEXT.get(source.fill, source.fill)}")
        else:
            parts.append(f"{key}: {KINDS.get(source.kind, source.kind).lower()}")
    record = editor.chosen_record()
    if record is not None:
        return f"warmup record {record.index}"
    text = ", ".join(parts) or "no inputs"
    if fills:
        text += f", batch {editor.batch_size()}, seed {editor.seed.value()}"
    return text


class OutputsCompareTab(QWidget):
    """Runs a shared signature of A and B on the same inputs and shows the comparison."""

    verdict_changed = Signal(str)  # the verdict line of the last run, "" when there is none
    run_finished = Signal(object)  # OutputRun
    run_failed = Signal(str)

    def __init__(self, parent: QWidget | None = None, engine: RunEngine | None = None):
        super().__init__(parent)
        self.a: Model | None = None
        self.b: Model | None = None
        self.mg_a: MetaGraph | None = None
        self.mg_b: MetaGraph | None = None
        self.run: OutputRun | None = None
        self.engine = engine or RunEngine()
        # Its own thread: a long run must not hold the global pool the viewers share.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.runner = TaskRunner(self, self._pool)
        self.runner.finished.connect(self._on_runner_finished)
        self.runner.failed.connect(self._on_runner_failed)
        self.runner.progressed.connect(self._on_runner_progressed)
        self.runner.busy_changed.connect(self._on_runner_busy_changed)
        self._warmup_runner = TaskRunner(self)  # A's warmup file: its records as inputs
        self._warmup_runner.finished.connect(self._on_warmup_read)
        self._build()
        self.set_models(None, None)

    def _build(self) -> None:
        self.signature_combo = QComboBox()
        self.signature_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.signature_combo.setMinimumContentsLength(12)
        self.signature_combo.setToolTip("The signatures both exports have, in A's order")
        self.signature_combo.currentIndexChanged.connect(self._on_signature_changed)
        self.atol_edit = QLineEdit(f"{DEFAULT_ATOL:g}")
        self.rtol_edit = QLineEdit(f"{DEFAULT_RTOL:g}")
        for edit, name in ((self.atol_edit, "atol"), (self.rtol_edit, "rtol")):
            edit.setToolTip(
                f"{name}: one number for every output, or key:number for one "
                "(comma-separated), as smlens diff --outputs takes them"
            )
            edit.setMaximumWidth(180)
            edit.textEdited.connect(self._on_tolerance_edited)
        style = self.style()
        self.run_button = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Run both"
        )
        self.run_button.setToolTip("Run the signature of A and of B on these inputs and compare")
        self.run_button.clicked.connect(self.run_both)
        self.cancel_button = QPushButton(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaStop), "Cancel"
        )
        self.cancel_button.setToolTip("Stop the run: kills the worker")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(140)
        self.progress.setMaximumHeight(12)
        self.progress.hide()
        self.status = muted_label()
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.error = QLabel()
        self.error.setObjectName("outputsError")
        self.error_frame = problem_frame(self.error)  # the Run panel's error look

        bar = QHBoxLayout()
        bar.setSpacing(6)
        for caption, widget in (
            ("Signature", self.signature_combo),
            ("atol", self.atol_edit),
            ("rtol", self.rtol_edit),
        ):
            label = muted_label(caption)
            label.setBuddy(widget)
            bar.addWidget(label)
            bar.addWidget(widget, 1 if widget is self.signature_combo else 0)
            bar.addSpacing(6)
        bar.addWidget(self.run_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.progress)
        bar.addWidget(self.status, 1)

        self.inputs = RunInputsEditor()
        self.inputs.batch.setValue(DEFAULT_BATCH)  # as smlens diff --outputs fills
        self.inputs.setMinimumSize(220, 80)
        self.inputs.changed.connect(self._on_inputs_changed)
        self.comparison = OutputComparisonView()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.inputs)
        split.addWidget(self.comparison)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setChildrenCollapsible(False)
        self._split = split
        self._sized = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 4)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.error_frame)
        layout.addWidget(split, 1)

    def showEvent(self, event) -> None:
        """Give the inputs editor room for a row's source and its fill once, at first show:
        before it the splitter has no width to share."""
        super().showEvent(event)
        total = sum(self._split.sizes())
        if not self._sized and total > 2 * INPUTS_WIDTH:
            self._split.setSizes([INPUTS_WIDTH, total - INPUTS_WIDTH])
            self._sized = True

    # -- the models -----------------------------------------------------------------------

    def set_models(self, a: Model | None, b: Model | None) -> None:
        """Two exports (or none): the signatures both share, inputs filled from A's spec,
        and no result until Run both."""
        self.cancel()
        self.a, self.b = a, b
        self.mg_a = self.mg_b = None
        keys: list[str] = []
        problem = ""
        if a is not None and b is not None:
            try:
                self.mg_a, self.mg_b = shared_tag_set(a, b, None)
                keys = shared_signatures(self.mg_a, self.mg_b, None)
            except SmlensError as e:
                problem = str(e)
            for side, model in (("A", a), ("B", b)):
                if not problem and model.format != "saved_model":
                    problem = f"{side} is a {model.format}: only SavedModels run"
            if not problem and not keys:
                problem = "A and B share no signature to run"
        self.signature_combo.blockSignals(True)
        self.signature_combo.clear()
        for key in [] if problem else keys:
            self.signature_combo.addItem(key, key)
        self.signature_combo.blockSignals(False)
        self._show_result(None)
        self._on_signature_changed(self.signature_combo.currentIndex())
        self._show_error(problem or None)
        self.status.setText("" if a is None else "Not run yet")
        self._update_enabled()
        self._warmup_runner.cancel()
        self.inputs.set_warmup(None)
        if not problem and a is not None and has_warmup(a):
            self._warmup_runner.start(preview_warmup, a)

    def _on_warmup_read(self, report) -> None:
        """A's warmup records, read off the UI thread, become input sources."""
        self.inputs.set_warmup(report.file if report is not None else None)

    @property
    def signature_key(self) -> str | None:
        return self.signature_combo.currentData()

    # -- running --------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def tolerances(self) -> Tolerances:
        return parse_tolerances(
            tolerance_texts(self.atol_edit.text()), tolerance_texts(self.rtol_edit.text())
        )

    def run_both(self) -> bool:
        """Start the run of both sides; False (and a message) when it cannot start."""
        key = self.signature_key
        if key is None or self.mg_a is None or self.mg_b is None:
            return False
        try:
            tolerances = self.tolerances()
        except SmlensError as e:
            self._show_error(str(e))
            return False
        refused = self.inputs.not_runnable_reason()  # a warmup record that does not fit
        if refused:
            self._show_error(refused)
            return False
        try:
            feed = self.inputs.values()
        except InputsRefused as e:
            self.inputs.show_errors(e.errors)
            self._show_error(f"Inputs not accepted: {e}")
            return False
        self.inputs.show_errors({})
        self._show_error(None)
        source = inputs_source(self.inputs)
        self.status.setText("Starting…")
        self.runner.start(
            run_both,
            self.a,
            self.mg_a,
            self.b,
            self.mg_b,
            key,
            feed,
            source,
            tolerances,
            self.engine,
        )
        return True

    def cancel(self) -> None:
        """Stop a run under way: its worker is killed, and the result is dropped."""
        if self.runner.busy:
            self.runner.cancel()
            self.engine.stop()
            self.status.setText("Cancelled: the next run starts a fresh worker")

    def close_engine(self) -> None:
        """Stop any run and let the worker go (the window is closing)."""
        self.cancel()
        self.engine.close()

    # -- results --------------------------------------------------------------------------

    def verdict_text(self) -> str:
        return self.comparison.verdict_text()

    def _show_result(self, run: OutputRun | None) -> None:
        self.run = run
        self.comparison.set_run(run, self.signature_key)
        self.verdict_changed.emit(self.verdict_text())

    def _show_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error_frame.setVisible(bool(message))

    def _update_enabled(self) -> None:
        busy = self.runner.busy
        runnable = self.signature_key is not None and self.mg_a is not None
        self.run_button.setEnabled(runnable and not busy)
        self.cancel_button.setEnabled(busy)
        for widget in (self.signature_combo, self.atol_edit, self.rtol_edit, self.inputs):
            widget.setEnabled(not busy)

    def _on_signature_changed(self, _index: int) -> None:
        key = self.signature_key
        sig = self.mg_a.signatures[key] if key is not None and self.mg_a is not None else None
        self.inputs.set_signature(sig, self.mg_a)
        self._update_enabled()

    def _on_inputs_changed(self) -> None:
        self.inputs.show_errors({})

    def _on_tolerance_edited(self, _text: str) -> None:
        self._show_error(None)

    def _on_runner_finished(self, run: OutputRun) -> None:
        self._show_result(run)
        sig = run.signature(self.signature_key or "")
        self.status.setText("" if sig is None or not sig.problem else signature_line(sig))
        self.run_finished.emit(run)

    def _on_runner_failed(self, error: BaseException) -> None:
        message = describe_failure(error)
        self.status.setText("Stopped" if isinstance(error, RunCancelled) else "Failed")
        self._show_error(message)
        self.run_failed.emit(message)

    def _on_runner_progressed(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 100))
        if text:
            self.status.setText(text[:1].upper() + text[1:] + "…")

    def _on_runner_busy_changed(self, busy: bool) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(busy)
        self._update_enabled()


def main() -> None:
    from smlens.core.formats.reader import open_model
    from smlens.gui.base.preview import application

    app = application()
    if len(sys.argv) != 3:
        sys.exit("usage: python -m smlens.gui.compare.outputs A B")
    tab = OutputsCompareTab()
    tab.set_models(open_model(sys.argv[1]), open_model(sys.argv[2]))
    tab.resize(1300, 800)
    tab.show()
    code = app.exec()
    tab.close_engine()
    sys.exit(code)


if __name__ == "__main__":
    main()
