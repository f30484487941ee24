"""The compare window's content: which export is A and which B, the diff's verdict, and six
tabs (changes, signatures, variables, functions, a changed function side by side, and the
outputs of both run on the same inputs).
``python -m smlens.gui.compare.view A B`` opens it alone."""

from __future__ import annotations

import sys
from html import escape

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from smlens.core.diff.changes import Change
from smlens.core.diff.outputs import OutputsDiff, SignatureOutputs, output_changes
from smlens.core.diff.report.summary import DiffSummary, summarize
from smlens.gui.base.widgets import muted_label
from smlens.gui.compare.comparer import Comparer, Comparison, Side, side_path
from smlens.gui.compare.detail import ChangeDetail
from smlens.gui.compare.functions import FunctionComparePanel
from smlens.gui.compare.outputs import OutputsCompareTab
from smlens.gui.compare.signatures import SignatureCompareView
from smlens.gui.compare.split import FunctionSplitView
from smlens.gui.compare.style import severity_color
from smlens.gui.compare.tree import AREA_TITLES, CHANGE_ROLE, ChangeTree
from smlens.gui.compare.variables import VariableComparePanel
from smlens.gui.run.output_diff_table import verdict_color

SWAP_SHORTCUT = "Ctrl+Shift+X"


class CompareView(QWidget):
    """Diffs two exports off the UI thread and shows the result; a newer request or a swap
    drops the older diff."""

    diff_ready = Signal(object)  # Comparison, once every tab shows it
    compare_failed = Signal(str)  # "file: what is wrong"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.comparison: Comparison | None = None
        self.comparer = Comparer(self)
        self.comparer.diff_ready.connect(self._on_comparer_diff_ready)
        self.comparer.compare_failed.connect(self._on_comparer_compare_failed)
        self.comparer.progressed.connect(self._on_comparer_progressed)
        self.comparer.busy_changed.connect(self._on_comparer_busy_changed)

        self.tree = ChangeTree()
        self.detail = ChangeDetail()
        self.tree.change_selected.connect(self.detail.set_change)
        self.tree.activated.connect(self._on_tree_activated)
        self.signatures = SignatureCompareView()
        self.variables = VariableComparePanel()
        self.functions = FunctionComparePanel()
        self.split = FunctionSplitView()
        self.functions.function_selected.connect(self._on_functions_function_selected)
        self.outputs = OutputsCompareTab()
        self.outputs.verdict_changed.connect(self._on_outputs_verdict_changed)

        changes = QSplitter(Qt.Orientation.Horizontal)
        changes.addWidget(self.tree)
        changes.addWidget(self.detail)
        changes.setStretchFactor(0, 3)
        changes.setStretchFactor(1, 2)
        changes.setChildrenCollapsible(False)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(changes, "&Changes")
        self.tabs.addTab(self.signatures, "&Signatures")
        self.tabs.addTab(self.variables, "&Variables")
        self.tabs.addTab(self.functions, "F&unctions")
        self.tabs.addTab(self.split, "Side &by side")
        self.tabs.addTab(self.outputs, "&Outputs")
        self.tabs.currentChanged.connect(self._on_tabs_current_changed)
        for i, tip in enumerate(
            (
                "Every change, grouped by area, worst first (Alt+C)",
                "Signatures of A and B side by side (Alt+S)",
                "Variables sorted by how far their values moved (Alt+V)",
                "Changed functions and their changed nodes (Alt+U)",
                "The function selected in Functions as two graphs, A and B (Alt+B)",
                "Run a signature of A and B on the same inputs and compare the outputs (Alt+O)",
            )
        ):
            self.tabs.setTabToolTip(i, tip)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._build_header())
        layout.addWidget(self.tabs, 1)
        self._show(None)

    def _build_header(self) -> QWidget:
        header = QWidget()
        header.setObjectName("compareHeader")
        self.label_a = QLabel()
        self.label_b = QLabel()
        for label, side in ((self.label_a, "A, the old export"), (self.label_b, "B, the new one")):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setToolTip(side)
        self.swap_button = QToolButton()
        self.swap_button.setText("⇄ Swap")
        self.swap_button.setToolTip(f"Compare B against A instead ({SWAP_SHORTCUT})")
        self.swap_button.setShortcut(QKeySequence(SWAP_SHORTCUT))
        self.swap_button.clicked.connect(self._on_swap_clicked)
        self.verdict = QLabel()
        self.verdict.setObjectName("compareVerdict")
        self.counts = muted_label()
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(160)
        self.progress.setMaximumHeight(12)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = muted_label()

        sides = QHBoxLayout()
        sides.setSpacing(8)
        sides.addWidget(self.label_a, 0)
        sides.addWidget(self.swap_button, 0)
        sides.addWidget(self.label_b, 0)
        sides.addStretch(1)
        sides.addWidget(self.status)
        sides.addWidget(self.progress)
        summary = QHBoxLayout()
        summary.setSpacing(12)
        summary.addWidget(self.verdict)
        summary.addWidget(self.counts)
        summary.addStretch(1)
        self.outputs_verdict = QLabel()
        self.outputs_verdict.setObjectName("compareOutputsVerdict")
        self.outputs_verdict.setWordWrap(True)
        self.outputs_verdict.setToolTip("The last run of the Outputs tab")
        self.outputs_verdict.hide()
        self.areas = QLabel()
        self.areas.setObjectName("compareAreas")
        self.areas.setWordWrap(True)
        self.areas.setToolTip(
            "One line per area, as smlens diff prints it; annotations are "
            "changes no client or serving binary sees"
        )
        box = QVBoxLayout(header)
        box.setContentsMargins(10, 8, 10, 6)
        box.setSpacing(4)
        box.addLayout(sides)
        box.addLayout(summary)
        box.addWidget(self.areas)
        box.addWidget(self.outputs_verdict)
        return header

    # -- requests -------------------------------------------------------------------------

    def compare(self, a: Side, b: Side) -> None:
        """Diff ``a`` (old) against ``b`` (new): paths are opened off the UI thread."""
        self._set_sides(str(side_path(a)), str(side_path(b)))
        self.comparer.compare(a, b)

    def swap(self) -> None:
        if self.comparer.sides is None:
            return
        a, b = self.comparer.sides
        self._set_sides(str(side_path(b)), str(side_path(a)))
        self.comparer.swap()

    def cancel(self) -> None:
        self.comparer.cancel()
        self.outputs.cancel()

    @property
    def busy(self) -> bool:
        return self.comparer.busy

    def _set_sides(self, a: str, b: str) -> None:
        self.label_a.setText(f"<b>A</b>&nbsp; {escape(a)}")
        self.label_b.setText(f"<b>B</b>&nbsp; {escape(b)}")
        self.detail.set_names(a, b)

    # -- results --------------------------------------------------------------------------

    def _show(self, comparison: Comparison | None) -> None:
        self.comparison = comparison
        diff = comparison.diff if comparison else None
        a, b = (comparison.a, comparison.b) if comparison else (None, None)
        self.detail.set_models(a, b)
        self.tree.set_diff(diff)
        self.signatures.set_comparison(a, b, diff)
        self.variables.set_comparison(a, b, diff)
        self.functions.set_diff(diff)
        self.outputs.set_models(a, b)
        if diff is None:
            self.verdict.clear()
            self.counts.clear()
            self.areas.clear()
            return
        self._show_summary(diff)

    def _show_summary(self, diff) -> None:
        """The verdict, counts and area lines of ``diff``, and the tabs' counts."""
        summary = summarize(diff)
        worst = diff.worst_severity
        color = severity_color(worst).name() if worst in ("breaking", "risky") else None
        style = f"color:{color}; " if color else ""
        self.verdict.setText(
            f"<span style='{style}font-weight:600'>{escape(summary.verdict)}</span>"
        )
        same = [p for p, v in diff.identical_parts.items() if v]
        self.counts.setText(
            escape(summary.detail)
            + (" · " if summary.detail and same else "")
            + (f"byte-identical: {', '.join(same)}" if same else "")
        )
        self.areas.setText(_areas_html(summary))
        self._label_tabs(diff)

    def _label_tabs(self, diff) -> None:
        n_vars = sum(row.status != "identical" for row in self.variables.table_model.rows)
        texts = (
            f"&Changes ({len(diff.changes())})",
            f"&Signatures ({len(diff.changes(area='signatures'))})",
            f"&Variables ({n_vars} of {len(self.variables.names())} differ)",
            f"F&unctions ({len(self.functions.function_names())})",
        )
        for i, text in enumerate(texts):
            self.tabs.setTabText(i, text)

    def _on_comparer_diff_ready(self, comparison: Comparison) -> None:
        self._set_sides(str(comparison.a.path), str(comparison.b.path))
        self.status.clear()
        self._show(comparison)
        self.diff_ready.emit(comparison)

    def _on_comparer_compare_failed(self, message: str) -> None:
        self.status.setText("Comparison failed")
        self._show(None)
        self.compare_failed.emit(message)

    def _on_comparer_progressed(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 100))
        self.status.setText(text[:1].upper() + text[1:] + "…" if text else "Comparing…")

    def _on_comparer_busy_changed(self, busy: bool) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(busy)
        self.swap_button.setEnabled(not busy)
        if busy:
            self.status.setText("Comparing…")

    def _on_functions_function_selected(self, change: Change | None) -> None:
        if self.tabs.currentWidget() is self.split:
            self._show_split(change)

    def _on_tabs_current_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.split:
            self._show_split(self.functions.current_change())

    def _show_split(self, change: Change | None) -> None:
        """Graphs are laid out only when the tab is looked at: layout is the slow part."""
        if change is None or self.comparison is None or change is self.split.change:
            return
        if change.kind == "changed":
            self.split.show_function(self.comparison.a, self.comparison.b, change)

    def _on_outputs_verdict_changed(self, line: str) -> None:
        """The Outputs tab's verdict joins the summary line, coloured as in the tab; an
        output beyond tolerance is a risky change of the diff, as ``smlens diff --outputs``
        makes it, so the verdict and the changes tree say so too."""
        self.outputs_verdict.setVisible(bool(line))
        sig = self.outputs.comparison.signature
        self._take_outputs(sig if line else None)
        index = self.tabs.indexOf(self.outputs)
        if sig is None or sig.problem:
            self.tabs.setTabText(index, "&Outputs")
        else:
            self.tabs.setTabText(
                index, f"&Outputs ({len(sig.beyond)} of {len(sig.outputs)} beyond)"
            )
        if not line:
            self.outputs_verdict.clear()
            return
        within = sig is not None and not sig.beyond and not sig.problem
        color = verdict_color(within).name()
        self.outputs_verdict.setText(
            f"<span style='color:{color}; font-weight:600'>outputs: {escape(line)}</span>"
        )

    def _take_outputs(self, sig: SignatureOutputs | None) -> None:
        diff = self.comparison.diff if self.comparison else None
        if diff is None:
            return
        diff.outputs = OutputsDiff([sig]) if sig is not None else None
        diff.groups["outputs"] = output_changes(diff.outputs) if sig is not None else []
        self.tree.set_diff(diff)
        self._show_summary(diff)

    def _on_swap_clicked(self) -> None:
        self.swap()

    def _on_tree_activated(self, index: QModelIndex) -> None:
        """Enter or double-click on a variable or function change opens its tab."""
        change: Change | None = index.data(CHANGE_ROLE)
        if change is None or len(change.path) < 2:
            return
        if change.area == "variables" and self.variables.select_variable(change.path[1]):
            self.tabs.setCurrentWidget(self.variables)
        elif change.area == "signatures":
            self.tabs.setCurrentWidget(self.signatures)
        elif change.area in ("functions", "graph"):
            label = "(main graph)" if change.area == "graph" else change.path[2:3]
            label = label if isinstance(label, str) else "".join(label)
            if self.functions.select_function(label):
                self.tabs.setCurrentWidget(self.functions)


def _areas_html(summary: DiffSummary) -> str:
    """One cell per area, as smlens diff prints one line per area: changed areas in bold,
    unchanged ones muted; the annotations counted by kind below."""
    cells = []
    for line in summary.areas:
        title = escape(AREA_TITLES[line.area])
        text = escape(line.text)
        if line.changed:
            cells.append(f"<td><b>{title}</b><br>{text}</td>")
        else:
            cells.append(f"<td style='color:gray'>{title}<br>{text}</td>")
    html = "<table cellspacing='0' cellpadding='0'><tr>"
    html += "<td width='18'></td>".join(cells) + "</tr></table>"
    if summary.annotations:
        html += f"<span style='color:gray'>Annotations: {escape(summary.annotations)}</span>"
    return html


def main() -> None:
    from smlens.gui.base.preview import application

    app = application()
    if len(sys.argv) != 3:
        sys.exit("usage: python -m smlens.gui.compare.view A B")
    view = CompareView()
    view.setWindowTitle(f"Compare {sys.argv[1]} with {sys.argv[2]}")
    view.compare_failed.connect(print)
    view.resize(1300, 820)
    view.show()
    view.compare(sys.argv[1], sys.argv[2])
    sys.exit(app.exec())


if __name__ == "__main__":
    main()
