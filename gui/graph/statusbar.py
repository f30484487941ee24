"""The row under the graph canvas: what is shown (counts) or what is happening, a slim
progress bar while a graph is built or laid out, and the zoom."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from smlens.core.graph.nav import ViewLayout
from smlens.core.model.text import counted


class GraphStatusBar(QWidget):
    """Shows one message at a time; the counts of a view replace any message before them."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.message = QLabel()
        self.message.setProperty("role", "muted")
        self.zoom = QLabel()
        self.zoom.setProperty("role", "muted")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(140)
        self.progress.setMaximumHeight(12)
        self.progress.setTextVisible(False)
        self.progress.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.message, 1)
        row.addWidget(self.progress)
        row.addWidget(self.zoom)

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def show_counts(self, view: ViewLayout, shown: int) -> None:
        """The graph's ops, edges and scopes, how many items the layout shows, and its
        problems."""
        graph = view.loaded.graph
        parts = [
            counted(view.loaded.op_count, "op"),
            counted(len(graph.edges), "edge"),
            counted(len(view.loaded.hierarchy.scopes) - 1, "scope"),
            counted(shown, "item") + " shown",
        ]
        if graph.problems:
            parts.append(counted(len(graph.problems), "problem"))
        self.message.setText(" · ".join(parts))

    def show_progress(self, fraction: float) -> None:
        self.progress.setValue(int(fraction * 100))

    def show_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)

    def show_zoom(self, scale: float) -> None:
        self.zoom.setText(f"{scale * 100:.0f} %")
