"""What the graph view opens and where Back goes, and a trace mapped onto shown items."""

from __future__ import annotations

import pytest

from smlens.core import open_model
from smlens.core.graph.build import find_function_for_signature
from smlens.core.graph.nav import (
    FIRST_WIDTH,
    GraphRef,
    History,
    Place,
    default_place,
    lay_out,
    lay_out_first,
    load_graph,
    primary_callee,
    resolve_name,
    shown_item,
    signature_place,
    trace_view,
    wrapped_callee,
)
from smlens.core.graph.query import trace
from smlens.core.graph.scopes import default_expanded, scope_id


def test_a_signature_opens_the_function_its_wrapper_calls(models):
    model = open_model(models.path("keras_export"))
    mg = model.meta_graphs[0]
    wrapper = find_function_for_signature(mg, "serving_default")
    place = signature_place(mg, "serving_default")
    assert place.trail[0] == GraphRef(mg.tag_set, wrapper, "serving_default")
    assert place.ref.function == wrapped_callee(mg, wrapper)
    assert wrapped_callee(mg, place.ref.function) is None  # the real function wraps nothing
    assert [r.title for r in place.trail] == ["serving_default", place.ref.function]


def test_view_names_resolve_to_signatures_functions_objects_and_main(models):
    model = open_model(models.path("module_multi_sig"))
    mg = model.meta_graphs[0]
    assert resolve_name(model, "serving_default") == signature_place(mg, "serving_default")
    fn = next(iter(mg.functions))
    assert resolve_name(model, fn).trail[0].function == fn
    assert resolve_name(model, "main").ref == GraphRef(mg.tag_set)
    with pytest.raises(KeyError, match="no signature, function or graph named 'nope'"):
        resolve_name(model, "nope")


def test_tf1_signatures_open_the_main_graph(models):
    model = open_model(models.path("tf1_multi_tag"))
    mg = model.meta_graphs[0]
    key = next(iter(mg.signatures))
    assert signature_place(mg, key).ref.function == ""


def test_history_goes_back_and_forward_and_a_visit_drops_forward():
    a, b, c = (Place((GraphRef("serve", f),)) for f in "abc")
    h = History()
    for p in (a, b, c):
        h.visit(p)
    assert h.back() == b and h.back() == a and h.back() is None
    assert h.forward() == b
    h.visit(a)
    assert h.forward() is None and h.back() == b


def test_walking_into_a_graph_already_on_the_trail_cuts_back_to_it():
    a, b, c = (GraphRef("serve", f) for f in "abc")
    place = Place((a,)).into(b).into(c)
    assert place.trail == (a, b, c)
    assert place.into(b).trail == (a, b)


def test_a_while_node_opens_its_body_first(models):
    model = open_model(models.path("control_flow"))
    mg = model.meta_graphs[0]
    loaded = load_graph(model, mg, signature_place(mg, "serving_default").ref)
    body = {c.attr: c.function for c in loaded.graph.node("while").callees}["body"]
    assert primary_callee(loaded.graph, "while") == body
    cond = {c.attr: c.function for c in loaded.graph.node("cond").callees}["then_branch"]
    assert primary_callee(loaded.graph, "cond") == cond


def test_trace_maps_onto_collapsed_scopes_and_shown_edges(models):
    model = open_model(models.path("keras_export"))
    mg = model.meta_graphs[0]
    loaded = load_graph(model, mg, signature_place(mg, "serving_default").ref)
    graph = loaded.graph
    ret = next(n.name for n in graph.nodes if n.kind == "ret")
    collapsed: set[str] = set()
    view = lay_out(loaded, collapsed)
    t = trace_view(loaded, collapsed, ret, "inputs")
    assert t.nodes == trace(graph, ret, "inputs")
    assert scope_id("sequential_1") in t.items  # every dense op is inside it, closed
    shown = {(e.src, e.dst) for box in view.visible.boxes.values() for e in box.edges}
    assert t.pairs and t.pairs <= shown
    assert all(item in view.layout.rects for item in t.items)
    everything = set(loaded.hierarchy.scopes) - {""}
    assert shown_item(loaded, everything, graph.index[ret]) == ret
    assert default_expanded(loaded.hierarchy) == everything  # a small graph opens fully


def _first_layout(models, fixture: str, file: str = ""):
    model = open_model(models.path(fixture) / file if file else models.path(fixture))
    mg = model.meta_graphs[0]
    loaded = load_graph(model, mg, default_place(model).ref)
    expanded = default_expanded(loaded.hierarchy, closed=loaded.plumbing)
    return loaded, expanded, lay_out_first(loaded, expanded)


def test_a_wide_tf1_graph_opens_its_top_level_scopes_only(models):
    # wide_tf1.py: 20 feature columns side by side under the Estimator's scopes; opened two
    # levels deep it is far wider than FIRST_WIDTH, and one level deep still wider.
    loaded, expanded, first = _first_layout(models, "wide_estimator")
    assert lay_out(loaded, expanded).layout.width > FIRST_WIDTH
    assert any(path.count("/") >= 1 for path in expanded)  # the item budget opens level 2
    assert first.expanded == {path for path in expanded if "/" not in path}
    assert first.layout.width < lay_out(loaded, expanded).layout.width


def test_a_tall_graph_keeps_every_level_the_budget_opens(models):
    _, expanded, first = _first_layout(models, "keras_export")
    assert any("/" in path for path in expanded)  # two levels open, and kept
    assert first.layout.width <= FIRST_WIDTH
    assert first.expanded == expanded
