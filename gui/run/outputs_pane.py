"""The run panel's right side: the shown run's outputs (or the inputs it was fed), their
statistics and Δ against a baseline, the timings and what the worker printed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.stats import tensor_stats
from smlens.core.errors import SmlensError
from smlens.core.run.client import RunResult
from smlens.core.run.messages import timings_text
from smlens.core.run.state import PREVIOUS, RunRecord, RunState
from smlens.gui.run.outputs import OutputTableModel
from smlens.gui.tensor.view import TensorView

TIMINGS_TIP = (
    "Load: reading the model into the worker. First call: includes tracing. "
    "Warm: the calls after the first (set repeat)."
)


def inputs_record(record: RunRecord) -> RunRecord:
    """The run's inputs shaped as a record, so the outputs table can show them."""
    fed = RunResult(record.inputs, {}, 0.0, 0.0, [], device=record.device)
    stats = {key: tensor_stats(value) for key, value in record.inputs.items()}
    return RunRecord(record.number, record.signature, record.device, fed, stats)


class RunOutputsPane(QWidget):
    """Observes a RunState's runs and baselines; the chosen value goes to ``tensor_view``."""

    def __init__(
        self,
        state: RunState,
        tensor_view: TensorView,
        show_error: Callable[[str | None], None],
        show_status: Callable[[str], None],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.state = state
        self.tensor_view = tensor_view
        self.show_error = show_error
        self.show_status = show_status
        self.start_dir = str(Path.home())
        self._build()
        state.observe("runs", self._on_runs_changed)
        state.observe("baselines", self._on_baselines_changed)
        self._on_runs_changed()

    def _build(self) -> None:
        self.output_caption = QLabel("Outputs")
        self.output_caption.setProperty("role", "heading")
        self.timings_label = QLabel()  # one line, clipped on a narrow panel (full text on hover)
        self.timings_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.timings_label.setToolTip(TIMINGS_TIP)
        self.timings_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.values_combo = QComboBox()
        self.values_combo.addItem("Outputs", "outputs")
        self.values_combo.addItem("Inputs as run", "inputs")
        self.values_combo.setToolTip("Show the run's outputs or the input values it was fed")
        self.values_combo.currentIndexChanged.connect(self._on_values_changed)
        self.table_model = OutputTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.table_model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        self.table.selectionModel().selectionChanged.connect(self._on_output_selected)

        self.save_button = QPushButton("Save .npz…")
        self.save_button.setToolTip("Save every output of the shown run to one .npz file")
        self.save_button.clicked.connect(self._on_save_clicked)
        self.compare_combo = QComboBox()
        self.compare_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.compare_combo.setMinimumContentsLength(10)
        self.compare_combo.setToolTip("The Δ column compares each output with this")
        self.compare_combo.currentIndexChanged.connect(self._on_compare_changed)
        self.load_button = QPushButton("Load .npz…")
        self.load_button.setToolTip("Compare with outputs saved earlier")
        self.load_button.clicked.connect(self._on_load_clicked)
        compare_label = QLabel("Δ vs")
        compare_label.setProperty("role", "muted")
        self.compare_note = QLabel()
        self.compare_note.setProperty("role", "muted")
        self.compare_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        tools = QHBoxLayout()
        tools.addWidget(compare_label)
        tools.addWidget(self.compare_combo)
        tools.addWidget(self.load_button)
        tools.addWidget(self.compare_note, 1)
        tools.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        caption_row = QHBoxLayout()
        caption_row.addWidget(self.output_caption, 1)
        caption_row.addWidget(self.values_combo)
        layout.addLayout(caption_row)
        layout.addWidget(self.timings_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(tools)
        self.printed = QPlainTextEdit()
        self.printed.setReadOnly(True)
        self.printed.setMaximumHeight(90)
        self.printed.setPlaceholderText("What the model printed (tf.print) and TF's warnings")
        self.printed.setToolTip("What the worker printed during the shown run")
        self.printed.hide()
        layout.addWidget(self.printed)

    # -- outputs --------------------------------------------------------------------------

    def _on_runs_changed(self) -> None:
        """A run was added (or the runs were cleared): show the newest."""
        previous = self._selected_key()
        record = self.state.shown
        self._fill_table(record)
        if record is None:
            self.output_caption.setText("Outputs")
            self.timings_label.setText("")
            self.printed.clear()
            self.printed.hide()
        else:
            self.output_caption.setText(f"{record.label}")
            self.timings_label.setText(timings_text(record.result))
            self.timings_label.setToolTip(timings_text(record.result) + "\n\n" + TIMINGS_TIP)
            self.printed.setPlainText(record.result.output.strip())
            self.printed.setVisible(bool(record.result.output.strip()))
        self._on_baselines_changed()
        keys = self.table_model.keys
        if keys:
            self.select_output(previous if previous in keys else keys[0])
        self.save_button.setEnabled(record is not None)

    def _fill_table(self, record: RunRecord | None) -> None:
        if record is not None and self.values_combo.currentData() == "inputs":
            signature = self.state.meta_graph().signatures.get(record.signature)
            order = list(signature.inputs) if signature else list(record.inputs)  # by names
            self.table_model.set_record(inputs_record(record), order)
        else:
            self.table_model.set_record(record, self.state.output_order())

    def _on_values_changed(self, _index: int) -> None:
        self._on_runs_changed()

    def select_output(self, key: str) -> None:
        row = self.table_model.keys.index(key)
        self.table.selectRow(row)

    def _selected_key(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table_model.keys[rows[0].row()] if rows else None

    def _on_output_selected(self, _selected: QItemSelection, _deselected: QItemSelection):
        key = self._selected_key()
        if key is not None and self.table_model.record is not None:
            self.tensor_view.show_array(key, self.table_model.record.outputs[key])

    # -- comparing and saving -------------------------------------------------------------

    def _on_baselines_changed(self) -> None:
        combo = self.compare_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem("previous run", PREVIOUS)
        combo.addItem("nothing", "")
        for path in self.state.baselines:
            combo.addItem(Path(path).name, path)
            combo.setItemData(combo.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        index = combo.findData(self.state.compare_with)
        combo.setCurrentIndex(index if index >= 0 else 0)
        combo.blockSignals(False)
        showing_outputs = self.values_combo.currentData() == "outputs"
        self.table_model.set_deltas(self.state.deltas() if showing_outputs else {})
        short, full = self.state.compare_note()
        self.compare_note.setText(short)
        self.compare_note.setToolTip(full)

    def _on_compare_changed(self, _index: int) -> None:
        self.state.choose_baseline(self.compare_combo.currentData())

    def _on_save_clicked(self) -> None:
        record = self.state.shown
        start = Path(self.start_dir) / f"{record.signature}-run{record.number}.npz"
        path, _ = QFileDialog.getSaveFileName(self, "Save outputs", str(start), "NumPy (*.npz)")
        if not path:
            return
        try:
            saved = self.state.save_outputs(path)
        except (SmlensError, OSError) as e:
            self.show_error(f"Not saved: {e}")
        else:
            self.show_status(f"Saved {saved.name}")

    def _on_load_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Compare with outputs", self.start_dir, "NumPy (*.npz *.npy)"
        )
        if not path:
            return
        try:
            self.state.load_baseline(path)
        except SmlensError as e:
            self.show_error(str(e))
