"""The elements of one output that moved most between A and B: where they are and both
values, largest |Δ| first."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget

from smlens.core.diff.output_elements import WorstElement
from smlens.gui.base.widgets import cell, mono_font

COLUMNS = ("Call", "Index", "A", "B", "|Δ|")
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def delta_text(delta: float) -> str:
    return "inf" if math.isinf(delta) else f"{delta:.4g}"


class WorstElementsTable(QTableView):
    """A row per element: the call it is in, its index, A's and B's values and |Δ|."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.items = QStandardItemModel(0, len(COLUMNS), self)
        self.items.setHorizontalHeaderLabels(list(COLUMNS))
        self.setModel(self.items)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        self.horizontalHeader().setStretchLastSection(False)
        self.horizontalHeader().setHighlightSections(False)
        self.setFont(mono_font())
        self.setToolTip("The elements with the largest |B - A|, over every call")

    def set_elements(self, elements: tuple[WorstElement, ...] | list[WorstElement]) -> None:
        self.items.removeRows(0, self.items.rowCount())
        for element in elements:
            self.items.appendRow(
                [
                    cell(str(element.run), element.run, RIGHT),
                    cell(str(list(element.index))),
                    cell(element.a, align=RIGHT),
                    cell(element.b, align=RIGHT),
                    cell(delta_text(element.delta), element.delta, RIGHT),
                ]
            )
        self.resizeColumnsToContents()

    def row_texts(self) -> list[list[str]]:
        """Every row's cells as shown: for tests and the clipboard."""
        return [
            [self.items.item(r, c).text() for c in range(len(COLUMNS))]
            for r in range(self.items.rowCount())
        ]
