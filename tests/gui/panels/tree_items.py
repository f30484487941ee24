"""Reading a panel's QTreeWidget in a test: an item's children, and one of them by name."""

from __future__ import annotations

from PySide6.QtWidgets import QTreeWidgetItem


def children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    return [item.child(i) for i in range(item.childCount())]


def child(item: QTreeWidgetItem, name: str) -> QTreeWidgetItem:
    """The child of ``item`` whose first column reads ``name``."""
    return next(c for c in children(item) if c.text(0) == name)
