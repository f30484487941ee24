"""The graph panel's tool bar: search (a regex over names, ops or attrs), the match count,
Clear trace, Fit, Expand, Collapse, Export, Fold weights and Details; and the flat tool bar,
buttons and shortcuts the panel's bars are made of."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QToolBar,
    QToolButton,
    QWidget,
)

SEARCH_FIELDS = {
    "name, op, attr": ("name", "op", "attr"),
    "name": ("name",),
    "op": ("op",),
    "attr": ("attr",),
}


class GraphToolbar(QWidget):
    """Emits what the user asked for; the panel and its search do it."""

    fit_requested = Signal()
    expand_all_requested = Signal()
    collapse_all_requested = Signal()
    clear_trace_requested = Signal()
    export_requested = Signal(str)  # "png" | "svg"
    details_toggled = Signal(bool)  # show the inspector beside the canvas
    fold_toggled = Signal(bool)  # draw weights inside their consumers

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search name, op or attr (regex)")
        self.search_edit.setMinimumWidth(60)
        self.search_edit.setClearButtonEnabled(True)
        self.search_fields = QComboBox()
        self.search_fields.addItems(list(SEARCH_FIELDS))
        self.search_fields.setMinimumWidth(60)
        self.match_label = QLabel()
        self.match_label.setProperty("role", "muted")
        self.clear_trace_button = tool_button(
            "Clear trace", "Stop highlighting the trace", self.clear_trace_requested.emit, "Esc"
        )
        self.fit_button = tool_button(
            "Fit", "Fit the graph to the view", self.fit_requested.emit, "F"
        )
        self.expand_button = tool_button(
            "Expand", "Open every name scope", self.expand_all_requested.emit
        )
        self.collapse_button = tool_button(
            "Collapse", "Close every name scope", self.collapse_all_requested.emit
        )
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setAutoRaise(True)
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("PNG image…").setData("png")
        menu.addAction("SVG drawing…").setData("svg")
        menu.triggered.connect(lambda action: self.export_requested.emit(action.data()))
        self.export_button.setMenu(menu)
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setToolTip("Show or hide the inspector (I)")
        self.details_button.setAutoRaise(True)
        self.details_button.setCheckable(True)
        self.details_button.setChecked(True)
        self.details_button.toggled.connect(self.details_toggled.emit)
        self.fold_button = QToolButton()
        self.fold_button.setText("Fold weights")
        self.fold_button.setToolTip(
            "Draw variables, their reads and small constants inside the ops using them"
        )
        self.fold_button.setAutoRaise(True)
        self.fold_button.setCheckable(True)
        self.fold_button.setChecked(True)
        self.fold_button.toggled.connect(self.fold_toggled.emit)
        bar = tool_bar()
        bar.addWidget(self.search_edit)
        bar.addWidget(self.search_fields)
        bar.addWidget(self.match_label)
        self._clear_trace_action = bar.addWidget(self.clear_trace_button)
        self._clear_trace_action.setVisible(False)
        buttons = (self.fit_button, self.expand_button, self.collapse_button, self.export_button)
        for w in (*buttons, self.fold_button, self.details_button):
            bar.addWidget(w)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(bar)

    @property
    def fields(self) -> tuple[str, ...]:
        return SEARCH_FIELDS[self.search_fields.currentText()]

    def show_clear_trace(self, shown: bool) -> None:
        self._clear_trace_action.setVisible(shown)


def tool_bar() -> QToolBar:
    """A tool bar, not a row: a narrow dock folds its end into a » menu instead of
    widening the window."""
    bar = QToolBar()
    bar.setMovable(False)
    bar.setFloatable(False)
    bar.setStyleSheet("QToolBar { border: none; padding: 0; spacing: 3px; }")
    return bar


def tool_button(
    text: str, tip: str, slot, shortcut: str | None = None, owner: QWidget | None = None
) -> QToolButton:
    """A flat button calling ``slot()`` (no ``checked`` argument: ``clicked`` passes one,
    which once made Fit zoom out to a speck); ``shortcut`` works anywhere in ``owner``."""
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip + (f" ({shortcut})" if shortcut else ""))
    button.setAutoRaise(True)
    button.clicked.connect(lambda _checked=False: slot())
    if shortcut and owner is not None:
        add_shortcut(owner, shortcut, slot)
    return button


def add_shortcut(owner: QWidget, shortcut: str, slot) -> QAction:
    action = QAction(owner)
    action.setShortcut(QKeySequence(shortcut))
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.triggered.connect(lambda _checked=False: slot())
    owner.addAction(action)
    return action
