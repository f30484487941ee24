"""The summary tree of a diff: changes grouped by area, worst first, coloured by severity."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget

from smlens.core.diff.changes import (
    AREAS,
    Change,
    ModelDiff,
    count_by_severity,
    rank,
    without_annotations,
    worst,
)
from smlens.gui.compare.style import SEP, SEVERITY_TEXT, severity_color, severity_icon

AREA_TITLES = {
    "metadata": "Metadata",
    "tag_sets": "Tag-sets",
    "signatures": "Signatures",
    "ops": "Ops",
    "functions": "Functions",
    "graph": "Main graph",
    "variables": "Variables",
    "assets": "Assets",
    "outputs": "Outputs",
}
ANNOTATIONS_TITLE = "Annotations"
CHANGE_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Change", "Kind", "Why")


def leaves(changes: list[Change]) -> list[Change]:
    return [c for change in changes for c in change.walk() if not c.children]


def _semantic(changes: list[Change]) -> list[Change]:
    return [c for c in map(without_annotations, changes) if c is not None]


def counts_text(changes: list[Change]) -> str:
    """ "2 breaking · 38 info", worst first."""
    counts = count_by_severity(leaves(changes))
    ordered = sorted(counts.items(), key=lambda item: -rank(item[0]))
    return " · ".join(f"{n} {severity}" for severity, n in ordered)


def area_change(area: str, changes: list[Change]) -> Change:
    """The group of one area as a container Change, so the detail pane can show it."""
    return Change(
        (area,),
        "changed",
        severity=worst(c.severity for c in changes) or "info",
        reason=f"{AREA_TITLES[area]}: {counts_text(changes)}",
        children=changes,
    )


def worst_first(changes: list[Change]) -> list[Change]:
    """Breaking, then risky, then info; the engine's order within each."""
    return sorted(changes, key=lambda c: -rank(c.severity))


def _label(change: Change, depth: int) -> str:
    """The part of ``change.path`` below its parent's, naming what a bare name is."""
    if len(change.path) == 2 and change.area in ("signatures", "functions", "graph"):
        return f"tag-set {change.path[1]}"
    if len(change.path) == 3 and change.area == "signatures":
        return f"signature {change.path[2]}"
    return SEP.join(change.path[depth:]) or change.path[-1]


class ChangeTree(QTreeView):
    """Emits ``change_selected`` with the Change under the cursor (a group's container for
    an area row), whether picked by mouse or keyboard."""

    change_selected = Signal(object)  # Change | None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._model = QStandardItemModel(0, len(COLUMNS), self)
        self._model.setHorizontalHeaderLabels(list(COLUMNS))
        self.setModel(self._model)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setToolTip("Changes from A to B, worst first. Arrow keys move, Enter expands.")
        header = self.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

    def set_diff(self, diff: ModelDiff | None) -> None:
        self._model.removeRows(0, self._model.rowCount())
        if diff is None:
            self.change_selected.emit(None)
            return
        groups = [(area, _semantic(diff.groups.get(area, []))) for area in AREAS]
        groups = [(area, changes) for area, changes in groups if changes]
        groups.sort(key=lambda g: -rank(worst(c.severity for c in g[1])))
        for area, changes in groups:
            group = area_change(area, changes)
            title = f"{AREA_TITLES[area]} ({len(leaves(changes))})"
            row = self._row(group, title, "", counts_text(changes), bold=True)
            self._model.appendRow(row)
            self._add_children(row[0], group)
        self._add_annotations(diff)
        self._expand_worth_seeing()
        self.resizeColumnToContents(0)
        self.setColumnWidth(0, min(max(self.columnWidth(0), 220), 420))
        self._select_first_leaf()

    def _add_annotations(self, diff: ModelDiff) -> None:
        """A last, collapsed group: the changes no client sees, one row per kind."""
        by_kind: dict[str, list[Change]] = {}
        for c in diff.changes(annotations=True):
            if c.annotation:
                by_kind.setdefault(c.annotation, []).append(c)
        if not by_kind:
            return
        total = sum(map(len, by_kind.values()))
        kinds = [
            Change(
                ("annotations", kind), "changed", reason=f"{len(cs)} changes: {kind}", children=cs
            )
            for kind, cs in sorted(by_kind.items(), key=lambda i: -len(i[1]))
        ]
        group = Change(
            ("annotations",),
            "changed",
            reason="changes no client or serving binary sees: inferred shapes, runtime hints, "
            "op versions, fingerprints, file bytes",
            children=kinds,
            annotation="annotations",
        )
        row = self._row(group, f"{ANNOTATIONS_TITLE} ({total})", "", group.reason, bold=True)
        self._model.appendRow(row)
        for kind in kinds:
            kind_row = self._row(kind, kind.path[1], "", kind.reason)
            row[0].appendRow(kind_row)
            for c in kind.children:
                kind_row[0].appendRow(self._row(c, SEP.join(c.path[1:]), c.kind, c.reason))

    def _add_children(self, parent: QStandardItem, change: Change) -> None:
        depth = len(change.path)
        for child in worst_first(change.children):
            label = _label(child, depth)
            row = self._row(child, label, child.kind, child.reason)
            parent.appendRow(row)
            self._add_children(row[0], child)

    def _row(
        self, change: Change, label: str, kind: str, why: str, bold: bool = False
    ) -> list[QStandardItem]:
        items = [QStandardItem(label), QStandardItem(kind), QStandardItem(why.split("\n")[0])]
        tip = f"{SEVERITY_TEXT[change.severity]}: {change.reason}"
        for item in items:
            item.setData(change, CHANGE_ROLE)
            item.setToolTip(tip)
            if bold:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
        items[0].setIcon(severity_icon(change.severity))
        if change.severity != "info":
            items[0].setForeground(severity_color(change.severity))
        return items

    def _expand_worth_seeing(self) -> None:
        """Open every group, and inside it the containers that hold something not info."""
        for row in range(self._model.rowCount()):
            index = self._model.index(row, 0)
            if index.data(CHANGE_ROLE).annotation:
                continue  # asked for, not shown
            self.expand(index)
            self._expand_severe(index)

    def _expand_severe(self, parent: QModelIndex) -> None:
        for row in range(self._model.rowCount(parent)):
            index = self._model.index(row, 0, parent)
            change = index.data(CHANGE_ROLE)
            if change.children and rank(change.severity) > 0:
                self.expand(index)
                self._expand_severe(index)

    def _select_first_leaf(self) -> None:
        index = self._model.index(0, 0)
        while index.isValid() and self.isExpanded(index) and self._model.hasChildren(index):
            index = self._model.index(0, 0, index)
        if index.isValid():
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect
            flags |= QItemSelectionModel.SelectionFlag.Rows
            self.selectionModel().setCurrentIndex(index, flags)

    def current_change(self) -> Change | None:
        index = self.currentIndex()
        return index.data(CHANGE_ROLE) if index.isValid() else None

    def group_titles(self) -> list[str]:
        return [self._model.item(row, 0).text() for row in range(self._model.rowCount())]

    def rows(self) -> list[tuple[int, str, str, str, Change]]:
        """Every row depth first as (depth, label, kind, why, change): what the tree shows."""
        out = []
        stack = self._children(QModelIndex(), 0)
        while stack:
            index, depth = stack.pop()
            kind = index.siblingAtColumn(1).data()
            why = index.siblingAtColumn(2).data()
            out.append((depth, index.data(), kind, why, index.data(CHANGE_ROLE)))
            stack += self._children(index, depth + 1)
        return out

    def _children(self, parent: QModelIndex, depth: int) -> list[tuple[QModelIndex, int]]:
        """The rows below ``parent`` last to first, each with ``depth``: popped in order."""
        rows = reversed(range(self._model.rowCount(parent)))
        return [(self._model.index(row, 0, parent), depth) for row in rows]

    def select_path(self, path: tuple[str, ...]) -> bool:
        """Make the row of the change at ``path`` current; False when there is none."""
        for index in self._indexes(QModelIndex()):
            if index.data(CHANGE_ROLE).path == tuple(path):
                parent = index.parent()
                while parent.isValid():
                    self.expand(parent)
                    parent = parent.parent()
                self.setCurrentIndex(index)
                self.scrollTo(index)
                return True
        return False

    def _indexes(self, parent: QModelIndex):
        for row in range(self._model.rowCount(parent)):
            index = self._model.index(row, 0, parent)
            yield index
            yield from self._indexes(index)

    def _on_current_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self.change_selected.emit(current.data(CHANGE_ROLE) if current.isValid() else None)
