"""Colours of the compare view: severity (breaking red, risky amber, info neutral) and the
tint of a changed cell, per light or dark look (theme.current())."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap

from smlens.core.diff.changes import rank
from smlens.gui.base import theme

# Foregrounds chosen for at least 4.5:1 contrast on the theme's base colour.
_SEVERITY = {
    False: {"breaking": "#c62828", "risky": "#a35a00", "info": "#6b6b6b"},
    True: {"breaking": "#ff7b72", "risky": "#e3b341", "info": "#9a9a9a"},
}
# Nodes of the side-by-side graphs, as Model Explorer colours them: removed (A) in the
# breaking red, changed (both) in the risky amber, added (B) in a green of the same contrast.
_MARKS = {
    False: {"removed": "#c62828", "added": "#2e7d32", "changed": "#a35a00"},
    True: {"removed": "#ff7b72", "added": "#56d364", "changed": "#e3b341"},
}
SEVERITY_TEXT = {"breaking": "Breaking", "risky": "Risky", "info": "Info"}
MINUS = "\u2212"  # a typographic minus, as wide as "+"
SEP = " \u203a "  # a small right angle quote between the parts of a path


def severity_color(severity: str | None) -> QColor:
    return QColor(_SEVERITY[theme.current().dark].get(severity or "info"))


def mark_colors() -> dict[str, QColor]:
    """Node mark kind ("removed", "added", "changed") -> its colour in the current look."""
    return {kind: QColor(c) for kind, c in _MARKS[theme.current().dark].items()}


def tint(color: QColor | str, amount: float = 0.18) -> QColor:
    """``color`` mixed into the theme's base colour: a background that keeps text legible."""
    base, over = QColor(theme.current().base), QColor(color)
    mix = [
        round(b + (o - b) * amount)
        for b, o in zip(base.getRgb()[:3], over.getRgb()[:3], strict=True)
    ]
    return QColor(*mix)


def severity_brush(severity: str | None) -> QBrush:
    """Background of a cell that differs, by the severity of the change."""
    if severity in ("breaking", "risky"):
        return QBrush(tint(severity_color(severity), 0.2))
    return QBrush(tint(theme.current().accent, 0.14))


def severity_icon(severity: str | None) -> QIcon:
    return _icon(severity or "none", theme.current().dark)


@cache
def _icon(severity: str, dark: bool) -> QIcon:
    """A filled dot for breaking and risky, a hollow one for info, nothing for none."""
    size = 12
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    if severity != "none":
        color = QColor(_SEVERITY[dark][severity])
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(color)
        if rank(severity) > 0:
            painter.setBrush(color)
        painter.drawEllipse(2, 2, size - 5, size - 5)
        painter.end()
    return QIcon(pixmap)
