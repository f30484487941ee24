"""Open one panel alone on a model, for a quick look: ``python -m smlens.gui.panels.ops PATH``.

After Orange3's WidgetPreview: the few lines every panel's ``__main__`` shares.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from smlens.core.errors import SmlensError
from smlens.core.formats.reader import open_model
from smlens.gui.base.collector import collect_garbage_on_the_ui_thread
from smlens.gui.base.theme import apply_theme


def application() -> QApplication:
    """The running QApplication, or a new one with the app's look."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        apply_theme(app)
    collect_garbage_on_the_ui_thread()
    return app


def preview(panel_cls: type, path: str | Path | None = None, *, run: bool = True) -> QWidget:
    """Show ``panel_cls()`` on the model at ``path`` (default: the first command-line
    argument); with ``run`` enter the event loop and exit with its status."""
    app = application()
    if path is None:
        if len(sys.argv) < 2:
            spec = getattr(sys.modules.get(panel_cls.__module__), "__spec__", None)
            sys.exit(f"usage: python -m {spec.name if spec else panel_cls.__module__} MODEL_PATH")
        path = sys.argv[1]
    try:
        model = open_model(path)
    except SmlensError as e:
        sys.exit(str(e))
    panel = panel_cls()
    panel.setWindowTitle(f"{panel.title} - {path}")
    panel.set_model(model)
    panel.resize(1100, 720)
    panel.show()
    if run:
        sys.exit(app.exec())
    return panel
