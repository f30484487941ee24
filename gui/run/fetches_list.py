"""The run panel's fetches, for a run by tensor names: a checkable list of the graph's
candidate outputs, best first, with the reason each was kept (core.analysis.graph_io), the
detected outputs checked; a box adds any other tensor of the graph by name.

Only the view: the state holds the chosen fetches (``RunState.set_fetches``); this list
says which are checked, in its order, and ``fetches_changed`` when that changes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from smlens.core.analysis.graph_io import graph_io
from smlens.core.model import MetaGraph
from smlens.core.model.text import format_dims, short_dtype
from smlens.core.run.graph_request import tensor_name


class RunFetchesList(QWidget):
    """The tensors a run by names fetches: candidates to check, and any name to add."""

    fetches_changed = Signal(list)  # the checked tensor names, in list order

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.caption = QLabel("Fetches")
        self.caption.setProperty("role", "heading")
        self.list = QListWidget()
        self.list.setToolTip("Check the tensors to fetch; the detected outputs come first")
        self.list.itemChanged.connect(self._on_item_changed)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("another tensor, e.g. dense/BiasAdd:0")
        self.name_edit.setClearButtonEnabled(True)
        self.name_edit.returnPressed.connect(self._on_add_clicked)
        self.add_button = QToolButton()
        self.add_button.setText("Add")
        self.add_button.setToolTip("Fetch this tensor too (the run checks that the graph has it)")
        self.add_button.clicked.connect(self._on_add_clicked)
        adding = QHBoxLayout()
        adding.setContentsMargins(0, 0, 0, 0)
        adding.addWidget(self.name_edit, 1)
        adding.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.list, 1)
        layout.addLayout(adding)

    def set_graph(self, mg: MetaGraph | None, checked: list[str]) -> None:
        """The candidates of ``mg``'s graph, ``checked`` ticked (and listed first when the
        graph has no such candidate)."""
        self.list.blockSignals(True)
        self.list.clear()
        candidates = graph_io(mg).fetches if mg is not None else []
        known = {f.name for f in candidates}
        for name in checked:
            if name not in known:
                self._add_item(name, "", True)
        for fetch in candidates:
            dims = format_dims(fetch.shape.dims) if fetch.shape.dims is not None else ""
            spec = f"{short_dtype(fetch.dtype) if fetch.dtype else ''} {dims}".strip()
            item = self._add_item(fetch.name, spec, fetch.name in checked)
            item.setToolTip(f"{fetch.name}: {fetch.op}, {fetch.reason}")
        self.list.blockSignals(False)
        self._show_count()

    def checked(self) -> list[str]:
        """The checked tensor names, in list order."""
        items = (self.list.item(i) for i in range(self.list.count()))
        return [
            item.data(Qt.ItemDataRole.UserRole)
            for item in items
            if item.checkState() == Qt.CheckState.Checked
        ]

    def _add_item(self, name: str, spec: str, checked: bool) -> QListWidgetItem:
        item = QListWidgetItem(f"{name}   {spec}".rstrip())
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.list.addItem(item)
        return item

    def _show_count(self) -> None:
        chosen = len(self.checked())
        self.caption.setText(f"Fetches ({chosen} of {self.list.count()})")

    def _on_item_changed(self, _item: QListWidgetItem) -> None:
        self._show_count()
        self.fetches_changed.emit(self.checked())

    def _on_add_clicked(self) -> None:
        text = self.name_edit.text().strip()
        if not text:
            return
        name = tensor_name(text)
        names = [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]
        if name in names:
            self.list.item(names.index(name)).setCheckState(Qt.CheckState.Checked)
        else:
            self.list.blockSignals(True)
            self._add_item(name, "", True)
            self.list.blockSignals(False)
            self._on_item_changed(self.list.item(self.list.count() - 1))
        self.name_edit.clear()
