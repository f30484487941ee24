"""The base of every panel: it shows one Model and dims itself when its part is broken."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsOpacityEffect, QLabel, QStackedLayout, QVBoxLayout, QWidget
from smlens.core.model import Model


class Panel(QWidget):
    """A dock's content. Subclasses build their widgets into ``self.body`` and implement
    ``show_model``; ``part`` names the Problem.part that makes this panel unavailable."""

    title = "Panel"
    part = "model"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model: Model | None = None
        self.body = QWidget(self)
        self._notice = QLabel(self)
        self._notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._notice.setWordWrap(True)
        self._notice.setObjectName("panelNotice")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self._stack = QStackedLayout()
        self._stack.setStackingMode(QStackedLayout.StackingMode.StackAll)
        self._stack.addWidget(self._notice)
        self._stack.addWidget(self.body)
        outer.addLayout(self._stack)
        self._stack.setCurrentWidget(self.body)
        self._notice.hide()

    def set_model(self, model: Model | None) -> None:
        self.model = model
        problems = [p for p in (model.problems if model else []) if p.part == self.part]
        self.show_model(model)
        self.set_unavailable("\n".join(str(p) for p in problems) if problems else None)

    def show_model(self, model: Model | None) -> None:
        """Fill the widgets from ``model`` (None clears them)."""

    def set_unavailable(self, message: str | None) -> None:
        """Dim the body and show ``message`` over it; None restores the panel."""
        if message:
            effect = QGraphicsOpacityEffect(self.body)
            effect.setOpacity(0.35)
            self.body.setGraphicsEffect(effect)
            self._notice.setText(message)
            self._notice.show()
            self._notice.raise_()
        else:
            self.body.setGraphicsEffect(None)
            self._notice.hide()

    @property
    def unavailable(self) -> bool:
        return self.body.graphicsEffect() is not None
