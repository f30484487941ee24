"""The side-by-side graphs of a changed function: both sides open, the changed nodes are
coloured on each (removed red in A, added green in B, changed amber in both), a selection
on one side selects its counterpart on the other, and a pan or zoom is followed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QWidget

from smlens.core.diff.model_diff import diff_models
from smlens.core.diff.report.counterparts import node_marks
from smlens.core.formats.reader import open_model
from smlens.gui.compare.split import FunctionSplitView, shown_marks
from smlens.gui.compare.style import mark_colors
from smlens.gui.graph.scene import GraphScene
from smlens.gui.graph.style import NodeMetrics

LAYOUT_MS = 60_000


@pytest.fixture
def renamed_layer(qtbot, models):
    """The split view on the pair's __call__ function, both sides laid out."""
    root = models.path("pair_keras_renamed_layer")
    a, b = open_model(root / "a"), open_model(root / "b")
    diff = diff_models(a, b, values=False)
    (functions,) = diff.groups["functions"]
    call = next(c for c in functions.children if c.path[-1].startswith("__inference___call__"))
    view = FunctionSplitView()
    qtbot.addWidget(view)
    view.resize(1400, 800)
    view.show()
    with qtbot.waitSignal(view.layouts_applied, timeout=LAYOUT_MS):
        view.show_function(a, b, call)
    return view, node_marks(call)


def _render(scene, source: QRectF, scale: float) -> QImage:
    image = QImage(
        int(source.width() * scale), int(source.height() * scale), QImage.Format.Format_RGB32
    )
    image.fill(QColor("white"))
    painter = QPainter(image)
    scene.render(painter, QRectF(image.rect()), source)
    painter.end()
    return image


def _count_near(image: QImage, color: QColor, within: int) -> int:
    want = color.getRgb()[:3]
    return sum(
        max(abs(p - q) for p, q in zip(image.pixelColor(x, y).getRgb()[:3], want, strict=True))
        < within
        for x in range(image.width())
        for y in range(image.height())
    )


def _pixels_near(scene, item_id: str, color: QColor, within: int = 40) -> int:
    """Pixels of ``item_id``'s box, drawn at scale 1, within ``within`` of ``color``."""
    return _count_near(
        _render(scene, scene.rect_of(item_id).adjusted(-2, -2, 2, 2), 1), color, within
    )


def _zoomed_out_pixels(scene, color: QColor, marks: dict | None = None) -> int:
    """Pixels near ``color`` in the whole scene drawn at scale 0.2 (``marks``: set first)."""
    if marks is not None:
        scene.set_marks(marks, {})
    return _count_near(_render(scene, scene.sceneRect(), 0.2), color, 12)


def test_renamed_layer_function_is_coloured_added_in_b_and_changed_in_both(renamed_layer):
    view, marks = renamed_layer
    renamed = next(n for n in marks.a_to_b if "MatMul" in n)  # probs_1 -> probabilities_1
    added = next(n for n, k in marks.b.items() if k == "added" and "dense_extra" in n)
    assert marks.a_to_b[renamed] != renamed

    a, b = view.marked("a"), view.marked("b")
    assert a[view.panels["a"].shown_id(renamed)] == "changed"
    assert b[view.panels["b"].shown_id(marks.a_to_b[renamed])] == "changed"
    assert b[view.panels["b"].shown_id(added)] in ("added", "changed")
    assert "added" in b.values() and "added" not in a.values()
    assert "removed" not in b.values()
    assert set(a) <= view.panels["a"].scene.item_ids()
    assert set(b) <= view.panels["b"].scene.item_ids()

    colors = mark_colors()
    scene_b = view.panels["b"].scene
    green = next(i for i, k in b.items() if k == "added")
    assert scene_b.mark_colors(green)[0] == colors["added"]
    outline, fill = scene_b.mark_colors(green)
    rect = scene_b.rect_of(green)
    assert _pixels_near(scene_b, green, outline) > 2 * (rect.width() + rect.height())
    assert _pixels_near(scene_b, green, fill, within=8) > rect.width() * rect.height() / 2
    plain = sorted(i for i in scene_b.item_ids() - set(b) if scene_b.item(i).kind == "op")
    assert plain and all(scene_b.mark_colors(i) is None for i in plain)
    for i in plain:  # a few antialiased pixels of a green band may come near the tint
        area = scene_b.rect_of(i).width() * scene_b.rect_of(i).height()
        assert _pixels_near(scene_b, i, fill, within=8) < 0.02 * area

    # zoomed far out nodes are flat rectangles; the marked ones keep their colour
    assert _zoomed_out_pixels(scene_b, outline) > _zoomed_out_pixels(scene_b, outline, marks={})

    text = view.legend.text()
    for kind, words in (("removed", "removed from A"), ("added", "added in B")):
        assert colors[kind].name() in text and words in text


def test_selection_and_viewport_follow_the_other_side(renamed_layer):
    view, marks = renamed_layer
    renamed = next(n for n in marks.a_to_b if "MatMul" in n)

    view.select("a", renamed)
    assert view.panels["a"].selected == renamed
    assert view.panels["b"].selected == marks.a_to_b[renamed]

    a, b = view.panels["a"].canvas, view.panels["b"].canvas
    a.set_scale(1.3)
    assert b.scale_factor == pytest.approx(1.3)

    # an unchanged node under renamed scopes (functional_1 -> functional_1_1): a pan on A
    # (its scroll bars move) puts B's twin at the same place on screen
    relu = next(n.name for n in view.panels["a"].view.loaded.graph.nodes if n.op == "Relu")
    twin = view.counterpart("a", relu)
    assert twin is not None and twin != relu and twin.endswith("/Relu")
    a.centerOn(a.graph_scene.rect_of(relu).center())
    assert a.graph_scene.nearest_items(a.visible_scene_rect().center())[0] == relu
    assert b.viewport_pos(twin) == a.viewport_pos(relu)
    assert b.graph_scene.nearest_items(b.visible_scene_rect().center())[0] == twin

    b.centerOn(b.graph_scene.rect_of(marks.a_to_b[renamed]).center())  # and back: A follows B
    assert a.viewport_pos(renamed) == b.viewport_pos(marks.a_to_b[renamed])


def test_a_collapsed_scope_takes_its_nodes_kind_or_changed_when_they_differ():
    where = {"s/x": "s/", "s/y": "s/", "t/z": "t/", "u": "u", "gone": None}
    marks = {"s/x": "added", "s/y": "changed", "t/z": "added", "u": "removed", "gone": "added"}

    assert shown_marks(marks, where.get) == {"s/": "changed", "t/": "added", "u": "removed"}


def test_scene_marks_ignore_kinds_without_a_colour(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    scene = GraphScene(NodeMetrics(widget.font()))
    scene.set_marks({"n": "added", "m": "odd"}, {"added": "#00ff00"})

    assert scene.marks == {"n": "added"}
    assert scene.mark_colors("n")[0] == QColor("#00ff00")
    assert scene.mark_colors("m") is None
    assert scene.nearest_items(QPointF(0, 0)) == []
