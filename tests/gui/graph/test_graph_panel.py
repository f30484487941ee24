"""GraphPanel on TF-exported fixtures: opening from a signature, scopes, search, trace,
walking into a While body and back, a ReadVariableOp's values, export and --view graph:."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QImage

from smlens.core import open_model
from smlens.core.formats import proto
from smlens.core.graph.build import find_function_for_signature
from smlens.core.graph.nav import wrapped_callee
from smlens.core.graph.query import search_nodes, trace
from smlens.core.graph.scopes import scope_id
from smlens.gui.graph.panel import GraphPanel
from smlens.gui.graph.style import ROW, TWO_LINES
from smlens.gui.window.main_window import MainWindow
from tests.gui.graph.panels import graph_panel

WAIT_MS = 30_000


@pytest.fixture
def panel(qtbot) -> GraphPanel:
    return graph_panel(qtbot)


def _settle(qtbot, panel: GraphPanel) -> None:
    """Wait until building, laying out, searching and tracing are all done."""
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)


def _open(qtbot, panel: GraphPanel, model, name: str) -> None:
    panel.set_model(model)
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.open_name(name)
    _settle(qtbot, panel)


def _viewport_point(panel: GraphPanel, item_id: str, dy: float = 0.0) -> QPoint:
    rect = panel.scene.rect_of(item_id)
    return panel.canvas.mapFromScene(QPointF(rect.center().x(), rect.top() + 6 + dy))


def test_signature_button_opens_the_function_the_keras_serving_signature_runs(
    qtbot, models, tmp_path
):
    settings = QSettings(str(tmp_path / "smlens.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, persist=False)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.model_loaded, timeout=WAIT_MS):
        window.open_path(models.path("keras_export"))
    signatures, graph = window.panels["signatures"], window.panels["graph"]
    _settle(qtbot, graph)  # the graph panel may open its default graph when shown
    signatures.tree.setCurrentItem(signatures.signature_items()[("serve", "serving_default")])
    assert signatures.graph_button.isEnabled()
    with qtbot.waitSignal(graph.layout_applied, timeout=WAIT_MS):
        qtbot.mouseClick(signatures.graph_button, Qt.MouseButton.LeftButton)
    mg = window.model.meta_graphs[0]
    wrapper = find_function_for_signature(mg, "serving_default")
    inner = wrapped_callee(mg, wrapper)
    assert [r.function for r in graph.state.history.current.trail] == [wrapper, inner]
    assert graph.breadcrumbs()[0] == "serving_default"
    assert graph.view.loaded.graph.function == inner
    assert window.docks["graph"].isVisible()
    shown = graph.scene.item_ids()
    assert "sequential_1/dense_1/MatMul" in shown  # a small function opens fully expanded
    assert graph.scene.edge_item_count() > 0


def test_functions_panel_double_click_opens_the_function(qtbot, models, tmp_path):
    settings = QSettings(str(tmp_path / "smlens.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, persist=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.model_loaded, timeout=WAIT_MS):
        window.open_path(models.path("control_flow"))
    functions, graph = window.panels["functions"], window.panels["graph"]
    _settle(qtbot, graph)
    body = next(r.name for r in functions.rows if r.name.startswith("while_body"))
    assert functions.select_function(body)
    with qtbot.waitSignal(graph.layout_applied, timeout=WAIT_MS):
        functions.graph_button.click()
    assert graph.view.loaded.graph.function == body


def test_expand_and_collapse_a_scope_by_clicking_its_box(qtbot, panel, models):
    _open(qtbot, panel, open_model(models.path("keras_export")), "serving_default")
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.collapse_all()
    box = scope_id("sequential_1")
    assert panel.scene.item(box).kind == "scope"
    assert "sequential_1/dense_1/MatMul" not in panel.scene.item_ids()
    panel.canvas.center_on_item(box, least_scale=1.0)
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        qtbot.mouseDClick(
            panel.canvas.viewport(), Qt.MouseButton.LeftButton, pos=_viewport_point(panel, box)
        )
    assert panel.scene.item(box).kind == "expanded"
    assert scope_id("sequential_1/dense_1") in panel.scene.item_ids()
    assert "sequential_1" in panel.expanded
    # The ▾ mark on the expanded box's header collapses it again.
    rect = panel.scene.rect_of(box)
    mark = panel.canvas.mapFromScene(QPointF(rect.left() + 12, rect.top() + 12))
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        qtbot.mouseClick(panel.canvas.viewport(), Qt.MouseButton.LeftButton, pos=mark)
    assert panel.scene.item(box).kind == "scope"
    assert scope_id("sequential_1/dense_1") not in panel.scene.item_ids()


def test_search_lists_matches_and_jumping_expands_and_centres(qtbot, panel, models):
    model = open_model(models.path("keras_export"))
    _open(qtbot, panel, model, "serving_default")
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.collapse_all()
    panel.toolbar.search_fields.setCurrentText("op")
    with qtbot.waitSignal(panel.search.search_finished, timeout=WAIT_MS) as found:
        panel.toolbar.search_edit.setText("^MatMul$")
    expected = search_nodes(panel.view.loaded.graph, "^MatMul$", ("op",))
    assert found.args == [len(expected)] and len(expected) == 2
    listed = [panel.match_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(2)]
    assert listed == expected
    assert panel.scene.matches == {scope_id("sequential_1")}  # both inside the closed scope
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.match_list.itemClicked.emit(panel.match_list.item(1))
    target = expected[1]
    assert target in panel.scene.item_ids()
    assert panel.scene.selected == target
    assert panel.inspector.rows("Node")["name"] == target
    centre = panel.scene.rect_of(target).center()
    assert panel.canvas.visible_scene_rect().contains(centre)


def test_trace_highlights_every_input_of_a_node(qtbot, panel, models):
    _open(qtbot, panel, open_model(models.path("keras_export")), "serving_default")
    graph = panel.view.loaded.graph
    node = "sequential_1/dense_1/MatMul"
    panel.select(node)
    with qtbot.waitSignal(panel.search.trace_finished, timeout=WAIT_MS) as done:
        panel.inspector.inputs_button.click()
    upstream = trace(graph, node, "inputs")
    assert done.args == [len(upstream)] and len(upstream) >= 3
    shown_nodes = {i for i in panel.scene.traced if i in graph.index}
    folding = panel.view.loaded.hierarchy.folding
    assert len(folding) >= 2  # the kernel's handle and read fold into MatMul
    # Fully expanded: each node is its own item, or drawn inside the node it folds into.
    assert shown_nodes == {
        graph.nodes[folding.shown(graph.index[n])].name for n in upstream | {node}
    }
    assert ("sequential_1/dense_1/(in)", node) in panel.scene.traced_pairs  # through its box
    assert panel.scene.dimmed("sequential_1/dense_1_2/MatMul")  # downstream: not an input
    assert not panel.scene.dimmed(node)
    assert "inputs of" in panel.search.bar.match_label.text()
    panel.clear_trace()
    assert not panel.scene.traced and not panel.scene.dimmed("sequential_1/dense_1_2/MatMul")
    assert panel.search.bar.match_label.text() == ""  # no stale "N inputs of ..."


def test_double_click_into_a_while_body_and_back(qtbot, panel, models):
    _open(qtbot, panel, open_model(models.path("control_flow")), "serving_default")
    outer = panel.view.loaded.graph.function
    body = next(
        c.function for c in panel.view.loaded.graph.node("while").callees if c.attr == "body"
    )
    panel.canvas.center_on_item("while", least_scale=1.0)
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        qtbot.mouseDClick(
            panel.canvas.viewport(), Qt.MouseButton.LeftButton, pos=_viewport_point(panel, "while")
        )
    assert panel.view.loaded.graph.function == body
    assert panel.breadcrumbs()[-2:] == [outer, body]
    assert panel.nav_bar.back_button.isEnabled()
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.nav_bar.back_button.click()
    assert panel.view.loaded.graph.function == outer
    assert panel.nav_bar.forward_button.isEnabled()
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.nav_bar.forward_button.click()
    assert panel.view.loaded.graph.function == body


def _unfold(qtbot, panel: GraphPanel) -> None:
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.toolbar.fold_button.click()  # show every node: weights as nodes again
    _settle(qtbot, panel)
    assert not panel.state.fold and not panel.view.loaded.hierarchy.folding
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.expand_all()
    _settle(qtbot, panel)


def test_a_weight_row_inside_its_consumer_opens_the_variables_values(qtbot, panel, models):
    model = open_model(models.path("keras_export"))
    _open(qtbot, panel, model, "serving_default")
    node = "sequential_1/dense_1/MatMul"
    rows = panel.view.loaded.rows(node)
    kernel = next(v for v in model.variables if v.key == rows[0].key)
    assert [r.label for r in rows] == ["kernel"]
    dims = "\N{MULTIPLICATION SIGN}".join(map(str, kernel.shape.dims))
    assert rows[0].text == f"{dims} float32"  # as Netron shows a kernel inside its node
    assert "sequential_1/dense_1/Cast/ReadVariableOp" not in panel.scene.data.index  # folded
    panel.canvas.center_on_item(node, least_scale=1.0)
    rect = panel.scene.rect_of(node)
    row_y = rect.top() + TWO_LINES + 1 + ROW / 2
    at = panel.canvas.mapFromScene(QPointF(rect.center().x(), row_y))
    with qtbot.waitSignal(panel.tensor_view.loaded, timeout=WAIT_MS):
        qtbot.mouseClick(panel.canvas.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert panel.selected == rows[0].node and panel.inspector.variable.key == kernel.key
    assert panel.scene.selected == node  # the folded weight is shown through its consumer
    assert np.array_equal(panel.tensor_view.data.array, model.checkpoint.read(kernel.key))


def test_read_variable_op_reaches_the_variables_values(qtbot, panel, models):
    model = open_model(models.path("keras_export"))
    _open(qtbot, panel, model, "serving_default")
    _unfold(qtbot, panel)
    node = "sequential_1/dense_1/Cast/ReadVariableOp"
    panel.canvas.center_on_item(node, least_scale=1.0)
    qtbot.mouseClick(
        panel.canvas.viewport(), Qt.MouseButton.LeftButton, pos=_viewport_point(panel, node)
    )
    assert panel.selected == node
    var = panel.inspector.variable
    assert var is not None and panel.inspector.rows("Variable")["name"] == var.name
    assert panel.inspector.values_button.isEnabled()
    with qtbot.waitSignal(panel.tensor_view.loaded, timeout=WAIT_MS):
        panel.inspector.values_button.click()
    assert np.array_equal(panel.tensor_view.data.array, model.checkpoint.read(var.key))
    with qtbot.waitSignal(panel.variable_selected) as chosen:
        panel.inspector.variable_button.click()
    assert chosen.args == [var.key]


def test_attrs_stripped_by_the_export_show_as_defaults(qtbot, panel, models):
    _open(qtbot, panel, open_model(models.path("keras_export")), "serving_default")
    details = panel.inspector.show_node(
        panel.view.loaded.graph, "sequential_1/dense_1/MatMul", None
    )
    defaults = {a.name for a in details.attrs if a.is_default}
    rows = panel.inspector.rows("Attributes")
    assert defaults and all(rows[name].endswith("(default)") for name in defaults)
    assert panel.inspector.rows("Inputs")  # with dtypes
    assert all(v.startswith("f32") for v in panel.inspector.rows("Inputs").values())


def test_tf1_loop_draws_its_way_back_as_feedback_edges(qtbot, panel, models):
    _open(qtbot, panel, open_model(models.path("tf1_while")), "main")
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.expand_all()
    drawn = panel.scene.data
    feedback = {
        (r.edge.src, r.edge.dst)
        for r, style in zip(drawn.routes, drawn.route_styles, strict=True)
        if style == "feedback"
    }
    # The loop's way back, from the GraphDef TensorFlow wrote: each NextIteration feeds a Merge.
    graph_def = proto.GraphDef.FromString((models.path("tf1_while") / "while.pb").read_bytes())
    ops = {node.name: node.op for node in graph_def.node}
    back_edges = {
        (source, node.name)
        for node in graph_def.node
        if node.op == "Merge"
        for source in (name.split(":")[0].lstrip("^") for name in node.input)
        if ops[source] == "NextIteration"
    }
    assert len(back_edges) == 2  # the loop's two variables
    assert feedback == back_edges


def test_export_png_and_svg(qtbot, panel, models, tmp_path):
    _open(qtbot, panel, open_model(models.path("keras_export")), "serving_default")
    panel.export(tmp_path / "g.png")
    panel.export(tmp_path / "g.svg")
    image = QImage(str(tmp_path / "g.png"))
    rect = panel.scene.sceneRect()
    assert (image.width(), image.height()) == (int(rect.width()), int(rect.height()))
    svg = (tmp_path / "g.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "MatMul" in svg


def test_nodes_are_painted_in_their_op_family_colour(qtbot, panel, models):
    _open(qtbot, panel, open_model(models.path("keras_export")), "serving_default")
    _unfold(qtbot, panel)
    node = "sequential_1/dense_1/Cast/ReadVariableOp"
    panel.canvas.center_on_item(node, least_scale=1.0)
    panel.canvas.paint_now()
    image = panel.canvas.viewport().grab().toImage()
    rect = panel.scene.rect_of(node)
    band = panel.canvas.mapFromScene(QPointF(rect.left() + 3, rect.center().y()))
    expected = panel.scene.colors.strip["variable"]
    assert image.pixelColor(band).name() == expected


def _cli(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    return subprocess.run(
        [sys.executable, "-m", "smlens.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_screenshot_of_a_graph_view_and_an_unknown_graph_name(models, tmp_path):
    out = tmp_path / "graph.png"
    path = str(models.path("control_flow"))
    run = _cli(["--screenshot", str(out), "--view", "graph:serving_default", path], tmp_path)
    assert run.returncode == 0, run.stderr
    assert QImage(str(out)).width() == 1400
    bad = _cli(["--screenshot", str(tmp_path / "x.png"), "--view", "graph:nope", path], tmp_path)
    assert bad.returncode == 2
    errors = [line for line in bad.stderr.splitlines() if line.startswith("smlens:")]
    assert len(errors) == 1 and "'nope'" in errors[0]
    assert "Traceback" not in bad.stderr
    assert not (tmp_path / "x.png").exists()
