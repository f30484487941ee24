"""One source for call edges: the graph builder's callees are find_calls' edges."""

from __future__ import annotations

import pytest

from smlens.core import open_model
from smlens.core.graph.build import build_graph
from smlens.core.graph.calls import find_calls


@pytest.mark.parametrize("name", ["control_flow", "keras_export", "module_multi_sig"])
def test_every_built_graph_calls_what_find_calls_lists(models, name):
    model = open_model(models.path(name))
    mg = model.meta_graphs[0]
    calls = find_calls(mg.graph)
    assert calls
    for caller in ["", *mg.functions]:
        built = build_graph(model, mg, caller or None)
        ours = {(c.node, c.attr, c.callee) for c in built.calls}
        listed = {(c.node, c.attr, c.callee) for c in calls if c.caller == caller}
        assert ours == listed, caller


def test_building_a_function_does_not_index_the_whole_library(models):
    model = open_model(models.path("control_flow"))
    mg = model.meta_graphs[0]
    mg.graph.call_index = None
    body = next(f for f in mg.functions if "while_body" in f)
    build_graph(model, mg, body)
    assert mg.graph.call_index is None  # find_calls was not run on the loader's way
