"""Series: a long run of alike sibling scopes shows as one box until it is opened."""

from __future__ import annotations

from smlens.core.graph.layout import layout_graph
from smlens.core.graph.nav import shown_item, trace_view
from smlens.core.graph.scopes import expand_all, reveal, visible_graph
from tests.core.graph.synthetic import loaded

TIMES = "\N{MULTIPLICATION SIGN}"


def _chain(n: int):
    """x -> block_0/{a,b} -> block_1/{a,b} -> ... -> y"""
    names = [("x", [])]
    prev = "x"
    for k in range(n):
        names += [(f"block_{k}/a", [prev]), (f"block_{k}/b", [f"block_{k}/a"])]
        prev = f"block_{k}/b"
    return [*names, ("y", [prev])]


def test_a_thousand_alike_sibling_scopes_fold_into_one_series_box():
    names = [("x", [])] + [(f"head_{k}/{op}", ["x"]) for k in range(1000) for op in "ab"]
    lg = loaded(names)
    box = visible_graph(lg.graph, lg.hierarchy, set()).boxes[""]
    series = [it for it in box.items if it.kind == "series"]
    assert [it.label for it in series] == [f"head_[0-999] {TIMES}1000"]
    assert series[0].op_count == 2000
    assert {(e.src, e.dst, e.count) for e in box.edges} == {("x", series[0].id, 2000)}
    layout_graph(visible_graph(lg.graph, lg.hierarchy, set()))  # one box, laid out


def test_a_chain_of_blocks_is_a_series_and_expanding_it_shows_every_block():
    lg = loaded(_chain(1000))
    (series,) = lg.hierarchy.series.values()
    assert series.label == "block_[0-999]"
    collapsed = visible_graph(lg.graph, lg.hierarchy, set())
    assert {it.id for it in collapsed.boxes[""].items} == {"x", "y", series.id}
    edges = {(e.src, e.dst) for e in collapsed.boxes[""].edges}
    assert edges == {("x", series.id), (series.id, "y")}  # the chain inside is not drawn
    opened = visible_graph(lg.graph, lg.hierarchy, {series.path})
    assert len(opened.boxes[""].items) == 1002
    assert [it.label for it in opened.boxes[""].items[:3]] == ["block_0", "block_1", "block_2"]


def test_search_and_trace_reach_nodes_inside_a_folded_series():
    lg = loaded(_chain(20))
    (series,) = lg.hierarchy.series.values()
    node = lg.graph.index["block_7/a"]
    assert shown_item(lg, set(), node) == series.id
    wanted = reveal(lg.hierarchy, lg.graph, set(), "block_7/a")
    assert wanted == {series.path, "block_7"}
    assert shown_item(lg, wanted, node) == "block_7/a"
    traced = trace_view(lg, set(), "y", "inputs")
    assert series.id in traced.items and (series.id, "y") in traced.pairs
    assert series.path in expand_all(lg.hierarchy)


def test_interleaved_runs_stay_apart():
    """A transformer's layer_0_attention -> layer_0_ffn -> layer_1_attention ...: merging the
    attentions would draw a cycle through the ffns, so neither run is a series."""
    names, prev = [("x", [])], "x"
    for k in range(8):
        for part in ("attention", "ffn"):
            names.append((f"layer_{k}_{part}/op", [prev]))
            prev = f"layer_{k}_{part}/op"
    lg = loaded(names)
    assert not lg.hierarchy.series
    assert len(visible_graph(lg.graph, lg.hierarchy, set()).boxes[""].items) == 17


def test_short_or_unlike_runs_stay_apart():
    short = loaded([(f"b_{k}/op", []) for k in range(4)])
    unlike = loaded([(f"b_{k}/op{'x' * (k % 2)}", []) for k in range(10)] + [("b_3/extra", [])])
    assert not short.hierarchy.series
    assert all(len(s.members) >= 5 for s in unlike.hierarchy.series.values())
    assert "b_3" not in {m.name for s in unlike.hierarchy.series.values() for m in s.members}
