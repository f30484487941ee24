"""What two exports computed on the same inputs, for one signature: the verdict line, a row
per output coloured by tolerance, and for the output picked the histogram of |Δ| and the
elements that moved most. The compare window's Outputs tab and the Run panel's comparison
with another export both show it.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from smlens.core.diff.output_elements import OutputElements, output_elements
from smlens.core.diff.output_run import OutputRun
from smlens.core.diff.outputs import SignatureOutputs, signature_line
from smlens.core.model.text import counted
from smlens.gui.base.widgets import heading_label, muted_label
from smlens.gui.run.output_diff_table import (
    STATS_ROLE,
    OutputDiffTableModel,
    output_diff_table,
    verdict_color,
)
from smlens.gui.run.worst_elements import WorstElementsTable


class OutputComparisonView(QWidget):
    """One signature of an OutputRun: its verdict, its outputs and the chosen one's elements."""

    output_selected = Signal(str)  # the key of the output whose elements are shown

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.run: OutputRun | None = None
        self.signature: SignatureOutputs | None = None
        self.elements: OutputElements | None = None
        self.verdict = QLabel()
        self.verdict.setObjectName("outputsVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.how = muted_label()
        self.how.setWordWrap(True)
        self.table_model = OutputDiffTableModel(self)
        self.table = output_diff_table(self.table_model)
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)

        self._histogram = None  # built on first use: pyqtgraph costs start-up time
        self._histogram_page = QWidget()
        QVBoxLayout(self._histogram_page).setContentsMargins(0, 0, 0, 0)
        self.histogram_caption = heading_label("|Δ| of the chosen output")
        self.histogram_note = muted_label()
        self.histogram_note.setWordWrap(True)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(self.histogram_caption)
        left_box.addWidget(self.histogram_note)
        left_box.addWidget(self._histogram_page, 1)
        self.worst = WorstElementsTable()
        self.worst_caption = heading_label("Worst elements")
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.addWidget(self.worst_caption)
        right_box.addWidget(self.worst, 1)
        below = QSplitter(Qt.Orientation.Horizontal)
        below.addWidget(left)
        below.addWidget(right)
        below.setStretchFactor(0, 3)
        below.setStretchFactor(1, 2)
        below.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(below)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.verdict)
        layout.addWidget(self.how)
        layout.addWidget(self.splitter, 1)
        self.set_run(None)

    @property
    def histogram(self):
        """The |Δ| plot, built on first use (pyqtgraph is imported then)."""
        if self._histogram is None:
            from smlens.gui.run.output_delta_histogram import OutputDeltaHistogram

            self._histogram = OutputDeltaHistogram()
            self._histogram_page.layout().addWidget(self._histogram)
        return self._histogram

    # -- public ---------------------------------------------------------------------------

    def set_run(self, run: OutputRun | None, signature: str | None = None) -> None:
        """Show ``signature`` of ``run`` (its first one by default), or nothing."""
        self.run = run
        sig = None
        if run is not None and run.diff.signatures:
            sig = run.signature(signature) if signature else run.diff.signatures[0]
        self.signature = sig
        self.table_model.set_signature(sig)
        self.table.resizeColumnsToContents()
        self._show_verdict(run, sig)
        self._show_elements(None)
        if sig is not None and sig.outputs:
            beyond = [i for i, s in enumerate(self.table_model.rows) if not s.within]
            self.table.selectRow(beyond[0] if beyond else 0)

    def verdict_text(self) -> str:
        """The verdict line as plain text ("" before a run)."""
        if self.signature is None:
            return ""
        return signature_line(self.signature)

    def select_output(self, key: str) -> bool:
        for row, stats in enumerate(self.table_model.rows):
            if stats.key == key:
                self.table.selectRow(row)
                return True
        return False

    # -- showing --------------------------------------------------------------------------

    def _show_verdict(self, run: OutputRun | None, sig: SignatureOutputs | None) -> None:
        if run is None:
            self.verdict.setText("")
            self.how.setText("")
            return
        if sig is None:
            notes = "; ".join(run.diff.notes)
            self.verdict.setText(escape("Nothing compared" + (f": {notes}" if notes else "")))
            self.how.setText("")
            return
        within = not sig.beyond and not sig.problem
        color = verdict_color(within).name()
        self.verdict.setText(
            f"<span style='color:{color}; font-weight:600'>{escape(signature_line(sig))}</span>"
        )
        calls = counted(sig.runs, "call")
        how = f"{sig.signature}: {sig.inputs}; {calls}, {run.diff.how}, {run.diff.seconds:.2f} s"
        if run.diff.notes:
            how += " · " + "; ".join(run.diff.notes)
        self.how.setText(how)

    def _show_elements(self, key: str | None) -> None:
        pair = self.run.pair(self.signature.signature) if key and self.run else None
        if pair is None or not pair.calls:
            self.elements = None
            self.histogram_caption.setText("|Δ| of the chosen output")
            self.histogram_note.setText("Run both, then pick an output.")
            self.worst.set_elements([])
            if self._histogram is not None:
                self._histogram.clear_counts()
            return
        self.elements = elements = output_elements(pair, key)
        self.histogram_caption.setText(f"|Δ| of {key}")
        note = elements.note
        if not note:
            note = f"{elements.count:,} elements"
            if elements.nonfinite:
                note += f", {elements.nonfinite:,} NaN or Inf on one side only (not binned)"
        self.histogram_note.setText(note)
        self.worst_caption.setText(f"Worst elements of {key}")
        self.worst.set_elements(elements.worst)
        if elements.counts.size:
            self.histogram.set_counts(elements.edges, elements.counts)
        elif self._histogram is not None:
            self._histogram.clear_counts()
        self.output_selected.emit(key)

    def _on_table_selection_changed(self, _selected: QItemSelection, _deselected) -> None:
        rows = self.table.selectionModel().selectedRows()
        stats = rows[0].data(STATS_ROLE) if rows else None
        self._show_elements(stats.key if stats is not None else None)
