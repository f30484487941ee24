"""Export the graph as shown (every item of the current layout) to PNG or SVG."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QWidget

from smlens.core.errors import SmlensError
from smlens.gui.graph.scene import GraphScene

MAX_PIXELS = 120_000_000  # a PNG bigger than this is scaled down (about 480 MB of RGBA)


def export_png(scene: GraphScene, dest: str | Path, scale: float = 1.0) -> QSize:
    """Render the scene at ``scale`` (less when the image would be too big); returns its size."""
    source = scene.sceneRect()
    if source.isEmpty():
        raise SmlensError(str(dest), "nothing to export: no graph is shown")
    area = source.width() * source.height() * scale * scale
    if area > MAX_PIXELS:
        scale *= (MAX_PIXELS / area) ** 0.5
    size = QSize(max(1, int(source.width() * scale)), max(1, int(source.height() * scale)))
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor(scene.colors.canvas))
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    scene.render(painter, QRectF(0, 0, size.width(), size.height()), source)
    painter.end()
    if not image.save(str(dest)):
        raise SmlensError(str(dest), "could not write the PNG")
    return size


def export_svg(scene: GraphScene, dest: str | Path, title: str = "graph") -> QSize:
    """Vector export through QSvgGenerator: boxes, texts and edge paths stay editable."""
    source = scene.sceneRect()
    if source.isEmpty():
        raise SmlensError(str(dest), "nothing to export: no graph is shown")
    size = QSize(int(source.width()), int(source.height()))
    generator = QSvgGenerator()
    generator.setFileName(str(dest))
    generator.setSize(size)
    generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    generator.setDescription("Exported by SavedModel Lens")
    painter = QPainter()
    if not painter.begin(generator):
        raise SmlensError(str(dest), "could not write the SVG")
    painter.fillRect(QRectF(0, 0, size.width(), size.height()), QColor(scene.colors.canvas))
    scene.render(painter, QRectF(0, 0, size.width(), size.height()), source)
    painter.end()
    return size


def export_scene(scene: GraphScene, dest: str | Path, title: str) -> None:
    """The graph as shown, to ``dest``: SVG for a .svg name, else PNG."""
    if str(dest).lower().endswith(".svg"):
        export_svg(scene, dest, title)
    else:
        export_png(scene, dest)


def ask_export_path(parent: QWidget, title: str, kind: str) -> str:
    """Ask where to save; "" when the user cancels."""
    suggested = str(Path.home() / f"{_file_name(title)}.{kind}")
    dest, _ = QFileDialog.getSaveFileName(parent, f"Export {kind.upper()}", suggested, f"*.{kind}")
    return dest


def _file_name(title: str) -> str:
    return re.sub(r"[^\w.-]+", "_", title)[:80] or "graph"
