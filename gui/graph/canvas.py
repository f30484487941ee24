"""The graph view: zoom around the cursor, drag to pan, fit, and a minimap in the corner.

Mouse events never reach the scene (see scene.py): the view turns presses into
clicks, double-clicks and drags itself and asks the scene which item is under the cursor.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QApplication, QGraphicsView, QToolTip, QWidget

from smlens.gui.graph.scene import GraphScene
from smlens.gui.graph.style import node_texts

MIN_SCALE, MAX_SCALE = 0.005, 4.0
DRAG_DISTANCE = 4
MINIMAP_SIZE = 180
# More edges than this are a grey haze at minimap size, and drawing them cost 70 ms (at
# 140,000 items) of a UI-thread stall: the minimap leaves them out.
MINIMAP_EDGES = 5000


class Minimap(QWidget):
    """The whole graph in small with the visible part outlined; click or drag to go there."""

    def __init__(self, canvas: GraphCanvas):
        super().__init__(canvas)
        self.canvas = canvas
        self.image = QImage()
        self._source = QRectF()
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the view")
        self.hide()

    def refresh(self) -> None:
        scene = self.canvas.graph_scene
        source = scene.sceneRect()
        if source.isEmpty():
            self.image, self._source = QImage(), QRectF()
            self.hide()
            return
        scale = MINIMAP_SIZE / max(source.width(), source.height())
        w = max(24, int(source.width() * scale))
        h = max(24, int(source.height() * scale))
        self.image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        self.image.fill(QColor(scene.colors.canvas))
        painter = QPainter(self.image)
        haze = len(scene.data.routes) > MINIMAP_EDGES
        scene.set_edges_visible(not haze)
        scene.render(painter, QRectF(0, 0, w, h), source, Qt.AspectRatioMode.IgnoreAspectRatio)
        scene.set_edges_visible(True)
        painter.end()
        self._source = source
        self.resize(w + 2, h + 2)
        self.place()

    def place(self) -> None:
        """Keep to the viewport's corner, and show only when part of the graph is out of
        view: over a graph that fits, the map repeats it and covers its corner."""
        viewport = self.canvas.viewport().geometry()
        self.move(viewport.right() - self.width() - 10, viewport.bottom() - self.height() - 10)
        self.raise_()
        self.follow_view()

    def follow_view(self) -> None:
        """Show the map while the view leaves part of the graph out; hide it otherwise."""
        visible = self.canvas.visible_scene_rect().adjusted(-1, -1, 1, 1)  # rounding
        fits = self._source.isEmpty() or visible.contains(self._source)
        self.setVisible(not self.image.isNull() and not fits)
        self.update()

    def _to_scene(self, pos: QPointF) -> QPointF:
        s = self._source
        return QPointF(
            s.x() + (pos.x() - 1) / max(1, self.image.width()) * s.width(),
            s.y() + (pos.y() - 1) / max(1, self.image.height()) * s.height(),
        )

    def _to_map(self, rect: QRectF) -> QRectF:
        s = self._source
        sx, sy = self.image.width() / s.width(), self.image.height() / s.height()
        return QRectF(
            1 + (rect.x() - s.x()) * sx,
            1 + (rect.y() - s.y()) * sy,
            rect.width() * sx,
            rect.height() * sy,
        )

    def paintEvent(self, event) -> None:
        scene = self.canvas.graph_scene
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(scene.colors.canvas))
        painter.drawImage(1, 1, self.image)
        painter.setPen(QPen(QColor(scene.colors.box_border), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        visible = self._to_map(self.canvas.visible_scene_rect()).intersected(QRectF(self.rect()))
        accent = QColor(scene.colors.selected)
        painter.setPen(QPen(accent, 1.5))
        fill = QColor(accent)
        fill.setAlpha(40)
        painter.setBrush(fill)
        painter.drawRect(visible)
        painter.end()

    def mousePressEvent(self, event) -> None:
        self.canvas.centerOn(self._to_scene(event.position()))

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.canvas.centerOn(self._to_scene(event.position()))


class GraphCanvas(QGraphicsView):
    """Shows a GraphScene; emits which item a click, double-click or context menu hit."""

    item_clicked = Signal(str, QPointF)  # item id ("" for empty canvas), scene position
    item_double_clicked = Signal(str, QPointF)
    context_requested = Signal(str, QPointF, QPoint)  # id, scene pos, global pos
    zoom_changed = Signal(float)

    def __init__(self, scene: GraphScene, parent: QWidget | None = None):
        super().__init__(scene, parent)
        self.graph_scene = scene
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing, True)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setInteractive(False)  # the scene's own hit tests would stroke every edge path
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.viewport().setMouseTracking(True)
        self.minimap = Minimap(self)
        self._press: QPoint | None = None
        self._press_scroll = (0, 0)
        self._dragging = False
        self.horizontalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        scene.sceneRectChanged.connect(self._update_margins)

    # -- zoom and position ---------------------------------------------------------------

    @property
    def scale_factor(self) -> float:
        return self.transform().m11()

    def set_scale(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``scale`` keeping the scene point under ``anchor`` (a viewport position;
        default its centre) where it is, as maps and diagram apps do.

        QGraphicsView's AnchorUnderMouse cannot do it here: it reads the last mouse move the
        view saw, and this view handles mouse moves itself, so it drifted to a corner.
        """
        scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        factor = scale / self.scale_factor
        if abs(factor - 1) < 1e-9:
            return
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        fixed = self.mapToScene(anchor.toPoint())
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(factor, factor)
        self._update_margins()
        self._put(fixed, anchor)
        self.zoom_changed.emit(self.scale_factor)
        self.minimap.follow_view()

    def _put(self, scene_point: QPointF, viewport_point: QPointF) -> None:
        """Scroll so that ``scene_point`` shows at ``viewport_point``."""
        now = self.mapFromScene(scene_point)
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(now.x() - viewport_point.x()))
        v.setValue(v.value() + round(now.y() - viewport_point.y()))

    def _update_margins(self, *_args) -> None:
        """Let the view scroll a viewport beyond the graph on every side, so any point can
        be brought under the cursor or the centre (a map is not pinned to its edges)."""
        rect = self.graph_scene.sceneRect()
        if rect.isEmpty():
            self.setSceneRect(rect)
            return
        scale = self.scale_factor or 1.0
        mx = self.viewport().width() / scale
        my = self.viewport().height() / scale
        center = self.visible_scene_rect().center()
        self.setSceneRect(rect.adjusted(-mx, -my, mx, my))
        self.centerOn(center)  # a new scene rect moves the scroll bars' origin

    def zoom_by(self, factor: float) -> None:
        self.set_scale(self.scale_factor * factor)

    def fit_all(self, max_scale: float = 1.0) -> None:
        """Show the whole graph, centred, but never larger than ``max_scale``."""
        rect = self.graph_scene.sceneRect()
        view = self.viewport().rect()
        if rect.isEmpty() or view.isEmpty():
            return
        fit = min(view.width() / rect.width(), view.height() / rect.height())
        self.set_scale(min(float(max_scale), fit))
        self.centerOn(rect.center())

    def show_at(self, scale: float, center: QPointF) -> None:
        """Zoom to ``scale`` with the scene point ``center`` at the viewport's centre (the
        first screen: core/graph/start.py chooses both)."""
        self.set_scale(scale)
        self.centerOn(center)

    def center_on_item(self, item_id: str, least_scale: float = 0.8) -> bool:
        """Centre the item, zooming in to a readable scale when further out than that."""
        rect = self.graph_scene.rect_of(item_id)
        if rect is None:
            return False
        if self.scale_factor < least_scale:
            self.set_scale(least_scale)
        self.centerOn(rect.center())
        return True

    def viewport_pos(self, item_id: str) -> QPointF | None:
        """Where the top left of ``item_id`` is on screen."""
        rect = self.graph_scene.rect_of(item_id)
        return None if rect is None else QPointF(self.mapFromScene(rect.topLeft()))

    def keep_at(self, item_id: str, before: QPointF) -> None:
        """Scroll so that ``item_id`` stays where it was on screen (``before``)."""
        rect = self.graph_scene.rect_of(item_id)
        if rect is not None:
            self._put(rect.topLeft(), before)

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def view_state(self) -> tuple[float, QPointF]:
        return self.scale_factor, self.visible_scene_rect().center()

    def restore_state(self, state: tuple[float, QPointF]) -> None:
        scale, center = state
        self.set_scale(scale)
        self.centerOn(center)

    def paint_now(self) -> None:
        """Paint the viewport at once (benchmarks and tests: what the user would see)."""
        self.viewport().repaint()
        QApplication.processEvents()

    # -- events --------------------------------------------------------------------------

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - delta)
            return
        self.set_scale(self.scale_factor * 1.0015**delta, anchor=event.position())

    def mousePressEvent(self, event) -> None:
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._press = event.position().toPoint()
            self._press_scroll = (
                self.horizontalScrollBar().value(),
                self.verticalScrollBar().value(),
            )
            self._dragging = event.button() == Qt.MouseButton.MiddleButton
            if self._dragging:
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        pos = event.position().toPoint()
        if self._press is not None and event.buttons():
            moved = pos - self._press
            if not self._dragging and moved.manhattanLength() >= DRAG_DISTANCE:
                self._dragging = True
                self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            if self._dragging:
                self.horizontalScrollBar().setValue(self._press_scroll[0] - moved.x())
                self.verticalScrollBar().setValue(self._press_scroll[1] - moved.y())
            return
        hit = self.graph_scene.item_at(self.mapToScene(pos))
        shape = Qt.CursorShape.PointingHandCursor if hit else Qt.CursorShape.ArrowCursor
        self.viewport().setCursor(shape)

    def mouseReleaseEvent(self, event) -> None:
        was_drag = self._dragging
        self._press, self._dragging = None, False
        self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
        if not was_drag and event.button() == Qt.MouseButton.LeftButton:
            pos = self.mapToScene(event.position().toPoint())
            self.item_clicked.emit(self.graph_scene.item_at(pos) or "", pos)

    def mouseDoubleClickEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            pos = self.mapToScene(event.position().toPoint())
            self.item_double_clicked.emit(self.graph_scene.item_at(pos) or "", pos)

    def contextMenuEvent(self, event) -> None:
        pos = self.mapToScene(event.pos())
        self.context_requested.emit(self.graph_scene.item_at(pos) or "", pos, event.globalPos())

    def viewportEvent(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            self._show_tooltip(event)
            return True
        return super().viewportEvent(event)

    def _show_tooltip(self, event) -> None:
        scene = self.graph_scene
        item = scene.item(scene.item_at(self.mapToScene(event.pos())) or "")
        if item is None or item.kind in ("in", "out"):
            QToolTip.hideText()
            return
        hierarchy = scene.view.loaded.hierarchy if scene.view else None
        title, sub = node_texts(item, hierarchy, scene.node_texts)
        kind = {"scope": "name scope", "expanded": "name scope", "series": "series of scopes"}
        kind = kind.get(item.kind, item.kind)
        text = f"<b>{item.name}</b><br>{kind}: {title if item.kind == 'op' else sub or title}"
        QToolTip.showText(event.globalPos(), text, self.viewport())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_margins()
        self.minimap.place()

    def _on_scrolled(self, _value: int) -> None:
        self.minimap.follow_view()

    def sizeHint(self) -> QSize:
        return QSize(900, 700)
