"""The graph canvas's context menu: what it offers for an item, or for empty canvas."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from smlens.core.graph.build import OpGraph
from smlens.core.graph.scopes import VisibleItem


def context_menu(parent: QWidget, item: VisibleItem | None, graph: OpGraph | None) -> QMenu:
    """Actions carry (verb, argument) data; ``menu_choice`` reads it back."""
    menu = QMenu(parent)
    if item is None:
        menu.addAction("Fit to view").setData(("fit",))
        menu.addAction("Expand all").setData(("expand_all",))
        menu.addAction("Collapse all").setData(("collapse_all",))
        return menu
    if item.kind in ("scope", "series"):
        menu.addAction("Expand").setData(("expand", item.name))
    if item.kind == "expanded":
        menu.addAction("Collapse").setData(("collapse", item.name))
    if item.kind in ("op", "arg", "ret"):
        menu.addAction("Trace inputs").setData(("trace", "inputs"))
        menu.addAction("Trace outputs").setData(("trace", "outputs"))
        if graph is not None and item.name in graph.index:
            for c in graph.node(item.name).callees:
                menu.addAction(f"Open {c.attr or 'function'}: {c.function}").setData(
                    ("open", c.function)
                )
    menu.addAction("Copy name").setData(("copy", item.name))
    return menu


def menu_choice(action: QAction) -> tuple[str, str | None]:
    data = action.data() or ()
    if not data:
        return "", None
    return data[0], data[1] if len(data) > 1 else None
