"""A GraphPanel for a test, sized and owned by qtbot."""

from __future__ import annotations

from smlens.gui.graph.panel import GraphPanel


def graph_panel(qtbot, size: tuple[int, int] = (1200, 800), shown: bool = False) -> GraphPanel:
    widget = GraphPanel()
    widget.resize(*size)
    qtbot.addWidget(widget)
    if shown:
        widget.show()
    return widget
