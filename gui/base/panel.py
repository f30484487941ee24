"""The base of every panel: it shows one Model and dims itself when its part is broken."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QVBoxLayout, QWidget

from smlens.core.model import Model
from smlens.core.model.text import relative_to


class _Veil(QWidget):
    """A translucent wash over the body. Clicks and wheel events pass through, so a dimmed
    panel can still be read and scrolled. (A QGraphicsOpacityEffect would do the same, but
    it paints item views' viewports black.)"""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        parent.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(watched.rect())
        return False

    def paintEvent(self, event) -> None:
        color = QColor(self.palette().color(QPalette.ColorRole.Window))
        color.setAlpha(165)
        painter = QPainter(self)
        painter.fillRect(self.rect(), color)
        painter.end()


class Panel(QWidget):
    """A dock's content. Subclasses build their widgets into ``self.body`` and implement
    ``show_model``; ``part`` names the Problem.part that makes this panel unavailable.

    What a panel offers the window is declared here, once, so the window wires every panel
    the same way (napari's layer controls and Spyder's plugins declare theirs likewise): a
    panel emits the requests it can make and overrides the hooks it serves. A renamed signal
    is then an AttributeError at start-up, not a link that silently stops working.
    """

    title = "Panel"
    part = "model"

    variable_selected = Signal(str)  # a checkpoint key to show in the Variables panel
    # tag-set, "signature" | "function" | "graph" (its main graph), name: draw it
    graph_requested = Signal(str, str, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model: Model | None = None
        self.body = QWidget(self)
        self._veil = _Veil(self.body)
        self._notice_frame = self._build_notice()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._notice_frame)
        outer.addWidget(self.body, 1)
        self._notice_frame.hide()

    def _build_notice(self) -> QWidget:
        """A box above the body (never over it), so the message and the dimmed body both
        stay readable."""
        frame = QFrame(self)
        frame.setObjectName("panelNoticeFrame")
        icon = QLabel(frame)
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        icon.setPixmap(warning.pixmap(size, size))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._notice = QLabel(frame)
        self._notice.setObjectName("panelNotice")
        self._notice.setWordWrap(True)
        self._notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout(frame)
        row.setContentsMargins(8, 6, 8, 6)
        row.setSpacing(8)
        row.addWidget(icon)
        row.addWidget(self._notice, 1)
        wrapper = QWidget(self)
        pad = QVBoxLayout(wrapper)
        pad.setContentsMargins(6, 6, 6, 6)
        pad.addWidget(frame)
        return wrapper

    def set_model(self, model: Model | None) -> None:
        self.model = model
        problems = [p for p in (model.problems if model else []) if p.part == self.part]
        self.show_model(model)
        lines = [f"{relative_to(p.path, model.path)}: {p.message}" for p in problems]
        self.set_unavailable("\n".join(lines) if lines else None)

    def show_model(self, model: Model | None) -> None:
        """Fill the widgets from ``model`` (None clears them)."""

    def select_variable(self, key: str) -> bool:
        """Show the variable stored under checkpoint ``key``; False if this panel cannot."""
        return False

    # False while the window keeps the panel's dock closed or behind another tab (a tabbed
    # dock stays isVisible() there, so the window says so); True outside a window.
    on_screen = True

    def set_on_screen(self, shown: bool) -> None:
        was, self.on_screen = self.on_screen, shown
        if shown and not was:
            self.came_on_screen()

    def came_on_screen(self) -> None:
        """Start the work put off while the panel was out of view."""

    def shutdown(self) -> None:
        """Stop background work before the window closes (the Run panel's worker)."""

    def set_unavailable(self, message: str | None) -> None:
        """Dim the body and show ``message`` above it; None restores the panel."""
        if message:
            self._notice.setText(message)
            self._notice_frame.show()
            self._veil.setGeometry(self.body.rect())
            self._veil.show()
            self._veil.raise_()
        else:
            self._notice.clear()
            self._notice_frame.hide()
            self._veil.hide()

    @property
    def unavailable(self) -> bool:
        return not self._veil.isHidden()
