"""The graph view's first look on a Keras CNN: the input and a convolution with its kernel
row in view, Fit that fits, F, and wheel zoom about the cursor."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from smlens.core import open_model
from smlens.gui.graph.panel import GraphPanel

WAIT_MS = 30_000
pytestmark = pytest.mark.tf


@pytest.fixture(scope="session")
def keras_cnn(tmp_path_factory) -> Path:
    """Keras 3 CNN (32x32x3 -> Conv2D 8 -> Conv2D 16 -> pool -> Dense 10), model.export()."""
    import keras

    layers = keras.layers
    image = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(8, 3, activation="relu", name="conv1")(image)
    x = layers.Conv2D(16, 3, activation="relu", name="conv2")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    logits = layers.Dense(10, name="logits")(x)
    dest = tmp_path_factory.mktemp("keras_cnn") / "cnn"
    keras.Model(image, logits).export(str(dest))
    return dest


@pytest.fixture
def panel(qtbot, keras_cnn) -> GraphPanel:
    widget = GraphPanel()
    widget.resize(1200, 800)
    qtbot.addWidget(widget)
    widget.show()
    widget.set_model(open_model(keras_cnn))
    with qtbot.waitSignal(widget.layout_applied, timeout=WAIT_MS):
        widget.open_name("serving_default")
    qtbot.waitUntil(lambda: not widget.busy, timeout=WAIT_MS)
    return widget


def _in_view(panel: GraphPanel, item_id: str) -> bool:
    rect = panel.scene.rect_of(item_id)
    return rect is not None and panel.visible_scene_rect().intersects(rect)


def test_the_first_view_shows_the_input_and_a_convolution_with_its_kernel(panel):
    graph = panel.view.loaded.graph
    inputs = [n.name for n in graph.nodes if n.kind == "arg" and not n.variable_key]
    assert inputs and all(_in_view(panel, name) for name in inputs)
    convs = [n.name for n in graph.nodes if n.op == "Conv2D" and _in_view(panel, n.name)]
    assert convs
    labels = [r.label for r in panel.view.loaded.rows(convs[0])]
    assert "kernel" in labels
    handles = [n.name for n in graph.nodes if n.kind == "arg" and n.variable_key]
    assert handles and not any(h in panel.scene.data.index for h in handles)  # no row of handles


def _fit_scale(panel: GraphPanel) -> float:
    rect, view = panel.scene.sceneRect(), panel.canvas.viewport().rect()
    return min(1.0, view.width() / rect.width(), view.height() / rect.height())


def test_fit_button_f_key_and_right_click_fit_agree(qtbot, panel):
    panel.canvas.set_scale(0.05)
    panel.toolbar.fit_button.click()
    by_button = panel.canvas.scale_factor
    expected = _fit_scale(panel)
    assert expected / 2 <= by_button <= expected * 2
    assert panel.visible_scene_rect().contains(panel.scene.sceneRect().center())
    panel.canvas.set_scale(3.0)
    menu = panel.context_menu(None)  # a right click on empty canvas
    next(a for a in menu.actions() if a.text() == "Fit to view").trigger()
    by_menu = panel.canvas.scale_factor
    assert by_menu / 2 <= by_button <= by_menu * 2
    panel.canvas.set_scale(3.0)
    panel.canvas.setFocus()
    qtbot.keyClick(panel.canvas, Qt.Key.Key_F)
    assert panel.canvas.scale_factor == pytest.approx(by_button)


@pytest.mark.parametrize(("x", "y", "delta"), [(50, 60, 240), (700, 500, -360), (300, 80, 120)])
def test_wheel_zoom_keeps_the_point_under_the_cursor(panel, x, y, delta):
    canvas = panel.canvas
    canvas.set_scale(0.8)
    at = QPointF(x, y)
    before = canvas.mapToScene(at.toPoint())
    scale = canvas.scale_factor
    event = QWheelEvent(
        at,
        QPointF(canvas.viewport().mapToGlobal(at.toPoint())),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas.viewport(), event)
    assert canvas.scale_factor != pytest.approx(scale)
    after = canvas.mapToScene(at.toPoint())
    tolerance = 2 / canvas.scale_factor  # a pixel of rounding either way
    assert abs(after.x() - before.x()) <= tolerance
    assert abs(after.y() - before.y()) <= tolerance


def test_the_inspector_collapses_and_the_canvas_takes_its_room(qtbot, panel):
    width = panel.canvas.width()
    panel.toolbar.details_button.click()
    qtbot.waitUntil(lambda: not panel.side.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: panel.canvas.width() > width, timeout=WAIT_MS)
    with qtbot.waitSignal(panel.wants_focus, timeout=WAIT_MS):
        panel.open_name("serving_default")


def test_a_convolution_lists_its_weights_and_each_leads_to_its_values(qtbot, panel):
    graph = panel.view.loaded.graph
    conv = next(n.name for n in graph.nodes if n.op == "Conv2D")
    panel.select(conv)
    weights = panel.inspector.rows("Weights")
    assert "kernel" in weights and weights["kernel"].split()[-2] == "float32"
    section = panel.inspector.tree.findItems("Weights", Qt.MatchFlag.MatchExactly)[0]
    kernel = next(
        section.child(k)
        for k in range(section.childCount())
        if section.child(k).text(0) == "kernel"
    )
    panel.inspector.tree.itemDoubleClicked.emit(kernel, 1)
    assert panel.selected != conv and panel.scene.selected == conv  # shown through its host
    assert panel.inspector.variable is not None and panel.inspector.values_button.isEnabled()
    with qtbot.waitSignal(panel.tensor_view.loaded, timeout=WAIT_MS):
        panel.inspector.values_button.click()
    assert panel.tensor_view.data.array.ndim == 4


def test_expand_all_on_a_big_graph_asks_first(qtbot, panel, monkeypatch):
    import smlens.gui.graph.panel as module

    monkeypatch.setattr(module, "EXPAND_ALL_ASK", 5)  # the CNN counts as huge here
    panel.collapse_all()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    panel.expand_all()
    assert not panel.busy and panel.state.pending is None  # nothing started yet
    assert "press Expand again" in panel.status_bar.message.text()
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.toolbar.expand_button.click()
    assert panel.expanded == set(panel.view.loaded.hierarchy.scopes) - {""}


def test_the_inspector_is_a_strip_until_a_node_is_chosen(qtbot, panel):
    from smlens.gui.graph.panel import HINT_SIDE_WIDTH

    panel.select(None)
    qtbot.waitUntil(lambda: panel.splitter.sizes()[1] <= HINT_SIDE_WIDTH, timeout=WAIT_MS)
    assert panel.inspector.tree.isHidden()
    node = panel.view.loaded.graph.nodes[0].name
    panel.select(node)
    qtbot.waitUntil(lambda: panel.splitter.sizes()[1] > HINT_SIDE_WIDTH, timeout=WAIT_MS)
    assert not panel.inspector.tree.isHidden()
