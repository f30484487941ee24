"""The laid-out graph as a QGraphicsScene: a few layer items, not one item per node.

A function of 14,000 ops fully expanded shows ~40,000 boxes and ~30,000 edges; an item per
node costs more to create than the whole layout. So the scene holds four layers (expanded
scope boxes, edges, nodes, arrowheads and labels) that keep their rectangles in numpy arrays
and paint only what the exposed rect shows, with less detail when zoomed out. Edges are a
handful of QGraphicsPathItems, one per tile and style, so Qt culls them by tile. Hit tests
are array lookups, which is also why the view never asks the scene for items at a point.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsScene,
    QStyleOptionGraphicsItem,
)

from smlens.core.graph.fold import WeightRow
from smlens.core.graph.layout import BOX_HEADER, Route
from smlens.core.graph.nav import ViewLayout
from smlens.core.graph.scopes import VisibleItem
from smlens.core.model.text import counted
from smlens.gui.graph.scene_data import SceneData, add_route, scene_data
from smlens.gui.graph.style import (
    CHEVRON,
    ROW,
    STRIP,
    TWO_LINES,
    GraphColors,
    NodeMetrics,
    colors,
    node_texts,
)

TEXT_LOD = 0.5  # below this scale node texts are not drawn
SUB_LOD = 0.55  # the second line of a node and its weight rows (the first view opens at 0.7)
DETAIL_LOD = 0.3  # below this nodes are flat rectangles, drawn in batches
LABEL_LOD = 0.85  # edge labels
ARROW_LOD = 0.25
CLOSED = ("scope", "series")  # boxes that open: drawn as a stack of cards with a ▸ mark
_FLAGS = Qt.AlignmentFlag


def culled(bounds: np.ndarray, rect: QRectF) -> np.ndarray:
    """Positions of the rows (x0, y0, x1, y1) of ``bounds`` that meet ``rect``."""
    if not len(bounds):
        return np.empty(0, dtype=np.int64)
    mask = (
        (bounds[:, 0] <= rect.right())
        & (bounds[:, 2] >= rect.left())
        & (bounds[:, 1] <= rect.bottom())
        & (bounds[:, 3] >= rect.top())
    )
    return np.flatnonzero(mask)


def lod_of(painter: QPainter, option) -> float:
    return QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())


class _Layer(QGraphicsItem):
    """Paints part of the scene from its arrays; the scene owns the data."""

    def __init__(self, scene: GraphScene):
        super().__init__()
        self.graph_scene = scene
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._bounds = QRectF()

    def set_bounds(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._bounds = rect

    def boundingRect(self) -> QRectF:
        return self._bounds


class BoxLayer(_Layer):
    """Expanded scopes: a tinted box with a header naming the scope."""

    def paint(self, painter: QPainter, option, widget=None) -> None:
        s = self.graph_scene
        d = s.data
        lod = lod_of(painter, option)
        c = s.colors
        shown = culled(d.box_bounds, option.exposedRect)
        if lod < DETAIL_LOD:
            self._paint_flat(painter, d.box_order[shown])
            return
        for k in shown:
            i = int(d.box_order[k])
            rect, item = d.qrects[i], d.items[i]
            depth = item.name.count("/")
            border = s.state_color(item.id) or QColor(c.box_border)
            painter.setPen(QPen(border, 2.0 if border != QColor(c.box_border) else 1.0))
            painter.setBrush(QColor(c.box_fill[depth % 2]))
            painter.drawRoundedRect(rect, 6, 6)
            if lod >= TEXT_LOD:
                self._paint_header(painter, rect, item)

    def _paint_flat(self, painter: QPainter, boxes: np.ndarray) -> None:
        """Zoomed far out (the minimap too): plain rectangles in batches, outer boxes
        first; then the few with a state colour (selected, traced, matched) over them."""
        s, c = self.graph_scene, self.graph_scene.colors
        d = s.data
        qrects = d.qrects
        painter.setPen(QPen(QColor(c.box_border), 1.0))
        depths = d.box_depth[boxes]
        for depth in np.unique(depths).tolist():
            painter.setBrush(QColor(c.box_fill[depth % 2]))
            painter.drawRects([qrects[i] for i in boxes[depths == depth].tolist()])
        for item_id in (s.selected, *s.traced, *s.matches):
            k = d.index.get(item_id) if item_id else None
            if k is not None and d.items[k].kind == "expanded":
                pen = QPen(s.state_color(item_id), 2.0)
                pen.setCosmetic(True)  # two screen pixels at any zoom: seen in the minimap
                painter.setPen(pen)
                painter.setBrush(QColor(c.box_fill[int(d.box_depth[k]) % 2]))
                painter.drawRect(qrects[k])

    def _paint_header(self, painter: QPainter, rect: QRectF, item: VisibleItem) -> None:
        s, c = self.graph_scene, self.graph_scene.colors
        header = QRectF(rect.x() + 8, rect.y(), rect.width() - 16, BOX_HEADER)
        count = counted(item.op_count, "op")
        count_w = s.metrics.small_metrics.horizontalAdvance(count) + 8
        title_room = header.width() - 14
        if title_room - count_w > s.metrics.title_metrics.horizontalAdvance(item.label):
            painter.setFont(s.metrics.small_font)
            painter.setPen(QColor(c.muted))
            painter.drawText(header, _FLAGS.AlignVCenter | _FLAGS.AlignRight, count)
        label = s.metrics.title_metrics.elidedText(
            item.label, Qt.TextElideMode.ElideMiddle, title_room
        )
        painter.setFont(s.metrics.title_font)
        painter.setPen(QColor(c.box_text))
        painter.drawText(header, _FLAGS.AlignVCenter | _FLAGS.AlignLeft, f"▾  {label}")


class NodeLayer(_Layer):
    """Ops, args, rets, collapsed scopes and box ports."""

    def paint(self, painter: QPainter, option, widget=None) -> None:
        s = self.graph_scene
        d = s.data
        lod = lod_of(painter, option)
        visible = d.leaf_order[culled(d.leaf_bounds, option.exposedRect)]
        if lod < DETAIL_LOD:
            self._paint_flat(painter, visible)
        else:
            for i in visible:
                self._paint_node(painter, int(i), lod)
        if lod >= DETAIL_LOD:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(s.colors.edge))
            for k in culled(d.port_bounds, option.exposedRect):
                painter.drawEllipse(d.qrects[int(d.port_order[k])])

    def _paint_flat(self, painter: QPainter, visible: np.ndarray) -> None:
        s = self.graph_scene
        d = s.data
        painter.setPen(Qt.PenStyle.NoPen)
        marks = s.marks  # when some are marked the rest go grey, so no family reads as one
        if not marks:  # batched by family, without a Python step per node
            codes = d.family_codes[visible]
            for code in np.unique(codes).tolist():
                painter.setBrush(QColor(s.colors.strip[d.family_names[code]]))
                painter.drawRects([d.qrects[i] for i in visible[codes == code].tolist()])
            return
        groups: dict[str, list[QRectF]] = {}  # a mark's kind ("" unmarked) -> its rects
        for i in visible:
            groups.setdefault(marks.get(d.items[i].id, ""), []).append(d.qrects[i])
        for kind, rects in groups.items():
            painter.setBrush(s.mark_palette[kind][0] if kind else QColor(s.colors.muted))
            painter.drawRects(rects)

    def _paint_node(self, painter: QPainter, i: int, lod: float) -> None:
        s, c = self.graph_scene, self.graph_scene.colors
        d = s.data
        rect, item, fam = d.qrects[i], d.items[i], d.families[i]
        dim = s.dimmed(item.id)
        if dim:
            painter.setOpacity(0.35)
        mark = s.mark_colors(item.id)  # the outline gives way to selection, the fill stays
        outline = s.state_color(item.id) or (mark[0] if mark else None)
        painter.setPen(QPen(outline, 2.4) if outline else QPen(QColor(c.border), 1.0))
        painter.setBrush(mark[1] if mark else QColor(c.node_fill[fam]))
        if item.kind in CLOSED:  # a stack of cards: the scope holds more inside
            painter.drawRoundedRect(rect.translated(3, 3), 5, 5)
        radius = rect.height() / 2 if item.kind in ("arg", "ret") else 5
        painter.drawRoundedRect(rect, radius, radius)
        if item.kind not in ("arg", "ret"):
            band = QRectF(rect.x() + 1, rect.y() + 1, STRIP, rect.height() - 2)
            painter.fillRect(band, QColor(c.strip[fam]))
        if lod >= TEXT_LOD:
            self._paint_texts(painter, i, rect, item, lod)
        if dim:
            painter.setOpacity(1.0)

    def _paint_texts(self, painter, i: int, rect: QRectF, item: VisibleItem, lod: float) -> None:
        s, c = self.graph_scene, self.graph_scene.colors
        d = s.data
        title, sub = s.texts(i)
        left = rect.x() + STRIP + 7
        right = rect.right() - 6
        if item.kind in ("arg", "ret"):
            left, right = rect.x() + 10, rect.right() - 10
        if item.kind in CLOSED or d.openable[i]:
            mark_x = left if item.kind in CLOSED else right - CHEVRON + 4
            mark = QRectF(mark_x, rect.y(), CHEVRON, rect.height() if not sub else 22)
            painter.setPen(QColor(c.strip[d.families[i]]))
            painter.setFont(s.metrics.title_font)
            painter.drawText(mark, _FLAGS.AlignVCenter | _FLAGS.AlignLeft, "▸")
            if item.kind in CLOSED:
                left += CHEVRON
            else:
                right -= CHEVRON
        align = _FLAGS.AlignHCenter if item.kind in ("arg", "ret") else _FLAGS.AlignLeft
        painter.setPen(QColor(c.text))
        painter.setFont(s.metrics.title_font)
        rows = s.rows(i) if lod >= SUB_LOD else []
        if rows:
            self._paint_rows(painter, rect, rows, left, right)
            painter.setPen(QColor(c.text))
            painter.setFont(s.metrics.title_font)
        if not sub or lod < SUB_LOD:
            height = TWO_LINES if rows else rect.height()
            box = QRectF(left, rect.y(), right - left, height)
            painter.drawText(box, align | _FLAGS.AlignVCenter, title)
            return
        painter.drawText(
            QRectF(left, rect.y() + 3, right - left, 17), align | _FLAGS.AlignVCenter, title
        )
        painter.setFont(s.metrics.small_font)
        painter.setPen(QColor(c.muted))
        painter.drawText(
            QRectF(left, rect.y() + 19, right - left, 15), align | _FLAGS.AlignVCenter, sub
        )

    def _paint_rows(self, painter: QPainter, rect: QRectF, rows, left: float, right: float):
        """A weight per row under a rule: its name, then its shape and dtype (or value)."""
        s, c = self.graph_scene, self.graph_scene.colors
        top = rect.y() + TWO_LINES
        painter.setPen(QPen(QColor(c.border), 0.6))
        painter.drawLine(QPointF(rect.x() + STRIP + 2, top), QPointF(rect.right() - 2, top))
        fm = s.metrics.small_metrics
        painter.setFont(s.metrics.small_font)
        for k, row in enumerate(rows):
            y = top + 1 + k * ROW
            painter.setPen(QColor(c.text))
            painter.drawText(QRectF(left, y, right - left, ROW), _FLAGS.AlignVCenter, row.label)
            room = right - left - fm.horizontalAdvance(row.label + "  ")
            text = fm.elidedText(row.text, Qt.TextElideMode.ElideMiddle, max(0.0, room))
            painter.setPen(QColor(c.muted))
            painter.drawText(
                QRectF(left, y, right - left, ROW), _FLAGS.AlignVCenter | _FLAGS.AlignRight, text
            )


class DecorLayer(_Layer):
    """Arrowheads, and the dtype and shape of each edge just below its source."""

    def paint(self, painter: QPainter, option, widget=None) -> None:
        s = self.graph_scene
        d = s.data
        lod = lod_of(painter, option)
        if lod < ARROW_LOD or not len(d.tips):
            return
        exposed = option.exposedRect
        painter.setPen(Qt.PenStyle.NoPen)
        arrows: dict[str, QPainterPath] = {}
        for k in culled(d.tip_bounds, exposed):
            x, y, down = d.tips[k]
            path = arrows.setdefault(d.route_styles[k], QPainterPath())
            path.addPolygon(
                QPolygonF(
                    [QPointF(x, y), QPointF(x - 3.5, y - 7 * down), QPointF(x + 3.5, y - 7 * down)]
                )
            )
        for style, path in arrows.items():
            painter.setBrush(s.edge_color(style))
            painter.drawPath(path)
        if lod < LABEL_LOD:
            return
        painter.setFont(s.metrics.label_font)
        fm = s.metrics.label_metrics
        done: set[tuple] = set()
        bg = QColor(s.colors.label_bg)
        bg.setAlpha(215)
        for k in culled(d.label_bounds, exposed):
            text = s.edge_label(int(k))
            x, y = d.label_at[k]
            if not text or (x, y, text) in done:
                continue
            done.add((x, y, text))
            box = QRectF(x + 4, y + 2, fm.horizontalAdvance(text) + 4, fm.height())
            painter.fillRect(box, bg)
            painter.setPen(QColor(s.colors.muted))
            painter.drawText(box, _FLAGS.AlignCenter, text)


class GraphScene(QGraphicsScene):
    """Shows one ViewLayout; selection, trace and search state are ids of shown items."""

    def __init__(self, metrics: NodeMetrics, parent=None):
        super().__init__(parent)
        self.metrics = metrics
        self.colors: GraphColors = colors()
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.view: ViewLayout | None = None
        self.data = SceneData()  # what is drawn of the view, made with its layout
        self.selected: str | None = None
        self.traced: set[str] = set()
        self.traced_pairs: set[tuple[str, str]] = set()
        self.matches: set[str] = set()
        self.marks: dict[str, str] = {}  # shown id -> a kind, such as "added" (set_marks)
        self.mark_palette: dict[str, tuple[QColor, QColor]] = {}  # kind -> outline, fill
        self.label_text: Callable[[Route], str] = lambda route: route.edge.dtype
        self.node_texts: dict[str, tuple[str, str]] = {}  # overrides: see variable_texts
        self._edge_items: list[QGraphicsPathItem] = []
        self._trace_item: QGraphicsPathItem | None = None
        self._text_cache: dict[int, tuple[str, str]] = {}
        self._label_cache: dict[int, str] = {}
        self.box_layer = BoxLayer(self)
        self.node_layer = NodeLayer(self)
        self.decor_layer = DecorLayer(self)
        for z, layer in enumerate((self.box_layer, self.node_layer, self.decor_layer)):
            layer.setZValue(z * 2)
            self.addItem(layer)

    # -- building ------------------------------------------------------------------------

    def show_layout(
        self, view: ViewLayout | None, texts: dict | None = None, data: SceneData | None = None
    ) -> None:
        """Replace what is shown with ``view`` (None: nothing); ``texts`` overrides the
        lines of some nodes, as the layout's size function did. ``data``: scene_data of
        ``view``, made off the UI thread (else it is made here)."""
        self.node_texts = texts or {}
        self.colors = colors()
        self.setBackgroundBrush(QColor(self.colors.canvas))
        for item in self._edge_items:
            self.removeItem(item)
        self._edge_items.clear()
        self._set_trace_path([])
        self._text_cache.clear()
        self._label_cache.clear()
        self.view = view
        if view is None:
            self.data = SceneData()
            self._set_bounds(QRectF())
            return
        self.data = data if data is not None else scene_data(view, self.node_texts)
        for style, path in data.paths:
            item = QGraphicsPathItem(path)
            item.setPen(self._edge_pen(style))
            item.setZValue(1)
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.addItem(item)
            self._edge_items.append(item)
        m = 40.0
        self._set_bounds(QRectF(-m, -m, view.layout.width + 2 * m, view.layout.height + 2 * m))

    def _set_bounds(self, rect: QRectF) -> None:
        for layer in (self.box_layer, self.node_layer, self.decor_layer):
            layer.set_bounds(rect)
        self.setSceneRect(rect)

    def edge_color(self, style: str) -> QColor:
        c = self.colors
        if style == "feedback":
            return QColor(c.feedback_edge)
        if style == "trace":
            return QColor(c.traced)
        return QColor(c.control_edge if style == "control" else c.edge)

    def _edge_pen(self, style: str) -> QPen:
        width = {"data": 1.2, "data2": 2.0, "data3": 3.0, "trace": 2.4}.get(style, 1.2)
        pen = QPen(self.edge_color(style), width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        if style in ("control", "feedback"):
            pen.setDashPattern([4.0, 3.0])
        return pen

    # -- texts ---------------------------------------------------------------------------

    def texts(self, i: int) -> tuple[str, str]:
        """A node's two lines, elided to its width (cached: painting asks again and again)."""
        found = self._text_cache.get(i)
        if found is None:
            item, rect = self.data.items[i], self.data.qrects[i]
            hierarchy = self.view.loaded.hierarchy if self.view else None
            title, sub = node_texts(item, hierarchy, self.node_texts)
            room = (
                rect.width()
                - STRIP
                - 14
                - (CHEVRON if item.kind in CLOSED or self.data.openable[i] else 0)
            )
            mode = Qt.TextElideMode.ElideMiddle
            title = self.metrics.title_metrics.elidedText(title, mode, room)
            sub = self.metrics.small_metrics.elidedText(sub, mode, room) if sub else ""
            found = self._text_cache[i] = (title, sub)
        return found

    def edge_label(self, k: int) -> str:
        if k not in self._label_cache:
            self._label_cache[k] = self.label_text(self.data.routes[k])
        return self._label_cache[k]

    # -- questions -----------------------------------------------------------------------

    def item_at(self, pos: QPointF) -> str | None:
        """The shown item under ``pos``: a node or collapsed scope, else the innermost
        expanded scope."""
        x, y = pos.x(), pos.y()
        for bounds, order in (
            (self.data.leaf_bounds, self.data.leaf_order),
            (self.data.box_bounds, self.data.box_order),
        ):
            if not len(bounds):
                continue
            hit = np.flatnonzero(
                (bounds[:, 0] <= x)
                & (bounds[:, 2] - 3 >= x)
                & (bounds[:, 1] <= y)
                & (bounds[:, 3] - 3 >= y)
            )
            if len(hit):
                return self.data.items[int(order[hit[-1]])].id  # boxes: sorted by depth
        return None

    def nearest_items(self, pos: QPointF, count: int = 12) -> list[str]:
        """The ids of the ``count`` nodes and collapsed scopes whose centres lie nearest
        ``pos``, nearest first."""
        b = self.data.leaf_bounds
        if not len(b):
            return []
        d = ((b[:, 0] + b[:, 2]) / 2 - pos.x()) ** 2 + ((b[:, 1] + b[:, 3]) / 2 - pos.y()) ** 2
        near = np.argpartition(d, count)[:count] if len(d) > count else np.arange(len(d))
        return [self.data.items[int(self.data.leaf_order[k])].id for k in near[np.argsort(d[near])]]

    def rows(self, i: int) -> list[WeightRow]:
        """The weight rows of shown item ``i`` (ops only)."""
        item = self.data.items[i]
        if item.kind != "op" or self.view is None:
            return []
        return self.view.loaded.drawn_rows(item.name)

    def weight_at(self, item_id: str, pos: QPointF) -> WeightRow | None:
        """The weight row of ``item_id`` under ``pos``, if any."""
        k = self.data.index.get(item_id)
        if k is None:
            return None
        rows = self.rows(k)
        offset = pos.y() - self.data.qrects[k].y() - TWO_LINES - 1
        if not rows or offset < 0:
            return None
        row = int(offset // ROW)
        return rows[row] if row < len(rows) else None

    def on_header(self, item_id: str, pos: QPointF) -> bool:
        """Whether ``pos`` is on the header of expanded scope ``item_id``."""
        rect = self.rect_of(item_id)
        return rect is not None and rect.top() <= pos.y() <= rect.top() + BOX_HEADER

    def rect_of(self, item_id: str) -> QRectF | None:
        k = self.data.index.get(item_id)
        return None if k is None else QRectF(self.data.qrects[k])

    def item(self, item_id: str) -> VisibleItem | None:
        k = self.data.index.get(item_id)
        return None if k is None else self.data.items[k]

    def item_ids(self) -> set[str]:
        return set(self.data.index)

    def edge_item_count(self) -> int:
        return len(self._edge_items)

    def set_edges_visible(self, visible: bool) -> None:
        for item in self._edge_items:
            item.setVisible(visible)

    # -- state ---------------------------------------------------------------------------

    def state_color(self, item_id: str) -> QColor | None:
        c = self.colors
        if item_id == self.selected:
            return QColor(c.selected)
        if item_id in self.traced:
            return QColor(c.traced)
        if item_id in self.matches:
            return QColor(c.match)
        return None

    def dimmed(self, item_id: str) -> bool:
        return bool(self.traced) and item_id not in self.traced and item_id != self.selected

    def set_selected(self, item_id: str | None) -> None:
        if item_id == self.selected:
            return
        for old in (self.selected, item_id):
            self._update_item(old)
        self.selected = item_id

    def set_matches(self, ids: set[str]) -> None:
        self.matches = set(ids)
        self._update_all()

    def set_marks(self, marks: dict[str, str], colors: dict[str, QColor | str]) -> None:
        """Mark shown items by kind (the compare view's "added", "removed", "changed"): an
        outline in ``colors[kind]`` and a fill tinted with it, which stay when zoomed out."""
        canvas = QColor(self.colors.canvas)
        self.mark_palette = {}
        for kind, color in colors.items():
            line = QColor(color)
            mix = zip(canvas.getRgb()[:3], line.getRgb()[:3], strict=True)
            self.mark_palette[kind] = (line, QColor(*(round(b + (o - b) * 0.22) for b, o in mix)))
        self.marks = {i: kind for i, kind in marks.items() if kind in self.mark_palette}
        self._update_all()

    def mark_colors(self, item_id: str) -> tuple[QColor, QColor] | None:
        """The outline and fill of a marked item; None when it has no mark."""
        kind = self.marks.get(item_id)
        return None if kind is None else self.mark_palette[kind]

    def set_traced(self, ids: set[str], pairs: set[tuple[str, str]]) -> None:
        """Highlight items ``ids`` and the edges between shown items ``pairs``."""
        self.traced, self.traced_pairs = set(ids), set(pairs)
        self._set_trace_path(
            [r for r in self.data.routes if (r.edge.src, r.edge.dst) in self.traced_pairs]
        )
        self._update_all()

    def _set_trace_path(self, routes: list[Route]) -> None:
        if self._trace_item is not None:
            self.removeItem(self._trace_item)
            self._trace_item = None
        if not routes:
            return
        path = QPainterPath()
        for r in routes:
            add_route(path, r.points)
        self._trace_item = QGraphicsPathItem(path)
        self._trace_item.setPen(self._edge_pen("trace"))
        self._trace_item.setZValue(1.5)
        self.addItem(self._trace_item)

    def _update_item(self, item_id: str | None) -> None:
        rect = self.rect_of(item_id) if item_id else None
        if rect is not None:
            self.update(rect.adjusted(-4, -4, 6, 6))

    def _update_all(self) -> None:
        for layer in (self.box_layer, self.node_layer, self.decor_layer):
            layer.update()
