"""The graph panel's top bar: Back, Forward, the breadcrumbs of the place shown, and a box
to open any signature, function or main graph by name."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from smlens.core.graph.nav import GraphRef, Place, signature_place
from smlens.core.model import Model
from smlens.core.model.text import tag_set_text
from smlens.gui.graph.toolbar import tool_bar, tool_button


class GraphNavBar(QWidget):
    """Emits what the user asked for; the panel does it through the graph state."""

    back_requested = Signal()
    forward_requested = Signal()
    place_requested = Signal(object)  # Place

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.back_button = tool_button("◀", "Back", self.back_requested.emit, "Alt+Left")
        self.forward_button = tool_button("▶", "Forward", self.forward_requested.emit, "Alt+Right")
        self.crumbs = QHBoxLayout()
        self.crumbs.setSpacing(0)
        self.crumbs.setContentsMargins(6, 0, 6, 0)
        self.open_combo = QComboBox()
        self.open_combo.setEditable(True)
        self.open_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.open_combo.setMinimumContentsLength(14)
        self.open_combo.setMinimumWidth(90)  # narrow docks: the panel must not widen the window
        self.open_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.open_combo.lineEdit().setPlaceholderText("Open a graph…")
        self.open_combo.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.open_combo.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.open_combo.activated.connect(self._on_open_activated)
        self._places: list = []
        crumbs = QWidget()
        crumbs.setLayout(self.crumbs)
        self.bar = tool_bar()
        for w in (self.back_button, self.forward_button, crumbs, spacer(), self.open_combo):
            self.bar.addWidget(w)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)

    def fill(self, model: Model | None) -> None:
        """One entry per main graph, signature and library function of ``model``."""
        combo = self.open_combo
        combo.clear()
        self._places = []
        for mg in model.meta_graphs if model else []:
            tags = tag_set_text(mg.tag_set)
            self._add(f"main graph [{tags}]", Place((GraphRef(mg.tag_set),)))
            for key in sorted(mg.callable_signatures):
                self._add(f"signature {key} [{tags}]", partial(signature_place, mg, key))
            for name in sorted(mg.functions):
                self._add(name, Place((GraphRef(mg.tag_set, name),)))
        combo.setCurrentIndex(-1)

    def _add(self, text: str, place) -> None:
        self.open_combo.addItem(text)
        self._places.append(place)

    def _on_open_activated(self, index: int) -> None:
        if 0 <= index < len(self._places):
            place = self._places[index]
            self.place_requested.emit(place() if callable(place) else place)
            self.open_combo.setCurrentIndex(-1)

    def show_place(self, place: Place | None, can_back: bool, can_forward: bool) -> None:
        self.back_button.setEnabled(can_back)
        self.forward_button.setEnabled(can_forward)
        while self.crumbs.count():
            widget = self.crumbs.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        if place is None:
            return
        last = len(place.trail) - 1
        for k, ref in enumerate(place.trail):
            if k:
                sep = QLabel(" ▸ ")
                sep.setProperty("role", "muted")
                self.crumbs.addWidget(sep)
            button = QToolButton()
            button.setAutoRaise(True)
            button.setText(short_text(ref.title))
            button.setToolTip(ref.function or ref.title)
            button.setMinimumWidth(28)  # clipped rather than widening the panel
            button.setEnabled(k < last)
            if k == last:
                font = button.font()
                font.setBold(True)
                button.setFont(font)
            button.clicked.connect(partial(self.place_requested.emit, Place(place.trail[: k + 1])))
            self.crumbs.addWidget(button)


def spacer() -> QWidget:
    """Room that pushes the open box to the bar's right end."""
    widget = QWidget()
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    return widget


def short_text(text: str, limit: int = 36) -> str:
    """``text`` cut in the middle to ``limit`` characters: a function's name keeps its
    ends, where generated names differ."""
    return text if len(text) <= limit else text[: limit // 2 - 1] + "…" + text[-limit // 2 :]
