"""A graph the panel would open by itself is built only below BUILD_ASK nodes; a bigger
one waits for "Build it" (a 1,000,000-node main graph took 20 s and a gigabyte)."""

from __future__ import annotations

import pytest

from smlens.core import open_model
from smlens.core.formats import proto
from smlens.core.graph.nav import GraphRef, Place, default_place, place_size
from smlens.gui.graph import panel as panel_module
from smlens.gui.graph.panel import GraphPanel
from tests.gui.graph.panels import graph_panel

WAIT_MS = 30_000


def _tf1_model(folder, nodes: int):
    """A TF1-style export: the signature reads the main graph, a chain of ``nodes`` ops."""
    saved = proto.SavedModel(saved_model_schema_version=1)
    mg = saved.meta_graphs.add()
    mg.meta_info_def.tags.append("serve")
    x = mg.graph_def.node.add(name="x", op="Placeholder")
    x.attr["dtype"].type = 1
    for i in range(1, nodes):
        node = mg.graph_def.node.add(name=f"block_{i // 10}/n{i}", op="Identity")
        node.input.append("x" if i == 1 else f"block_{(i - 1) // 10}/n{i - 1}")
        node.attr["T"].type = 1
    sig = mg.signature_def["serving_default"]
    sig.inputs["x"].name, sig.inputs["x"].dtype = "x:0", 1
    sig.outputs["y"].name, sig.outputs["y"].dtype = f"block_{(nodes - 1) // 10}/n{nodes - 1}:0", 1
    (folder / "saved_model.pb").write_bytes(saved.SerializeToString())
    return open_model(folder)


def test_default_place_and_its_size_leave_the_main_graph_unconverted(tmp_path):
    model = _tf1_model(tmp_path, 50)
    place = default_place(model)
    assert place == Place((GraphRef("serve", "", "serving_default"),))
    assert place_size(model, place) == 50
    assert not model.meta_graphs[0].graph.converted


@pytest.fixture
def panel(qtbot) -> GraphPanel:
    return graph_panel(qtbot, (900, 600), shown=True)


def test_a_graph_past_the_limit_waits_for_build_it(qtbot, panel, tmp_path, monkeypatch):
    monkeypatch.setattr(panel_module, "BUILD_ASK", 40)
    model = _tf1_model(tmp_path, 50)
    panel.set_model(model)
    assert panel.state.history.current is None and not panel.busy
    assert "50 nodes" in panel.placeholder.text() and "Build it" in panel.placeholder.text()
    assert not model.meta_graphs[0].graph.converted
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.placeholder.linkActivated.emit("build")
    assert panel.view is not None and panel.view.loaded.op_count == 50
    assert panel.placeholder.text() == panel_module.PLACEHOLDER


def test_a_graph_under_the_limit_opens_by_itself(qtbot, panel, tmp_path):
    with qtbot.waitSignal(panel.layout_applied, timeout=WAIT_MS):
        panel.set_model(_tf1_model(tmp_path, 50))
    assert panel.view is not None and panel.view.loaded.op_count == 50
