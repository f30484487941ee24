"""One change side by side: A (before) | B (after), lines that differ tinted, and the reason
for its severity in plain words."""

from __future__ import annotations

import difflib

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from smlens.core.diff.changes import Change
from smlens.core.model import Model
from smlens.gui.base.widgets import mono_font, muted_label
from smlens.gui.compare.signatures import tensor_text
from smlens.gui.compare.style import SEP, SEVERITY_TEXT, severity_brush, severity_color
from smlens.gui.compare.tree import AREA_TITLES

MAX_LINES = 400


def value_lines(value, indent: str = "") -> list[str]:
    """A before/after value as readable lines: dicts as "key: value", lists one per line."""
    if value is None:
        return []
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                out.append(f"{indent}{key}:")
                out += value_lines(item, indent + "  ")
            else:
                out.append(f"{indent}{key}: {_scalar(item)}")
        return out
    if isinstance(value, list | tuple):
        return [f"{indent}{_scalar(v)}" for v in value] or [f"{indent}(empty)"]
    return [f"{indent}{line}" for line in str(value).splitlines()] or [indent]


def _scalar(value) -> str:
    if isinstance(value, dict | list | tuple):
        return repr(value) if value else "(empty)"
    return str(value)


def side_lines(change: Change) -> tuple[list[str], list[str]]:
    """What A and B show for ``change``; a container lists its changes' values, one a line."""
    if not change.children:
        return value_lines(change.before), value_lines(change.after)
    before, after = [], []
    depth = len(change.path)
    for leaf in (c for c in change.walk() if not c.children):
        label = SEP.join(leaf.path[depth:]) or leaf.path[-1]
        a, b = value_lines(leaf.before), value_lines(leaf.after)
        before.append(f"{label}: {' '.join(a) if a else '—'}")
        after.append(f"{label}: {' '.join(b) if b else '—'}")
        if len(before) >= MAX_LINES:
            before.append("…")
            after.append("…")
            break
    return before, after


class _Side(QWidget):
    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.heading = muted_label(title)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(mono_font())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.heading)
        layout.addWidget(self.text)

    def show_lines(self, lines: list[str], marked: set[int], placeholder: str, brush) -> None:
        self.text.setPlaceholderText(placeholder)
        self.text.setPlainText("\n".join(lines))
        self._fit(len(lines))
        selections = []
        for number in sorted(marked):
            block = self.text.document().findBlockByNumber(number)
            selection = QTextEdit.ExtraSelection()
            selection.cursor = QTextCursor(block)
            selection.format.setBackground(brush)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selections.append(selection)
        self.text.setExtraSelections(selections)
        self.marked = marked

    def _fit(self, n_lines: int) -> None:
        """As tall as a short value needs, so a one-line change is not a tall empty box."""
        line = self.text.fontMetrics().lineSpacing()
        frame = 2 * self.text.frameWidth() + 2 * int(self.text.document().documentMargin())
        scrollbar = self.text.horizontalScrollBar().sizeHint().height()
        self.text.setMaximumHeight(max(n_lines, 1) * line + frame + scrollbar + 4)


def signature_lines(model: Model | None, tag_set: str, key: str) -> list[str]:
    """The whole signature as clients see it: method, then each input and output."""
    try:
        sig = model.meta_graph(tag_set).signatures[key] if model else None
    except KeyError:
        sig = None
    if sig is None:
        return []
    lines = [f"method {sig.method_name}"]
    for role in ("inputs", "outputs"):
        for name, info in getattr(sig, role).items():
            default = " = default" if name in sig.defaults else ""
            lines.append(f"{role[:-1]:6} {name}: {tensor_text(info)}{default}")
    return lines


class ChangeDetail(QWidget):
    """Shows one Change: severity, path, reason, then before | after."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._severity = QLabel()
        self._severity.setObjectName("compareSeverity")
        self._path = QLabel()
        self._path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._path.setFont(mono_font())
        self._path.setWordWrap(True)
        self._reason = QLabel()
        self._reason.setWordWrap(True)
        self._reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._reason.setToolTip("Why this change has its severity")
        self.before = _Side("A (before)")
        self.after = _Side("B (after)")
        self.before.text.setToolTip("The value in export A; tinted lines differ from B")
        self.after.text.setToolTip("The value in export B; tinted lines differ from A")
        self.models: tuple[Model, Model] | None = None
        sides = self._pair(self.before, self.after)
        self.context_a = _Side("Whole signature in A")
        self.context_b = _Side("Whole signature in B")
        self.context_a.text.setToolTip("The signature holding this change, as A serves it")
        self.context_b.text.setToolTip("The signature holding this change, as B serves it")
        self.context = self._pair(self.context_a, self.context_b)
        self.before.text.verticalScrollBar().valueChanged.connect(
            self.after.text.verticalScrollBar().setValue
        )
        self.after.text.verticalScrollBar().valueChanged.connect(
            self.before.text.verticalScrollBar().setValue
        )

        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(self._severity, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self._path, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self._reason)
        layout.addWidget(sides)
        layout.addWidget(self.context)
        layout.addStretch(1)
        self.set_change(None)

    @staticmethod
    def _pair(left: _Side, right: _Side) -> QSplitter:
        pair = QSplitter(Qt.Orientation.Horizontal)
        pair.addWidget(left)
        pair.addWidget(right)
        pair.setChildrenCollapsible(False)
        return pair

    def set_models(self, a: Model | None, b: Model | None) -> None:
        self.models = (a, b) if a is not None and b is not None else None

    def set_names(self, a: str, b: str) -> None:
        self.before.heading.setText(f"A (before): {a}")
        self.after.heading.setText(f"B (after): {b}")

    def set_change(self, change: Change | None) -> None:
        self.change = change
        if change is None:
            self._severity.clear()
            self._path.setText("Select a change to see it side by side.")
            self._reason.clear()
            self.before.show_lines([], set(), "", None)
            self.after.show_lines([], set(), "", None)
            self.context.hide()
            return
        color = severity_color(change.severity).name()
        self._severity.setText(
            f"<span style='color:{color}; font-weight:600'>{SEVERITY_TEXT[change.severity]}"
            f"</span> · {change.kind}"
        )
        area = AREA_TITLES.get(change.area, change.area)
        self._path.setText(SEP.join([area, *change.path[1:]]))
        self._reason.setText(change.reason[:1].upper() + change.reason[1:])
        before, after = side_lines(change)
        marked_a, marked_b = _unmatched(before, after)
        brush = severity_brush(change.severity)
        hint_a, hint_b = _placeholders(change)
        self.before.show_lines(before, marked_a, hint_a, brush)
        self.after.show_lines(after, marked_b, hint_b, brush)
        self._show_context(change, brush)

    def _show_context(self, change: Change, brush) -> None:
        """For a change inside a signature, the whole signature on both sides."""
        if change.area != "signatures" or len(change.path) < 3 or self.models is None:
            self.context.hide()
            return
        tag_set, key = change.path[1], change.path[2]
        a = signature_lines(self.models[0], tag_set, key)
        b = signature_lines(self.models[1], tag_set, key)
        marked_a, marked_b = _unmatched(a, b)
        self.context_a.heading.setText(f"Signature {key} in A")
        self.context_b.heading.setText(f"Signature {key} in B")
        self.context_a.show_lines(a, marked_a, "(no such signature in A)", brush)
        self.context_b.show_lines(b, marked_b, "(no such signature in B)", brush)
        self.context.show()

    def reason_text(self) -> str:
        return self._reason.text()

    def path_text(self) -> str:
        return self._path.text()


def _placeholders(change: Change) -> tuple[str, str]:
    """What an empty side means: absent from that export, or a change with no value to show."""
    if change.kind == "added":
        return "(not in A)", ""
    if change.kind == "removed":
        return "", "(not in B)"
    if change.area == "variables":
        hint = "(values: press Enter in the list for the Variables tab and a histogram)"
        return hint, hint
    return "", ""


def _unmatched(a: list[str], b: list[str]) -> tuple[set[int], set[int]]:
    """Line numbers of ``a`` and ``b`` that the other side lacks."""
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    only_a, only_b = set(range(len(a))), set(range(len(b)))
    for block in matcher.get_matching_blocks():
        only_a -= set(range(block.a, block.a + block.size))
        only_b -= set(range(block.b, block.b + block.size))
    return only_a, only_b
