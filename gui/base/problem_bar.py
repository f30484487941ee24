"""The message bar at the top of the window: errors and warnings as "file: what is wrong".

It is a toolbar so it spans the whole window above the docks; it hides itself when empty
and when the user closes it.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyle,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from smlens.core.errors import Problem
from smlens.core.model.text import counted, relative_to
from smlens.gui.base.theme import RESOURCES

SHOWN_LINES = 5
OUTSIDE = "outside the model folder"  # the words the reader's outside-path warnings carry


class _Holder(QWidget):
    """The bar's content: it asks for little width, so a long message never widens the
    window nor lands in the toolbar's overflow menu."""

    def __init__(self):
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def sizeHint(self) -> QSize:
        return QSize(120, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(120, super().minimumSizeHint().height())


class ProblemBar(QToolBar):
    """Lists errors (red) or a model's warnings (amber); the close button clears and hides it."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Problems", parent)
        self.setObjectName("problemBar")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self._lines: list[str] = []
        self._level = "warning"
        self._expanded = False

        self._frame = QFrame()
        self._frame.setObjectName("problemFrame")
        self._icon = QLabel(self._frame)
        self._icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._text = QLabel(self._frame)
        self._text.setObjectName("problemText")
        self._text.setTextFormat(Qt.TextFormat.RichText)
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._text.setWordWrap(True)
        # Toolbars size items by their size hints, which ignore wrapping: the label takes the
        # width it is given, and _fit_text sets the height that width needs.
        self._text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._text.setMinimumWidth(1)
        self._more = QToolButton(self._frame)
        self._more.setAutoRaise(True)
        self._more.clicked.connect(self._on_more_clicked)
        self._close = QToolButton(self._frame)
        self._close.setObjectName("problemClose")
        self._close.setAutoRaise(True)
        self._close.setToolTip("Dismiss")
        self._close.setIcon(QIcon(str(RESOURCES / "icons" / "close.svg")))
        self._close.clicked.connect(self._on_close_clicked)

        row = QHBoxLayout(self._frame)
        row.setContentsMargins(10, 6, 4, 6)
        row.setSpacing(10)
        row.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self._text, 1)
        row.addWidget(self._more, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self._close, 0, Qt.AlignmentFlag.AlignTop)

        holder = _Holder()
        pad = QVBoxLayout(holder)
        pad.setContentsMargins(6, 6, 6, 2)
        pad.addWidget(self._frame)
        self.addWidget(holder)
        self.hide()

    @property
    def lines(self) -> list[str]:
        return list(self._lines)

    @property
    def level(self) -> str:
        return self._level

    def show_error(self, message: str) -> None:
        self._set(["Could not open the model", message], "error")

    def show_problems(self, problems: list[Problem], base: Path | None = None) -> None:
        """The model's warnings, with paths relative to the model folder; none hides the bar."""
        if not problems:
            self.clear()
            return
        n = len(problems)
        if all(OUTSIDE in p.message for p in problems):
            head = f"The model names files outside its folder ({counted(n, 'path')})"
        else:
            head = f"The model is only partly readable ({counted(n, 'problem')})"
        self._set([head] + [f"{relative_to(p.path, base)}: {p.message}" for p in problems])

    def add_message(self, message: str, level: str = "warning") -> None:
        """Append one line to what is shown; an error turns the whole bar red."""
        if self._lines and self._level == "error":
            level = "error"
        self._set([*self._lines, message], level)

    def clear(self) -> None:
        self._lines = []
        self.hide()

    def _set(self, lines: list[str], level: str = "warning") -> None:
        self._lines = lines
        self._level = level
        self._expanded = False
        pixmap = (
            QStyle.StandardPixmap.SP_MessageBoxCritical
            if level == "error"
            else QStyle.StandardPixmap.SP_MessageBoxWarning
        )
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        self._icon.setPixmap(self.style().standardIcon(pixmap).pixmap(size, size))
        self._frame.setProperty("level", level)
        self._frame.style().unpolish(self._frame)
        self._frame.style().polish(self._frame)
        self._render()
        self.show()

    def _render(self) -> None:
        head, *rest = self._lines
        hidden = 0 if self._expanded else max(0, len(rest) - SHOWN_LINES)
        shown = rest if self._expanded else rest[:SHOWN_LINES]
        html = f"<b>{escape(head)}</b>" if rest else escape(head)
        self._text.setText(html + "".join(f"<br>{escape(line)}" for line in shown))
        self._more.setVisible(hidden > 0 or self._expanded)
        self._more.setText("Show fewer" if self._expanded else f"Show {hidden} more")
        self._fit_text()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_text()

    def _fit_text(self) -> None:
        """Give the wrapped label the height its text needs at the width the window leaves
        it (the label's own width lags a layout pass behind, and starts tiny)."""
        window = self.parentWidget() or self
        row, pad = self._frame.layout(), self._frame.parentWidget().layout()
        others = [w for w in (self._icon, self._more, self._close) if not w.isHidden()]
        overhead = sum(w.sizeHint().width() + row.spacing() for w in others)
        for layout in (row, pad):
            margins = layout.contentsMargins()
            overhead += margins.left() + margins.right()
        width = max(window.width() - overhead - 8, 50)  # 8: the toolbar's own margins
        self._text.setMinimumHeight(0)  # heightForWidth never answers below the minimum
        height = self._text.heightForWidth(width)  # -1 while the label is empty
        if height >= 0 and height != self._text.height():
            self._text.setFixedHeight(height)
            QTimer.singleShot(0, self._relayout_window)

    def _relayout_window(self) -> None:
        """The main window keeps a toolbar's height when its hint shrinks; lay it out anew."""
        window = self.parentWidget()
        for widget in (self._frame, self._frame.parentWidget(), self, window):
            if widget is not None and widget.layout() is not None:
                widget.layout().invalidate()
                widget.layout().activate()

    def _on_more_clicked(self) -> None:
        self._expanded = not self._expanded
        self._render()

    def _on_close_clicked(self) -> None:
        self.clear()
        self.dismissed.emit()
