"""Small pieces the graph panel's bars share: a flat tool bar, a tool button with a
shortcut, a spacer, clipped text, and the status row."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QWidget,
)


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


def spacer() -> QWidget:
    widget = QWidget()
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    return widget


def short_text(text: str, limit: int = 36) -> str:
    return text if len(text) <= limit else text[: limit // 2 - 1] + "…" + text[-limit // 2 :]


def status_row() -> tuple[QHBoxLayout, QLabel, QProgressBar, QLabel]:
    """The row under the canvas: counts (muted), a slim progress bar, the zoom."""
    status, zoom = QLabel(), QLabel()
    status.setProperty("role", "muted")
    zoom.setProperty("role", "muted")
    progress = QProgressBar()
    progress.setRange(0, 100)
    progress.setMaximumWidth(140)
    progress.setMaximumHeight(12)
    progress.setTextVisible(False)
    progress.hide()
    row = QHBoxLayout()
    row.addWidget(status, 1)
    row.addWidget(progress)
    row.addWidget(zoom)
    return row, status, progress, zoom
