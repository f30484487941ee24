"""GraphState without a window: places and history, expansion requests, selection, matches
and trace, each change announced to observers, and the view kept per graph."""

from __future__ import annotations

from smlens.core.graph.nav import GraphRef, Place, TraceView, lay_out
from smlens.core.graph.scopes import scope_id
from smlens.core.graph.state import KEPT_GRAPHS, GraphState
from tests.core.graph.synthetic import loaded

NODES = [
    ("x", []),
    ("a/b/one", ["x"]),
    ("a/b/two", ["a/b/one"]),
    ("a/c", ["a/b/two"]),
    ("y", ["a/c"]),
]


def _recorder(state: GraphState) -> dict[str, list]:
    seen: dict[str, list] = {}
    for name in ("place", "loaded", "layout_requested", "view", "selected", "matches", "trace"):
        getattr(state.events, name).connect(
            lambda v, name=name: seen.setdefault(name, []).append(v)
        )
    return seen


def _answer(state: GraphState) -> None:
    """Do what the panel's loader does: lay out the pending request and hand it back."""
    request = state.pending
    state.layout_done(lay_out(request.loaded, set(request.expanded)))


def _open(state: GraphState, function: str = "f"):
    graph = loaded(NODES, function=function)
    state.visit(Place((graph.ref,)))
    state.graph_loaded(graph)
    _answer(state)
    return graph


def test_visiting_a_place_announces_it_then_lays_out_what_is_loaded():
    state = GraphState()
    seen = _recorder(state)
    graph = _open(state)
    assert [p.ref for p in seen["place"]] == [graph.ref]
    assert seen["loaded"] == [graph]
    assert seen["layout_requested"][0].fit  # a first view fits
    assert seen["view"] == [state.view]
    assert state.view.loaded is graph
    assert state.pending is None and state.answered is seen["layout_requested"][0]


def test_expand_and_collapse_request_layouts_anchored_on_the_scope():
    state = GraphState()
    _open(state)
    state.collapse_all()
    _answer(state)
    assert state.expanded == frozenset()
    seen = _recorder(state)
    state.expand("a")
    assert seen["layout_requested"][-1].anchor == scope_id("a")
    assert state.expanded == frozenset()  # not until the layout is shown
    _answer(state)
    assert state.expanded == {"a"}
    state.expand("a")  # already open: nothing asked
    assert len(seen["layout_requested"]) == 1
    state.collapse("a")
    _answer(state)
    assert state.expanded == frozenset()
    state.expand_all()
    assert state.pending.fit
    _answer(state)
    assert state.expanded == {"a", "a/b"}


def test_reveal_opens_the_scopes_around_a_node_and_focuses_it():
    state = GraphState()
    _open(state)
    state.collapse_all()
    _answer(state)
    assert state.reveal("a/b/two")
    assert state.pending.focus == "a/b/two"
    assert state.pending.expanded == {"a", "a/b"}
    assert not state.reveal("no/such/node")


def test_selection_matches_and_trace_notify_and_reset_on_a_new_place():
    state = GraphState()
    _open(state, "f")
    seen = _recorder(state)
    state.select("a/c")
    state.set_matches(["x", "y"])
    trace = TraceView("y", "inputs", {"x"}, {"x"}, set())
    state.set_trace(trace)
    assert (state.selected, state.matches, state.trace) == ("a/c", ["x", "y"], trace)
    assert seen["selected"] == ["a/c"] and seen["matches"] == [["x", "y"]]
    assert seen["trace"] == [trace]
    _open(state, "g")
    assert (state.selected, state.matches, state.trace) == (None, [], None)
    assert seen["selected"][-1] is None and seen["trace"][-1] is None


def test_back_restores_the_scopes_selection_and_viewport_left_behind():
    state = GraphState()
    first = _open(state, "f")
    state.collapse_all()
    _answer(state)
    state.expand("a")
    _answer(state)
    state.select("a/c")
    _open(state, "g")
    state.back(viewport=("g's viewport",))
    assert state.place.ref == first.ref
    assert state.pending.restore.expanded == {"a"}  # built already: laid out at once
    assert state.pending.restore.selected == "a/c"
    _answer(state)
    assert state.expanded == {"a"} and state.selected == "a/c"
    state.forward()
    assert state.pending.restore.viewport == ("g's viewport",)


def test_only_the_newest_graphs_are_kept_built():
    state = GraphState()
    refs = []
    for k in range(KEPT_GRAPHS + 2):
        refs.append(_open(state, f"f{k}").ref)
    assert state.cached(refs[0]) is None
    assert state.cached(refs[-1]) is not None


def test_a_stale_layout_is_not_shown():
    state = GraphState()
    graph = _open(state)
    old = lay_out(graph, set())
    other = loaded(NODES, function="other")
    state.visit(Place((GraphRef("", "other"),)))
    state.graph_loaded(other)
    assert state.layout_done(old) is None
    assert state.view.loaded is graph


def test_reset_forgets_everything():
    state = GraphState()
    _open(state)
    seen = _recorder(state)
    state.reset()
    assert state.view is None and state.place is None and state.expanded == frozenset()
    assert seen["view"] == [None] and seen["place"] == [None]
