"""The run panel's inputs: one row per signature input, pre-filled from its spec.

Each row picks a source (a fill, an expression, a file, tf.Examples or strings); building
the values is core's (``input_value``), checking them the run request's, so this file only
edits ``InputSource``s and marks the rows whose values do not fit.
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

from smlens.core.errors import SmlensError
from smlens.core.model import MetaGraph, Signature, TensorInfo
from smlens.core.model.text import format_dims, short_dtype
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

        self.stack = QStackedWidget()
        self.stack.addWidget(fill_page)
        self.stack.addWidget(text_page)
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

    def set_source(self, key: str, source: InputSource) -> None:
        self.rows[key].set_source(source)
        self.rows[key].set_error(None)

    def sources(self) -> dict[str, InputSource]:
        return {key: row.source() for key, row in self.rows.items()}

    def values(self) -> dict[str, Any]:
        """Every input's value, built from its row's source (the run request checks them
        against the signature); InputsRefused names each input whose value cannot be built."""
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

    # -- events -----------------------------------------------------------------------

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
