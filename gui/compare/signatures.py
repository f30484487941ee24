"""Signatures of both exports in two aligned columns, A and B, differing cells tinted by the
severity of the change and explained in their tooltips."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem

from smlens.core.diff.changes import Change, ModelDiff, worst
from smlens.core.model import MetaGraph, Model, Signature, TensorInfo
from smlens.core.model.text import short_dtype
from smlens.gui.base.widgets import mono_font
from smlens.gui.compare.style import SEVERITY_TEXT, severity_brush, severity_color, severity_icon

ABSENT = "—"


def tensor_text(info: TensorInfo | None) -> str:
    if info is None:
        return ABSENT
    if info.dtype == "DT_INVALID":  # an op to run, such as __saved_model_init_op
        return f"op {info.name}"
    return f"{short_dtype(info.dtype)} {info.shape}"


def display_name(path) -> str:
    """A model folder's name, with its parent's when the name alone says little ("a")."""
    return f"{path.parent.name}/{path.name}" if len(path.name) < 12 else path.name


def _tag_sets(a: Model, b: Model) -> list[tuple[str, MetaGraph | None, MetaGraph | None]]:
    by_tags_b = {frozenset(mg.tags): mg for mg in b.meta_graphs}
    out, seen = [], set()
    for mg in a.meta_graphs:
        key = frozenset(mg.tags)
        seen.add(key)
        out.append((mg.tag_set, mg, by_tags_b.get(key)))
    out += [(mg.tag_set, None, mg) for mg in b.meta_graphs if frozenset(mg.tags) not in seen]
    return out


def _union(a: dict, b: dict) -> list[str]:
    return list(a) + [k for k in b if k not in a]


class SignatureCompareView(QTreeWidget):
    """Tag-set > signature > inputs/outputs > tensor, with A's and B's text side by side."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderLabels(["Signature", "A", "B"])
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setToolTip("Signatures of A and B; tinted cells differ (hover for why)")
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self._mono = mono_font()
        self._leaves: list[Change] = []

    def set_comparison(self, a: Model | None, b: Model | None, diff: ModelDiff | None) -> None:
        self.clear()
        if a is None or b is None or diff is None:
            return
        self.setHeaderLabels(
            ["Signature", f"A: {display_name(a.path)}", f"B: {display_name(b.path)}"]
        )
        self._leaves = diff.changes(area="signatures") + diff.changes(area="tag_sets")
        for tag_set, mg_a, mg_b in _tag_sets(a, b):
            item = self._item(
                self.invisibleRootItem(),
                f"tag-set {tag_set}",
                "" if mg_a else ABSENT,
                "" if mg_b else ABSENT,
                ("tag_sets", tag_set),
                exact=True,
            )
            sigs_a = mg_a.signatures if mg_a else {}
            sigs_b = mg_b.signatures if mg_b else {}
            for key in _union(sigs_a, sigs_b):
                self._signature(item, tag_set, key, sigs_a.get(key), sigs_b.get(key))
            item.setExpanded(True)
        self.resizeColumnToContents(0)
        self.setColumnWidth(0, max(self.columnWidth(0) + 24, 200))

    def _signature(
        self, parent, tag_set: str, key: str, sa: Signature | None, sb: Signature | None
    ):
        path = ("signatures", tag_set, key)
        item = self._item(
            parent,
            key,
            sa.method_name if sa else ABSENT,
            sb.method_name if sb else ABSENT,
            path,
            exact=True,
            also=(*path, "method_name"),
        )
        for role in ("inputs", "outputs"):
            ta = getattr(sa, role) if sa else {}
            tb = getattr(sb, role) if sb else {}
            if not ta and not tb:
                continue
            group = QTreeWidgetItem(item, [role])
            for name in _union(ta, tb):
                self._item(
                    group,
                    name,
                    tensor_text(ta.get(name)),
                    tensor_text(tb.get(name)),
                    (*path, role, name),
                )
            group.setExpanded(True)
        item.setExpanded(True)

    def _item(
        self,
        parent: QTreeWidgetItem,
        label: str,
        text_a: str,
        text_b: str,
        path: tuple[str, ...],
        exact: bool = False,
        also: tuple[str, ...] | None = None,
    ) -> QTreeWidgetItem:
        """A row; tinted when a change sits at ``path`` (or ``also``), or below it unless
        ``exact``."""
        item = QTreeWidgetItem(parent, [label, text_a, text_b])
        item.setFont(1, self._mono)
        item.setFont(2, self._mono)
        n = len(path)
        changes = [
            c
            for c in self._leaves
            if c.path == path
            or (also is not None and c.path == also)
            or (not exact and c.path[:n] == path)
        ]
        severity = worst(c.severity for c in changes)
        if severity is not None:
            tip = "\n".join(f"{SEVERITY_TEXT[c.severity]}: {c.reason}" for c in changes)
            item.setIcon(0, severity_icon(severity))
            for column in range(3):
                item.setToolTip(column, tip)
            for column in (1, 2):
                item.setBackground(column, severity_brush(severity))
            if severity != "info":
                item.setForeground(0, severity_color(severity))
            item.setData(0, Qt.ItemDataRole.UserRole, severity)
        return item

    def rows(self) -> list[tuple[str, str, str, str | None]]:
        """(label, A, B, severity) of every row, depth first: what the view shows."""
        out = []
        root = self.invisibleRootItem()
        stack = [root.child(i) for i in reversed(range(root.childCount()))]
        while stack:
            item = stack.pop()
            severity = item.data(0, Qt.ItemDataRole.UserRole)
            out.append((item.text(0), item.text(1), item.text(2), severity))
            stack += [item.child(i) for i in reversed(range(item.childCount()))]
        return out
