"""What the scene draws is made by the layout task, off the UI thread, and equals what the
scene would make itself; zoomed far out (and in the minimap) boxes and nodes are drawn in
batches, in their colours, with the selected box still outlined."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from smlens.core import open_model
from smlens.gui.graph.panel import GraphPanel
from smlens.gui.graph.scene_data import scene_data
from smlens.resources import sample_path
from tests.gui.graph.panels import graph_panel

WAIT_MS = 30_000


@pytest.fixture
def panel(qtbot) -> GraphPanel:
    widget = graph_panel(qtbot, shown=True)
    with qtbot.waitSignal(widget.layout_applied, timeout=WAIT_MS):
        widget.set_model(open_model(sample_path()))
    with qtbot.waitSignal(widget.layout_applied, timeout=WAIT_MS):
        widget.expand_all()
    return widget


def test_the_scene_takes_what_the_layout_task_made(panel):
    view = panel.view
    made = panel.loader.scene_data_for(view)
    assert made is not None
    scene = panel.scene
    assert scene.data is made
    assert scene.edge_item_count() == len(made.paths) > 0
    again = scene_data(view, panel.loader.texts_for(view.loaded))  # as the scene would
    assert [it.id for it in again.items] == [it.id for it in made.items]
    assert again.families == made.families
    assert np.array_equal(again.box_order, made.box_order)
    assert np.array_equal(again.leaf_bounds, made.leaf_bounds)
    assert np.allclose(again.tips, made.tips)


def _render(scene, scale: float) -> QImage:
    rect = scene.sceneRect()
    w, h = max(8, int(rect.width() * scale)), max(8, int(rect.height() * scale))
    image = QImage(w, h, QImage.Format.Format_ARGB32)
    image.fill(QColor(scene.colors.canvas))
    painter = QPainter(image)
    scene.render(painter, QRectF(0, 0, w, h), rect, Qt.AspectRatioMode.IgnoreAspectRatio)
    painter.end()
    return image


def _count(image: QImage, color: str) -> int:
    wanted = QColor(color).rgb()
    return sum(
        image.pixel(x, y) == wanted for y in range(image.height()) for x in range(image.width())
    )


def test_far_out_boxes_and_nodes_keep_their_colours_and_the_selection(panel):
    scene = panel.scene
    boxes = [it for it in scene.data.items if it.kind == "expanded"]
    assert boxes
    image = _render(scene, 0.1)  # below DETAIL_LOD: the batched paths
    colors = scene.colors
    assert _count(image, colors.box_fill[0]) > 0
    strips = {colors.strip[f] for f in scene.data.families if f in colors.strip}
    assert any(_count(image, c) > 0 for c in strips)
    assert _count(image, colors.selected) == 0
    panel.state.select(boxes[0].id)
    assert _count(_render(scene, 0.1), colors.selected) > 0


def test_a_graph_left_for_another_model_is_freed_by_reference_counting(qtbot, panel):
    """Loading freezes a graph out of the collector's reach, so only reference counting
    can free it: nothing in it may sit in a cycle once it is no longer shown."""
    import gc
    import weakref

    from smlens.gui.base import collector

    timer = collector._collector.timer if collector._collector else None
    if timer is not None:
        timer.stop()  # no collector pass may hide a cycle
    try:
        loaded = panel.view.loaded
        refs = [weakref.ref(x) for x in (loaded, loaded.graph, loaded.hierarchy)]
        refs += [weakref.ref(s) for s in list(loaded.hierarchy.scopes.values())[:3]]
        del loaded
        with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
            panel.set_model(open_model(sample_path()))
        gc.disable()
        # The worker thread that laid it out lets go of its task a moment after the
        # result arrives: wait for that, with no collector pass meanwhile.
        qtbot.waitUntil(lambda: all(r() is None for r in refs), timeout=WAIT_MS)
    finally:
        if timer is not None:
            timer.start()
