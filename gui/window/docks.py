"""The window's panels: which ones there are, where their docks go by default, and the
scroll area each sits in so a dock can be smaller than its panel."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

from smlens.gui.base.panel import Panel
from smlens.gui.graph.panel import GraphPanel
from smlens.gui.panels.assets import AssetPanel
from smlens.gui.panels.functions import FunctionPanel
from smlens.gui.panels.objects import ObjectPanel
from smlens.gui.panels.ops import OpPanel
from smlens.gui.panels.overview import OverviewPanel
from smlens.gui.panels.signatures import SignaturePanel
from smlens.gui.panels.variables import VariablePanel
from smlens.gui.run.panel import RunPanel

log = logging.getLogger(__name__)

DOCK_MINIMUM = (160, 90)


@dataclass(frozen=True)
class PanelSpec:
    key: str  # the --view name and the dock's objectName suffix
    panel: type[Panel]
    aliases: tuple[str, ...] = ()


PANELS = (
    PanelSpec("overview", OverviewPanel),
    PanelSpec("graph", GraphPanel, ("graphs", "op_graph")),
    PanelSpec("signatures", SignaturePanel, ("signature",)),
    PanelSpec("functions", FunctionPanel, ("function",)),
    PanelSpec("ops", OpPanel, ("op",)),
    PanelSpec("assets", AssetPanel, ("asset",)),
    PanelSpec("objects", ObjectPanel, ("object", "object_graph")),
    PanelSpec("variables", VariablePanel, ("variable", "tensor", "values")),
    PanelSpec("run", RunPanel, ("runs", "execute")),
)
TABBED = ("signatures", "functions", "ops", "assets", "objects")  # top right, one tab group
BELOW = ("variables",)  # bottom right; the panel holds its own tensor viewer
BELOW_TABBED = ("run",)  # tabbed behind the bottom right panel


def load_panels(specs: tuple[PanelSpec, ...] = PANELS) -> dict[str, Panel]:
    """Every panel that builds; one whose constructor fails is logged and left out, so a
    broken panel dims its dock, not the window."""
    panels = {}
    for spec in specs:
        try:
            panels[spec.key] = spec.panel()
        except Exception as e:
            log.warning("the %s panel is not available: %s", spec.panel.__name__, e, exc_info=True)
    return panels


class DockScroll(QScrollArea):
    """A dock's panel, scrolled only when the dock is smaller than the panel's minimum: a
    panel with many controls never holds the window above a small screen's size."""

    def __init__(self, panel: QWidget):
        super().__init__()
        self.setWidget(panel)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)

    def sizeHint(self) -> QSize:
        return self.widget().sizeHint()

    def minimumSizeHint(self) -> QSize:
        return QSize(*DOCK_MINIMUM)
