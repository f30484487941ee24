"""The run panel's inputs: one row per signature input, pre-filled from its spec, or all of
them from a record of the model's warmup file.

Each row picks a source (a fill, an expression, a file, tf.Examples or strings); building
the values is core's (``input_value``), checking them the run request's, so this file only
edits ``InputSource``s and marks the rows whose values do not fit. A warmup record feeds
its tensors as they are (core's ``record_inputs``, the arrays ``diff --warmup`` feeds);
one that does not fit the signature (core's check, as TF Serving's) says why, and
``not_runnable_reason`` holds the run back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.warmup import (
    record_batch,
    record_inputs,
    record_problems,
    signature_problems,
)
from smlens.core.errors import SmlensError
from smlens.core.formats.warmup import WarmupFile, WarmupRecord
from smlens.core.model import MetaGraph, Signature, TensorInfo
from smlens.core.model.text import counted, format_dims, short_dtype, tensor_type_text
from smlens.core.run.inputs import (
    FILL_MODES,
    InputSource,
    InputsRefused,
    default_source,
    fill_shape,
    input_value,
    numpy_dtype,
)
from smlens.gui.base.theme import current

KINDS = {  # InputSource.kind -> what the combo says
    "fill": "Fill",
    "expr": "Expression",
    "file": "File",
    "examples": "tf.Example",
    "strings": "Strings",
}
PLACEHOLDERS = {
    "expr": "np.ones((2, 3), np.float32)  ·  [[1, 2], [3, 4]]",
    "file": "inputs.npy  or  inputs.npz[name]",
    "examples": '[{"x": [1.0, 2.0], "label": [b"cat"]}]',
    "strings": '["apple", "kiwi"]',
}
FILL_TEXT = {"zeros": "zeros", "ones": "ones", "normal": "random normal", "randint": "random int"}
MAX_BATCH = 1_000_000
EACH_INPUT = "Each input's own source"  # the source combo's first entry: no warmup record
RECORD_PAGE = 2  # InputRow.stack: fill, text, then what a warmup record feeds


def record_text(record: WarmupRecord) -> str:
    """ "Warmup record 0 · predict · batch 2": a record as the source combo lists it."""
    batch = record_batch(record)
    return f"Warmup record {record.index} · {record.kind} · " + (
        f"batch {batch}" if batch is not None else "no batch"
    )


def unchoosable_reason(record: WarmupRecord, signature: Signature) -> str | None:
    """Why ``record`` is no source for ``signature`` (it names another, or is unreadable);
    None when it names ``signature``."""
    if signature.key in record.signatures:
        return None
    if record.signatures:
        named = ", ".join(repr(key) for key in record.signatures)
        return f"for {named}, not {signature.key!r}"
    return record.problem or "names no signature"


def placeholder(kind: str, info: TensorInfo) -> str:
    """The hint in an empty text box, shaped like the input: np.ones((1, 10), np.float32)
    for a [?, 10] float input."""
    if kind != "expr" or info.shape.dims is None or info.dtype == "DT_STRING":
        return PLACEHOLDERS[kind]
    try:
        dtype = numpy_dtype(info)
    except SmlensError:
        return PLACEHOLDERS[kind]
    dims = fill_shape(info, 1)
    maker = f"np.ones({format_dims(dims)}, np.{dtype.name})" if dims else f"np.{dtype.name}(1)"
    return f"{maker}  ·  a literal like [[1, 2], [3, 4]]"


def spec_text(info: TensorInfo) -> str:
    """ "float32 [?, 10]": dtype and shape as the signature gives them."""
    dims = info.shape.dims
    shape = "[unknown rank]" if dims is None else "[" + ", ".join(_dim(d) for d in dims) + "]"
    return f"{short_dtype(info.dtype)} {shape}"


def _dim(d: int) -> str:
    return "?" if d < 0 else str(d)


class InputRow:
    """The widgets of one input, placed in the editor's shared grid so columns line up."""

    def __init__(self, editor: RunInputsEditor, info: TensorInfo, source: InputSource):
        self.editor = editor
        self.info = info
        self.name = QLabel(info.key)
        font = self.name.font()
        font.setBold(True)
        self.name.setFont(font)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name.setToolTip(f"{info.key}: {info.name or info.encoding}")
        self.spec = QLabel(spec_text(info))
        self.spec.setProperty("role", "muted")
        self.spec.setToolTip(f"{info.dtype} {info.shape}")
        self.name_box = QWidget()
        names = QVBoxLayout(self.name_box)
        names.setContentsMargins(0, 0, 0, 0)
        names.setSpacing(0)
        names.addWidget(self.name)
        names.addWidget(self.spec)

        self.kind = QComboBox()
        for kind, text in KINDS.items():
            self.kind.addItem(text, kind)
        self.kind.currentIndexChanged.connect(editor._on_row_kind_changed)

        self.fill = QComboBox()
        for mode in FILL_MODES:
            self.fill.addItem(FILL_TEXT[mode], mode)
        self.fill.currentIndexChanged.connect(editor._on_row_fill_changed)
        self.low = QSpinBox()
        self.high = QSpinBox()
        for spin, prefix in ((self.low, "from "), (self.high, "to ")):
            spin.setRange(-(2**31), 2**31 - 1)
            spin.setPrefix(prefix)
            spin.setMaximumWidth(84)
        self.high.setToolTip("exclusive")
        self.fill_note = QLabel()
        self.fill_note.setProperty("role", "muted")
        self.fill_note.setToolTip("The shape filled: unknown dims take the batch size (first) or 1")
        fill_page = QWidget()
        row = QHBoxLayout(fill_page)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.fill)
        row.addWidget(self.low)
        row.addWidget(self.high)
        row.addWidget(self.fill_note)
        row.addStretch(1)

        self.text = QLineEdit()
        self.text.setClearButtonEnabled(True)
        self.text.textChanged.connect(editor._on_row_text_edited)
        self.browse = QToolButton()
        self.browse.setText("…")
        self.browse.setToolTip("Choose a .npy or .npz file")
        self.browse.clicked.connect(editor._on_row_browse_clicked)
        text_page = QWidget()
        row = QHBoxLayout(text_page)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text, 1)
        row.addWidget(self.browse)

        self.record_value = QLabel()
        self.record_value.setProperty("role", "muted")
        self.record_value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.stack = QStackedWidget()
        self.stack.addWidget(fill_page)
        self.stack.addWidget(text_page)
        self.stack.addWidget(self.record_value)  # RECORD_PAGE
        # The error sits under the row's controls in space kept for it, so a bad input
        # never moves the rows below (the next click lands where it was aimed).
        self.error = QLabel()
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        keep = self.error.sizePolicy()
        keep.setRetainSizeWhenHidden(True)
        self.error.setSizePolicy(keep)
        self.error.hide()
        self.params = QWidget()
        column = QVBoxLayout(self.params)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.stack)
        column.addWidget(self.error)
        self._texts: dict[str, str] = {}
        self.set_source(source)

    def widgets(self) -> list[QWidget]:
        return [self.name_box, self.kind, self.params]

    def set_source(self, source: InputSource) -> None:
        self._texts[source.kind] = source.text
        for combo, value in ((self.kind, source.kind), (self.fill, source.fill)):
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(value)))
            combo.blockSignals(False)
        self.low.setValue(source.low)
        self.high.setValue(source.high)
        self.update_params()

    def source(self) -> InputSource:
        kind = self.kind.currentData()
        return InputSource(
            kind,
            self.fill.currentData(),
            self.low.value(),
            self.high.value(),
            self.text.text() if kind != "fill" else "",
        )

    def update_params(self) -> None:
        """Show the controls of the chosen kind; each kind keeps its own text."""
        kind = self.kind.currentData()
        self.stack.setCurrentIndex(0 if kind == "fill" else 1)
        randint = self.fill.currentData() == "randint"
        self.low.setVisible(randint)
        self.high.setVisible(randint)
        self.fill_note.setText(self._fill_note())
        if kind != "fill":
            self.text.setText(self._texts.get(kind, ""))
            self.text.setPlaceholderText(placeholder(kind, self.info))
        self.browse.setVisible(kind == "file")

    def _fill_note(self) -> str:
        dims = fill_shape(self.info, self.editor.batch_size())
        return "→ (" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"

    def show_record(self, text: str | None) -> None:
        """Show what a warmup record feeds this input (``text``) in place of its own
        source's controls; None brings those back."""
        self.kind.setVisible(text is None)
        if text is None:
            self.update_params()
            return
        self.record_value.setText(text)
        self.record_value.setToolTip(text)
        self.stack.setCurrentIndex(RECORD_PAGE)
        self.set_error(None)

    def remember_text(self) -> None:
        self._texts[self.kind.currentData()] = self.text.text()

    def set_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setToolTip(message or "")
        self.error.setStyleSheet("color: #ef9a9a;" if current().dark else "color: #c62828;")
        self.error.setVisible(bool(message))


class RunInputsEditor(QWidget):
    """The batch size, the seed and a row per input of one signature."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.signature: Signature | None = None
        self.meta_graph: MetaGraph | None = None
        self.rows: dict[str, InputRow] = {}
        self.start_dir = str(Path.home())
        self.warmup: WarmupFile | None = None
        self._record: WarmupRecord | None = None  # the chosen source, when not each input's
        self._record_values: dict[str, Any] = {}
        self._record_problems: list[str] = []

        self.batch = QSpinBox()
        self.batch.setRange(1, MAX_BATCH)
        self.batch.setPrefix("batch ")
        self.batch.setToolTip("The size of unknown dims when filling: the first; others get 1")
        self.batch.valueChanged.connect(self._on_batch_changed)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setPrefix("seed ")
        self.seed.setToolTip("Random fills are seeded (seed + input index), so runs compare")
        for spin in (self.batch, self.seed):
            spin.setMaximumWidth(110)
        self.reset_button = QToolButton()
        self.reset_button.setText("Reset")
        self.reset_button.setToolTip("Fill every input from its spec again")
        self.reset_button.clicked.connect(self._on_reset_clicked)
        self.caption = QLabel("Inputs")
        self.caption.setProperty("role", "heading")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.caption)
        top.addStretch(1)
        top.addWidget(self.batch)
        top.addWidget(self.seed)
        top.addWidget(self.reset_button)

        # The warmup row: only for a model that ships a warmup file.
        self.record_combo = QComboBox()
        self.record_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.record_combo.setMinimumContentsLength(12)
        self.record_combo.setToolTip(
            "Feed a record of the model's TF Serving warmup file "
            "(assets.extra/tf_serving_warmup_requests) as it is"
        )
        self.record_combo.currentIndexChanged.connect(self._on_record_changed)
        source_label = QLabel("Source")
        source_label.setProperty("role", "muted")
        source_label.setBuddy(self.record_combo)
        self.record_problem = QLabel()
        self.record_problem.setWordWrap(True)
        self.record_problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.record_problem.hide()
        self.warmup_box = QWidget()
        warmup_column = QVBoxLayout(self.warmup_box)
        warmup_column.setContentsMargins(0, 0, 0, 0)
        warmup_column.setSpacing(2)
        warmup_row = QHBoxLayout()
        warmup_row.setContentsMargins(0, 0, 0, 0)
        warmup_row.addWidget(source_label)
        warmup_row.addWidget(self.record_combo, 1)
        warmup_column.addLayout(warmup_row)
        warmup_column.addWidget(self.record_problem)
        self.warmup_box.hide()

        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 4, 0)
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(4)
        self.empty = QLabel()
        self.empty.setProperty("role", "muted")
        self.empty.setWordWrap(True)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        holder = QWidget()
        inner = QVBoxLayout(holder)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.grid_host)
        inner.addWidget(self.empty)
        inner.addStretch(1)
        scroll.setWidget(holder)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.warmup_box)
        layout.addWidget(scroll, 1)
        self.set_signature(None)

    # -- public -----------------------------------------------------------------------

    def batch_size(self) -> int:
        return self.batch.value()

    def set_signature(self, signature: Signature | None, mg: MetaGraph | None = None) -> None:
        """One row per input of ``signature``, each pre-filled from its spec (and from the
        graph's ParseExample for tf.Example inputs, when ``mg`` is given)."""
        self.signature = signature
        self.meta_graph = mg
        for row in self.rows.values():
            for widget in row.widgets():
                self.grid.removeWidget(widget)
                widget.deleteLater()
        self.rows = {}
        if signature is None:
            self.empty.setText("Choose a signature to fill its inputs.")
        elif not signature.inputs:
            self.empty.setText("This signature takes no inputs.")
        self.empty.setVisible(signature is None or not signature.inputs)
        for i, (key, info) in enumerate((signature.inputs if signature else {}).items()):
            row = self.rows[key] = InputRow(self, info, default_source(signature, info, mg))
            self.grid.addWidget(row.name_box, i, 0, Qt.AlignmentFlag.AlignTop)
            self.grid.addWidget(row.kind, i, 1, Qt.AlignmentFlag.AlignTop)
            self.grid.addWidget(row.params, i, 2, Qt.AlignmentFlag.AlignTop)
            if key in signature.defaults:
                row.spec.setText(row.spec.text() + " · has a default")
        self.grid.setColumnStretch(2, 1)
        self.caption.setText(f"Inputs ({len(self.rows)})" if signature else "Inputs")
        self._fill_records()

    def set_warmup(self, warmup: WarmupFile | None) -> None:
        """The model's warmup file (None: it ships none): its records become sources,
        those naming the chosen signature choosable, the others greyed with why."""
        self.warmup = warmup
        self._fill_records()

    def choose_record(self, index: int | None) -> bool:
        """Feed warmup record ``index`` (None: each input's own source again); False when
        there is no such record or it names another signature."""
        found = self.record_combo.findData(index)
        item = self.record_combo.model().item(found) if found >= 0 else None
        if item is None or not item.isEnabled():
            return False
        self.record_combo.setCurrentIndex(found)
        return True

    def chosen_record(self) -> WarmupRecord | None:
        """The warmup record fed, or None when each input has its own source."""
        return self._record

    def not_runnable_reason(self) -> str | None:
        """Why these inputs cannot be run as chosen (a warmup record that does not fit the
        signature); None when they can be tried."""
        if self._record is None or not self._record_problems:
            return None
        return f"Not run: record {self._record.index}: {self._record_problems[0]}"

    def set_source(self, key: str, source: InputSource) -> None:
        self.rows[key].set_source(source)
        self.rows[key].set_error(None)

    def sources(self) -> dict[str, InputSource]:
        return {key: row.source() for key, row in self.rows.items()}

    def values(self) -> dict[str, Any]:
        """Every input's value, built from its row's source (the run request checks them
        against the signature); InputsRefused names each input whose value cannot be built.
        With a warmup record chosen, the record's own arrays."""
        if self._record is not None:
            return dict(self._record_values)
        values: dict[str, Any] = {}
        errors: dict[str, SmlensError] = {}
        seed = self.seed.value()
        for i, (key, row) in enumerate(self.rows.items()):
            try:
                values[key] = input_value(row.info, row.source(), self.batch_size(), seed + i)
            except SmlensError as e:
                errors[key] = e
        if errors:
            raise InputsRefused(errors)
        return values

    def show_errors(self, errors: dict[str, str]) -> None:
        """Mark each input at fault in its row, and clear the others."""
        for key, row in self.rows.items():
            row.set_error(errors.get(key))

    # -- warmup records ---------------------------------------------------------------

    def _fill_records(self) -> None:
        """List the warmup file's records for the chosen signature; none is chosen."""
        combo = self.record_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(EACH_INPUT, None)
        records = self.warmup.records if self.warmup else ()
        for record in records:
            why = unchoosable_reason(record, self.signature) if self.signature else "no signature"
            combo.addItem(record_text(record) + (f" — {why}" if why else ""), record.index)
            item = combo.model().item(combo.count() - 1)
            item.setToolTip(why or ", ".join(record.signatures))
            item.setEnabled(why is None)
        if self.warmup is not None and self.warmup.problem:
            combo.addItem(f"Reading stopped: {self.warmup.problem}", -1)
            combo.model().item(combo.count() - 1).setEnabled(False)
        combo.setCurrentIndex(0)
        combo.blockSignals(False)
        self.warmup_box.setVisible(self.warmup is not None and self.signature is not None)
        self._show_record(None)

    def _show_record(self, record: WarmupRecord | None) -> None:
        """Feed ``record`` (or each input's own source): its arrays, its rows' texts and
        the problems that keep it from running."""
        self._record = record
        self._record_values, self._record_problems = {}, []
        if record is not None:
            self._record_problems = self._problems_of(record)
            try:
                self._record_values = record_inputs(record, self.signature)
            except SmlensError as e:
                self._record_problems.append(e.message)
        for key, row in self.rows.items():
            row.show_record(None if record is None else self._row_text(record, key))
        for spin in (self.batch, self.seed):
            spin.setEnabled(record is None)
        lines = [f"record {record.index}: {text}" for text in self._record_problems]
        self.record_problem.setText("\n".join(lines))
        self.record_problem.setStyleSheet(
            "color: #ef9a9a;" if current().dark else "color: #c62828;"
        )
        self.record_problem.setVisible(bool(lines))

    def _problems_of(self, record: WarmupRecord) -> list[str]:
        """Why TF Serving would refuse ``record`` (against the whole meta graph, as it
        loads it), or, without one, why it does not fit the chosen signature."""
        if self.meta_graph is not None:
            return record_problems(record, self.meta_graph)
        return signature_problems(record, self.signature)

    def _row_text(self, record: WarmupRecord, key: str) -> str:
        """ "float32 (2, 3) from record 0", or why the record feeds this input nothing."""
        value = self._record_values.get(key)
        if value is None:
            default = " (its default)" if key in self.signature.defaults else ""
            return f"not in record {record.index}{default}"
        if key in record.inputs:
            fed = tensor_type_text(record.inputs[key].dtype, value.shape)
        else:
            fed = counted(len(record.examples), "serialized tf.Example")
        return f"{fed} from record {record.index}"

    # -- events -----------------------------------------------------------------------

    def _on_record_changed(self, _index: int) -> None:
        index = self.record_combo.currentData()
        records = {record.index: record for record in (self.warmup.records if self.warmup else ())}
        self._show_record(records.get(index))
        self.changed.emit()

    def _row_of(self, widget: QWidget) -> InputRow | None:
        for row in self.rows.values():
            if widget in (row.kind, row.fill, row.text, row.browse):
                return row
        return None

    def _on_row_kind_changed(self, _index: int) -> None:
        row = self._row_of(self.sender())
        if row is not None:
            row.update_params()
            row.set_error(None)
            self.changed.emit()

    def _on_row_fill_changed(self, _index: int) -> None:
        row = self._row_of(self.sender())
        if row is not None:
            row.update_params()
            self.changed.emit()

    def _on_row_text_edited(self, _text: str) -> None:
        row = self._row_of(self.sender())
        if row is not None:
            row.remember_text()
            row.set_error(None)
            self.changed.emit()

    def _on_row_browse_clicked(self) -> None:
        row = self._row_of(self.sender())
        if row is None:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, f"Values for {row.info.key}", self.start_dir, "NumPy (*.npy *.npz)"
        )
        if path:
            row.text.setText(path)
            row.remember_text()
            row.set_error(None)

    def _on_batch_changed(self, _value: int) -> None:
        for row in self.rows.values():
            row.update_params()
        self.changed.emit()

    def _on_reset_clicked(self) -> None:
        self.set_signature(self.signature, self.meta_graph)
        self.changed.emit()
