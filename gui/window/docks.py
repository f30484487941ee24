"""The window's panels: which ones there are, where their docks go by default, and the
scroll area each sits in so a dock can be smaller than its panel."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

from smlens.gui.base.panel import Panel

log = logging.getLogger("smlens.gui.window.main_window")

DOCK_MINIMUM = (160, 90)


@dataclass(frozen=True)
class PanelSpec:
    key: str  # the --view name and the dock's objectName suffix
    module: str
    cls: str
    aliases: tuple[str, ...] = ()


PANELS = (
    PanelSpec("overview", "panels.overview", "OverviewPanel"),
    PanelSpec("graph", "graph.panel", "GraphPanel", ("graphs", "op_graph")),
    PanelSpec("signatures", "panels.signatures", "SignaturePanel", ("signature",)),
    PanelSpec("functions", "panels.functions", "FunctionPanel", ("function",)),
    PanelSpec("ops", "panels.ops", "OpPanel", ("op",)),
    PanelSpec("assets", "panels.assets", "AssetPanel", ("asset",)),
    PanelSpec("objects", "panels.objects", "ObjectPanel", ("object", "object_graph")),
    PanelSpec("variables", "panels.variables", "VariablePanel", ("variable", "tensor", "values")),
    PanelSpec("run", "run.panel", "RunPanel", ("runs", "execute")),
)
TABBED = ("signatures", "functions", "ops", "assets", "objects")  # top right, one tab group
BELOW = ("variables",)  # bottom right; the panel holds its own tensor viewer
BELOW_TABBED = ("run",)  # tabbed behind the bottom right panel


def load_panels() -> dict[str, Panel]:
    """Every panel that imports and builds; a broken one is logged and left out."""
    panels = {}
    for spec in PANELS:
        name = f"smlens.gui.{spec.module}"
        try:
            panel = getattr(importlib.import_module(name), spec.cls)()
            if not isinstance(panel, Panel):
                raise TypeError(f"{spec.cls} is not a Panel")
            panels[spec.key] = panel
        except Exception as e:
            missing = isinstance(e, ModuleNotFoundError) and e.name == name
            log.warning("the %s panel is not available: %s", spec.cls, e, exc_info=not missing)
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
