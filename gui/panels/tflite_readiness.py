"""The Overview's TFLite readiness: on request (a conversion takes seconds), TensorFlow's own
converter runs in a run worker, off the UI thread, with progress and Cancel; then each
signature's verdict and its ops, builtin, Flex (Select TF ops) or unsupported, with the
nodes the converter named.

The view has a worker of its own (started on the first check), so Cancel, which kills it,
never takes the Run panel's warm model with it.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from smlens.core.errors import SmlensError
from smlens.core.model import MetaGraph, Model
from smlens.core.model.text import counted, grouped
from smlens.core.run.client import RunCancelled, RunEngine
from smlens.core.run.tflite import (
    BUILTIN,
    FLEX,
    KIND_NAMES,
    UNSUPPORTED,
    TFLiteOp,
    TFLiteReadiness,
)
from smlens.core.run.tflite_request import TFLiteRequest
from smlens.gui.base import theme
from smlens.gui.base.tasks import TaskRunner

NODES_LISTED = 50  # per op, in the tree; the rest are counted
HINT = (
    "Converts each signature with TensorFlow's TFLite converter, builtin ops only and then "
    "with Select TF ops, and lists the ops it cannot map. Nothing is written."
)


def tflite_meta_graph(model: Model) -> MetaGraph | None:
    """The meta graph a TFLite conversion takes: "serve"'s, else the only one with
    signatures; None when there is none."""
    with_signatures = [mg for mg in model.meta_graphs if mg.callable_signatures]
    for mg in with_signatures:
        if set(mg.tags) == {"serve"}:
            return mg
    return with_signatures[0] if with_signatures else None


class TFLiteReadinessView(QWidget):
    """A "Check TFLite readiness" button, its progress and Cancel, then the result tree."""

    readiness_shown = Signal(object)  # the TFLiteReadiness now on show
    check_failed = Signal(str)  # the one line shown instead (an error, or "Cancelled")
    check_progressed = Signal(float, str)  # the worker's progress, as the bar shows it

    def __init__(self, parent: QWidget | None = None, engine: RunEngine | None = None):
        super().__init__(parent)
        self._engine = engine
        self._model: Model | None = None
        self._convertible = False
        self._runner = TaskRunner(self)
        self._runner.finished.connect(self._on_check_finished)
        self._runner.failed.connect(self._on_check_failed)
        self._runner.progressed.connect(self._on_check_progressed)
        self._runner.busy_changed.connect(self._on_busy_changed)

        self.check_button = QPushButton("Check TFLite readiness")
        self.check_button.setToolTip(HINT)
        self.check_button.clicked.connect(self.check)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the conversion: kills its TensorFlow worker")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setMaximumWidth(120)
        self.progress_bar.setMaximumHeight(12)
        self.progress_bar.hide()
        self.status_label = QLabel()
        self.status_label.setProperty("role", "muted")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 4, 0, 0)
        bar.setSpacing(6)
        bar.addWidget(self.check_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.progress_bar)
        bar.addWidget(self.status_label, 1)

        self.tree = QTreeWidget()
        self.tree.setObjectName("tfliteReadiness")
        self.tree.setHeaderLabels(["Op", "Kind", "Uses", "Node (function)"])
        self.tree.setFrameShape(QFrame.Shape.NoFrame)
        self.tree.setUniformRowHeights(True)
        self.tree.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.tree.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        header = self.tree.header()
        header.setStretchLastSection(True)
        for col in (0, 1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemExpanded.connect(self._fit_tree)
        self.tree.itemCollapsed.connect(self._fit_tree)
        self.tree.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.tree)
        self.show_model(None)

    @property
    def engine(self) -> RunEngine:
        """The view's own worker, made on the first check."""
        if self._engine is None:
            self._engine = RunEngine()
        return self._engine

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def show_model(self, model: Model | None) -> None:
        """A new model: no result yet; a check still running is cancelled."""
        if self._runner.busy:
            self.cancel()
        self._model = model
        self.tree.clear()
        self.tree.hide()
        mg = tflite_meta_graph(model) if model is not None else None
        convertible = model is not None and model.format == "saved_model" and mg is not None
        self._convertible = convertible
        self.check_button.setEnabled(convertible)
        if model is None:
            self.status_label.setText("")
        elif not convertible:
            self.status_label.setText("Only a SavedModel with a signature converts to TFLite")
        else:
            keys = ", ".join(mg.callable_signatures)
            self.status_label.setText(f"Not checked yet (tag set {mg.tag_set!r}: {keys})")

    def check(self) -> None:
        """Start the dry run of every signature of the model's serving meta graph."""
        model = self._model
        mg = tflite_meta_graph(model) if model is not None else None
        if mg is None:
            return
        try:
            request = TFLiteRequest.of(model, mg.tag_set)
        except SmlensError as e:  # file or system ops, a model that cannot run
            self._show_failure(e.message)
            return
        self.tree.clear()
        self.tree.hide()
        self.progress_bar.setValue(0)
        self.status_label.setText("Starting TensorFlow…")
        self._runner.start(self.engine.check_tflite, request)

    def cancel(self) -> None:
        """Stop the dry run: the worker is killed (TensorFlow cannot be interrupted)."""
        if not self._runner.busy:
            return
        self._runner.cancel()
        self.engine.stop()
        self._show_failure("Cancelled")

    def shutdown(self) -> None:
        """Stop a check and let the view's worker quit: the window is closing."""
        self._runner.cancel()
        if self._engine is not None:
            self._engine.close()

    # -- results --------------------------------------------------------------------

    def _on_busy_changed(self, busy: bool) -> None:
        self.check_button.setEnabled(not busy and self._convertible)
        self.cancel_button.setVisible(busy)
        self.progress_bar.setVisible(busy)

    def _on_check_progressed(self, fraction: float, text: str) -> None:
        self.progress_bar.setValue(round(100 * fraction))
        self.check_progressed.emit(fraction, text)
        if text:
            self.status_label.setText(text[:1].upper() + text[1:] + "…")

    def _on_check_failed(self, error: object) -> None:
        if isinstance(error, RunCancelled):
            self._show_failure("Cancelled")
        elif isinstance(error, SmlensError):
            self._show_failure(error.message)
        else:
            self._show_failure(f"{type(error).__name__}: {error}")

    def _show_failure(self, text: str) -> None:
        self.status_label.setText(text)
        self.check_failed.emit(text)

    def _on_check_finished(self, readiness: TFLiteReadiness) -> None:
        verdict = "Some ops are unsupported" if readiness.unsupported else "Every op converts"
        version = f"TensorFlow {readiness.tf_version}'s converter, " if readiness.tf_version else ""
        self.status_label.setText(f"{verdict} ({version}{readiness.seconds:.1f} s)")
        self._fill(readiness)
        self.readiness_shown.emit(readiness)

    def _fill(self, readiness: TFLiteReadiness) -> None:
        self.tree.clear()
        for signature in readiness.signatures:
            summary = f"{signature.key}: {signature.verdict}  ·  {signature.uses_text}"
            top = QTreeWidgetItem([summary])
            top.setToolTip(0, summary)
            self.tree.addTopLevelItem(top)
            top.setFirstColumnSpanned(True)
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            builtins = signature.of_kind(BUILTIN)
            if builtins:
                uses = grouped(signature.count(BUILTIN))
                group = self._row(top, [counted(len(builtins), "builtin op"), "builtin", uses])
                for op in builtins:
                    self._row(group, [op.op, "builtin", grouped(op.count)])
            for op in (*signature.of_kind(FLEX), *signature.of_kind(UNSUPPORTED)):
                self._add_op(top, op)
            for caption, text in (
                ("builtin ops only", signature.builtins_error),
                ("with Select TF ops", signature.select_error),
            ):
                if text:
                    line = "; ".join(text.splitlines())
                    note = QTreeWidgetItem([f"Converter, {caption}", "", "", line])
                    note.setToolTip(3, text)
                    top.addChild(note)
            top.setExpanded(True)
        self.tree.show()
        self._fit_tree()

    def _row(self, parent: QTreeWidgetItem, texts: list[str]) -> QTreeWidgetItem:
        item = QTreeWidgetItem(texts)
        item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        parent.addChild(item)
        return item

    def _add_op(self, top: QTreeWidgetItem, op: TFLiteOp) -> None:
        """A Flex or unsupported op, coloured, with the nodes the converter named (one on
        its own row, several below it)."""
        nodes = op.nodes[:NODES_LISTED]
        first = nodes[0].where if len(nodes) == 1 else ""
        item = self._row(top, [op.op, KIND_NAMES[op.kind], grouped(op.count), first])
        colors = theme.current()
        item.setForeground(1, QColor(colors.accent if op.kind == FLEX else colors.error_border))
        if len(nodes) > 1:
            for node in nodes:
                self._row(item, ["", "", "", node.where])
            if len(op.nodes) > NODES_LISTED:
                more = counted(len(op.nodes) - NODES_LISTED, "more node")
                self._row(item, ["", "", "", f"and {more}"])
            item.setExpanded(True)

    def _fit_tree(self, *_args) -> None:
        """As tall as its rows: the Overview page scrolls, not the tree."""
        rows, item = 0, self.tree.topLevelItem(0)
        while item is not None:
            rows += 1
            item = self.tree.itemBelow(item)
        row_height = self.tree.sizeHintForRow(0) if rows else 0
        header = self.tree.header().sizeHint().height()
        self.tree.setFixedHeight(header + rows * row_height + 6)


if __name__ == "__main__":
    from PySide6.QtWidgets import QApplication

    from smlens.core import open_model
    from smlens.resources import sample_path

    app = QApplication(sys.argv)
    view = TFLiteReadinessView()
    view.show_model(open_model(sys.argv[1] if len(sys.argv) > 1 else sample_path()))
    view.resize(760, 320)
    view.show()
    sys.exit(app.exec())
