"""What the panels' sortable tables share: the sort role, a read-only cell, the table
itself, and the filter line and count label above it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem
from PySide6.QtWidgets import QAbstractItemView, QLabel, QLineEdit, QTableView

SORT_ROLE = Qt.ItemDataRole.UserRole  # what the proxy sorts by: numbers as numbers


def cell(text: str, sort=None, align=None) -> QStandardItem:
    """A read-only item showing ``text`` that sorts by ``sort`` (default: ``text``, any case)."""
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(text.lower() if sort is None else sort, SORT_ROLE)
    if align is not None:
        item.setTextAlignment(align)
    return item


def row_table(model, *, stretch_last: bool = True, word_wrap: bool = False) -> QTableView:
    """A sortable table over ``model`` that selects one whole row at a time, with compact
    rows and no row numbers: the panels' common list of things."""
    table = QTableView()
    table.setModel(model)
    table.setSortingEnabled(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(word_wrap)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(22)
    table.horizontalHeader().setStretchLastSection(stretch_last)
    table.horizontalHeader().setHighlightSections(False)
    return table


def filter_edit(placeholder: str, on_changed) -> QLineEdit:
    """The line above a table that filters it as the user types."""
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setClearButtonEnabled(True)
    edit.textChanged.connect(on_changed)
    return edit


def muted_label(text: str = "") -> QLabel:
    """A quiet label for counts and summaries beside a filter."""
    label = QLabel(text)
    label.setProperty("role", "muted")
    return label
