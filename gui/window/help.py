"""Help ▸ Keyboard Shortcuts and Help ▸ About: what the keys do, and which version, which
TensorFlow and which files this copy of SavedModel Lens uses."""

from __future__ import annotations

import importlib.metadata
import sys
from html import escape

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from smlens.core.run.availability import TensorFlowStatus, find_tensorflow

# Shortcuts that live on widgets rather than on menu actions.
PANEL_SHORTCUTS = (
    ("Ctrl+Return", "Run: run the chosen signature"),
    ("Ctrl+F", "Graph and tables: find"),
)


def version() -> str:
    try:
        return importlib.metadata.version("smlens")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def shortcuts(window: QMainWindow) -> list[tuple[str, str]]:
    """(keys, what) for every menu action with a shortcut, then the panels' own."""
    found = []
    for action in window.findChildren(QAction):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = action.text().replace("&", "").rstrip("…")
        if keys and text:
            found.append((keys, text))
    return sorted(set(found), key=lambda kv: kv[1]) + list(PANEL_SHORTCUTS)


def shortcuts_html(window: QMainWindow) -> str:
    rows = "".join(
        f"<tr><td><b>{escape(keys)}</b>&nbsp;&nbsp;</td><td>{escape(what)}</td></tr>"
        for keys, what in shortcuts(window)
    )
    return f"<table>{rows}</table>"


def about_text(settings_file: str, sample: str, tensorflow: TensorFlowStatus | None = None) -> str:
    """The About box; ``tensorflow`` is what the Run panel knows (else looked for here), so
    both say the same."""
    tensorflow = tensorflow or find_tensorflow()
    return "\n".join(
        [
            f"SavedModel Lens {version()}",
            "Inspect, compare and run TensorFlow models; reading needs no TensorFlow.",
            "",
            f"TensorFlow: {tensorflow.about_text}",
            f"Python: {sys.version.split()[0]} at {sys.executable}",
            f"Settings: {settings_file}",
            f"Sample model: {sample}",
        ]
    )


def show_shortcuts(window: QMainWindow) -> None:
    QMessageBox.information(window, "Keyboard Shortcuts", shortcuts_html(window))


def show_about(
    parent: QWidget, settings_file: str, sample: str, tensorflow: TensorFlowStatus | None = None
) -> None:
    text = about_text(settings_file, sample, tensorflow)
    QMessageBox.about(parent, "About SavedModel Lens", text)
