"""The graph view's first screen on every kind of graph: after the first paint, an input and
at least five ops are in view, on a wide TF1 Estimator export, its text form, its frozen
GraphDef, its ``.meta`` and on a TF2 function."""

from __future__ import annotations

import pytest

from smlens.core import open_model
from smlens.core.graph.start import READABLE
from tests.fixtures.wide_tf1 import INPUT
from tests.gui.graph.panels import graph_panel

WAIT_MS = 60_000
pytestmark = pytest.mark.tf

# (fixture, file inside it or "", the input the fixture defines)
KINDS = {
    "estimator": ("wide_estimator", "", INPUT),
    "text savedmodel": ("wide_text_savedmodel", "", INPUT),
    "frozen graph": ("wide_frozen", "frozen.pb", INPUT),
    "meta": ("wide_meta", "model.ckpt-100.meta", INPUT),
    "tf2 function": ("keras_export", "", "features"),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_first_screen_shows_an_input_and_five_ops(qtbot, models, kind):
    fixture, file, expected_input = KINDS[kind]
    path = models.path(fixture) / file if file else models.path(fixture)
    panel = graph_panel(qtbot, (1200, 800), shown=True)
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.set_model(open_model(path))
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    panel.canvas.paint_now()
    visible = panel.visible_scene_rect()
    data = panel.scene.data
    shown = [it for it, rect in zip(data.items, data.qrects, strict=True) if visible.contains(rect)]
    assert expected_input in {it.name for it in shown}
    ops = [it for it in shown if it.kind == "op" and it.name != expected_input]
    assert len(ops) >= 5, [it.name for it in shown]
    assert panel.canvas.scale_factor >= READABLE - 1e-9


def _minimap_after_first_screen(qtbot, path):
    panel = graph_panel(qtbot, (1200, 800), shown=True)
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.set_model(open_model(path))
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    minimap = panel.canvas.minimap
    qtbot.waitUntil(lambda: not minimap.image.isNull(), timeout=WAIT_MS)  # its refresh ran
    return panel, minimap


def test_the_minimap_hides_while_the_whole_graph_is_in_view(qtbot, models):
    panel, minimap = _minimap_after_first_screen(qtbot, models.path("frozen_graph") / "frozen.pb")
    assert panel.visible_scene_rect().contains(panel.scene.sceneRect())
    assert not minimap.isVisible()
    panel.canvas.set_scale(4.0)  # zoomed in, part of the graph leaves the view
    assert not panel.visible_scene_rect().contains(panel.scene.sceneRect())
    assert minimap.isVisible()


def test_the_minimap_shows_on_a_graph_wider_than_the_view(qtbot, models):
    panel, minimap = _minimap_after_first_screen(qtbot, models.path("wide_frozen") / "frozen.pb")
    assert not panel.visible_scene_rect().contains(panel.scene.sceneRect())
    assert minimap.isVisible()


def test_the_zoom_is_said_on_a_first_screen_at_its_unchanged_scale(qtbot, models):
    panel, _ = _minimap_after_first_screen(qtbot, models.path("frozen_graph") / "frozen.pb")
    assert panel.canvas.scale_factor == 1.0  # it fits at 100 %: set_scale changed nothing
    assert panel.status_bar.zoom.text() == "100 %"


def test_a_meta_graph_opens_on_its_whole_dataflow_with_the_plumbing_shut(qtbot, models):
    """tf1_ckpt_meta is x -> MatMul(dense/kernel) -> add(dense/bias) -> Relu "y", with a
    Saver and a global step: the feed and the fetch are both in view, and the Saver's scope
    and each variable's own scope are single boxes."""
    panel = graph_panel(qtbot, (1200, 800), shown=True)
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.set_model(open_model(models.path("tf1_ckpt_meta") / "model.ckpt.meta"))
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    panel.canvas.paint_now()
    visible = panel.visible_scene_rect()
    data = panel.scene.data
    shown = {
        it.name for it, rect in zip(data.items, data.qrects, strict=True) if visible.contains(rect)
    }
    assert {"x", "MatMul", "add", "y"} <= shown
    kinds = {it.id: it.kind for it in data.items}  # a scope's id is its path and "/"
    for shut in ("save/", "dense/kernel/", "dense/bias/", "global_step/"):
        assert kinds.get(shut) == "scope", (shut, kinds.get(shut))  # shown, and collapsed
    assert kinds.get("dense/") == "expanded"  # the layer itself stays open
