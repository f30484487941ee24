"""Light and dark looks that follow the system colour scheme: Fusion, a palette, a little QSS.

Panels read colours from ``current()`` rather than hard-coding them, so both looks stay
readable. ``SMLENS_THEME=dark|light`` overrides the system (screenshots, offscreen runs).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

import smlens.resources

RESOURCES = Path(smlens.resources.__file__).resolve().parent


@dataclass(frozen=True)
class Theme:
    dark: bool
    window: str
    base: str
    alt_base: str
    text: str
    muted: str  # secondary text: units, captions
    border: str
    accent: str
    warn_bg: str
    warn_border: str
    error_bg: str
    error_border: str
    parts: tuple[tuple[str, str], ...]  # bytes_by_part() key -> colour, in bar order

    def part_color(self, part: str) -> str:
        return dict(self.parts).get(part, self.muted)


_PARTS = (
    ("graph", "#4c78a8"),
    ("variables", "#f58518"),
    ("assets", "#54a24b"),
    ("other", "#9d9d9d"),
)

LIGHT = Theme(
    dark=False,
    window="#f3f3f3",
    base="#ffffff",
    alt_base="#f7f7f7",
    text="#1f1f1f",
    muted="#6b6b6b",
    border="#d0d0d0",
    accent="#2f6fb5",
    warn_bg="#fff6dc",
    warn_border="#e3c36a",
    error_bg="#fde8e6",
    error_border="#e08a80",
    parts=_PARTS,
)

DARK = Theme(
    dark=True,
    window="#2b2b2b",
    base="#1f1f1f",
    alt_base="#262626",
    text="#e6e6e6",
    muted="#9a9a9a",
    border="#474747",
    accent="#5b9bde",
    warn_bg="#3d3520",
    warn_border="#8a7634",
    error_bg="#442524",
    error_border="#9c4a44",
    parts=(("graph", "#6a9bd1"), ("variables", "#f5a049"), ("assets", "#72bf68"), _PARTS[3]),
)

_current = LIGHT
THEMES = ("system", "light", "dark")  # View > Theme: follow the system, or one look always
_preference = "system"


def set_preference(choice: str) -> None:
    """ "light", "dark" or "system" (anything else means "system"); apply_theme uses it."""
    global _preference
    _preference = choice if choice in THEMES else "system"


def preference() -> str:
    return _preference


def current() -> Theme:
    return _current


def _wants_dark(app: QGuiApplication) -> bool:
    forced = os.environ.get("SMLENS_THEME", "").lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    if _preference != "system":
        return _preference == "dark"
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def _palette(theme: Theme) -> QPalette:
    pal = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colors = {
        role.Window: theme.window,
        role.WindowText: theme.text,
        role.Base: theme.base,
        role.AlternateBase: theme.alt_base,
        role.Text: theme.text,
        role.Button: theme.window,
        role.ButtonText: theme.text,
        role.ToolTipBase: theme.base,
        role.ToolTipText: theme.text,
        role.PlaceholderText: theme.muted,
        role.Highlight: theme.accent,
        role.HighlightedText: "#ffffff",
        role.Link: theme.accent,
        role.Mid: theme.border,
        role.Midlight: theme.alt_base if theme.dark else "#e8e8e8",
        role.Dark: "#151515" if theme.dark else "#a0a0a0",
        role.Light: "#3a3a3a" if theme.dark else "#ffffff",
    }
    for r, c in colors.items():
        pal.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(group.Disabled, r, QColor(theme.muted))
    return pal


def _stylesheet(theme: Theme) -> str:
    """resources/style.qss with its ``@name`` tokens replaced by the theme's colours."""
    qss = (RESOURCES / "style.qss").read_text(encoding="utf-8")
    tokens = sorted(vars(theme).items(), key=lambda kv: -len(kv[0]))
    for name, value in tokens:
        if isinstance(value, str):
            qss = qss.replace("@" + name, value)
    return qss


def app_icon() -> QIcon:
    return QIcon(str(RESOURCES / "icons" / "smlens.svg"))


def apply_theme(app: QApplication) -> Theme:
    """Set Fusion with the light or dark palette, the QSS, and pyqtgraph's colours."""
    global _current
    _current = DARK if _wants_dark(app) else LIGHT
    app.setStyle(QStyleFactory.create("Fusion"))
    app.setPalette(_palette(_current))
    app.setStyleSheet(_stylesheet(_current))
    plots = sys.modules.get("smlens.gui.base.plots")  # pyqtgraph, once a plot was made
    if plots is not None:
        plots.configure()
    return _current


class _SchemeFollower(QObject):
    """Re-applies the look on the system's colour-scheme switch; a bound slot, since
    PySide6 6.12 drops lambda connections made on long-lived objects."""

    def __init__(self, app: QApplication):
        super().__init__(app)
        self.app = app
        app.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)

    def _on_color_scheme_changed(self, _scheme) -> None:
        if _preference != "system":
            return
        apply_theme(self.app)
        restyle_plots(self.app)


def restyle_plots(app: QApplication) -> None:
    """Give plots made before a theme switch the new background and axis colours."""
    if "pyqtgraph" not in sys.modules:  # no plot made yet
        return
    import pyqtgraph as pg

    theme = current()
    for widget in app.allWidgets():
        if isinstance(widget, pg.PlotWidget):
            widget.setBackground(theme.base)
            for name in ("left", "bottom", "right", "top"):
                axis = widget.getPlotItem().getAxis(name)
                axis.setPen(theme.text)
                axis.setTextPen(theme.text)


def follow_system(app: QApplication) -> None:
    """Re-apply the look whenever the system switches between light and dark."""
    if app.property("smlens_follows_scheme"):
        return
    app.setProperty("smlens_follows_scheme", True)
    _SchemeFollower(app)
