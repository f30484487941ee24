"""ObjectPanel: the trackable tree, links for nodes reached twice, variable selection."""

from __future__ import annotations

import pytest

from smlens.core import open_model
from smlens.core.model import Graph, MetaGraph, Model, ObjectGraph, ObjectNode
from smlens.gui.panels.objects import (
    DETAILS,
    DTYPE,
    IDENTIFIER,
    KIND,
    LINK_ROLE,
    NAME,
    NODE_ROLE,
    SHAPE,
    ObjectPanel,
)
from tests.gui.panels.tree_items import child, children

PANEL = ObjectPanel


def test_root_children_are_the_object_graphs_in_order(panel, models):
    model = open_model(models.path("keras_export"))
    panel.set_model(model)
    graph = model.meta_graphs[0].object_graph
    root = panel.tree.topLevelItem(0)
    assert panel.tree.topLevelItemCount() == 1 and root.text(NAME) == "(root)"
    assert [c.text(NAME) for c in children(root)] == [name for name, _ in graph.children_of(0)]
    assert root.text(IDENTIFIER) == "_generic_user_object"
    variables = child(root, "variables")
    assert variables.text(IDENTIFIER) == "trackable_list_wrapper"
    kernel = child(variables, "0")
    texts = [kernel.text(c) for c in (KIND, DTYPE, SHAPE, DETAILS)]
    assert texts == ["variable", "float32", "(10, 8)", "sequential/dense/kernel"]


def test_a_node_reached_twice_is_a_link_not_a_second_subtree(panel, models):
    panel.set_model(open_model(models.path("keras_export")))
    root = panel.tree.topLevelItem(0)
    links = children(child(root, "trainable_variables"))
    assert len(links) == 4
    assert all(link.data(NAME, LINK_ROLE) and link.childCount() == 0 for link in links)
    assert links[0].text(NAME) == "0  → variables.0"
    assert not child(child(root, "variables"), "0").data(NAME, LINK_ROLE)
    panel.tree.itemActivated.emit(links[0], 0)  # double-click / Enter goes to the original
    assert panel.tree.currentItem() is panel.item_for(links[0].data(NAME, NODE_ROLE))


def test_a_cycle_in_the_object_graph_ends(panel, tmp_path):
    nodes = [
        ObjectNode(0, "user_object", [("child", 1)], identifier="_generic_user_object"),
        ObjectNode(1, "user_object", [("parent", 0), ("me", 1)], path="child"),
    ]
    mg = MetaGraph(["serve"], {}, Graph([], {}), object_graph=ObjectGraph(nodes, {}))
    panel.set_model(Model(path=tmp_path, format="saved_model", meta_graphs=[mg]))
    node = child(panel.tree.topLevelItem(0), "child")
    assert [c.data(NAME, LINK_ROLE) for c in children(node)] == [True, True]


def test_selecting_a_variable_emits_its_checkpoint_key(panel, models, qtbot):
    model = open_model(models.path("keras_export"))
    panel.set_model(model)
    kernel = model.variable("variables/2/.ATTRIBUTES/VARIABLE_VALUE")
    item = panel.item_for(kernel.object_id)
    with qtbot.waitSignal(panel.variable_selected, timeout=2000) as blocker:
        panel.tree.setCurrentItem(item)
    assert blocker.args == ["variables/2/.ATTRIBUTES/VARIABLE_VALUE"]
    link = children(child(panel.tree.topLevelItem(0), "trainable_variables"))[2]
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    with qtbot.waitSignal(panel.variable_selected, timeout=2000) as blocker:
        panel.tree.setCurrentItem(link)
    assert blocker.args == ["variables/2/.ATTRIBUTES/VARIABLE_VALUE"]


def test_selecting_a_non_variable_emits_nothing(panel, models, qtbot):
    panel.set_model(open_model(models.path("keras_export")))
    with qtbot.assertNotEmitted(panel.variable_selected):
        panel.tree.setCurrentItem(child(panel.tree.topLevelItem(0), "serve"))


def test_resources_assets_and_constants_get_their_kind(panel, models):
    panel.set_model(open_model(models.path("lookup")))
    root = panel.tree.topLevelItem(0)
    table = child(root, "table")
    assert table.text(KIND) == "resource"
    filename = child(child(table, "_initializer"), "_filename")
    assert (filename.text(KIND), filename.text(DETAILS)) == ("asset", "vocab.txt")
    capture = child(child(child(root, "__call__"), "trace_0"), "capture_1")
    assert capture.text(KIND) == "constant"
    assert not table.icon(NAME).isNull()


@pytest.mark.parametrize("name", ["tf1_multi_tag", "ckpt_dtypes", "tf1_ckpt_meta"])
def test_models_without_an_object_graph_show_a_placeholder(panel, models, name):
    panel.set_model(open_model(models.path(name)))
    assert panel.stack.showing_placeholder
    assert panel.tree.topLevelItemCount() == 0
    assert "no object graph" in panel.stack.placeholder.text()


def test_a_keras_variable_node_names_its_twin(panel, models):
    model = open_model(models.path("keras_export"))
    panel.set_model(model)
    copy = next(v for v in model.variables if v.key.startswith("_all_variables/0/"))
    tip = panel.item_for(copy.object_id).toolTip(NAME)
    assert f"the same tensor as {model.variable(copy.key).object_path}" in tip
