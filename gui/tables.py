"""What the panels' sortable tables share: the sort role and a read-only cell."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem

SORT_ROLE = Qt.ItemDataRole.UserRole  # what the proxy sorts by: numbers as numbers


def cell(text: str, sort=None, align=None) -> QStandardItem:
    """A read-only item showing ``text`` that sorts by ``sort`` (default: ``text``, any case)."""
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(text.lower() if sort is None else sort, SORT_ROLE)
    if align is not None:
        item.setTextAlignment(align)
    return item
