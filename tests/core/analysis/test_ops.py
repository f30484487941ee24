"""Op counts and the risky-op scan read a lazy graph's ops without converting its nodes,
and are made once per meta graph."""

from __future__ import annotations

from collections import Counter

from smlens.core import open_model
from smlens.core.analysis.ops import op_counts
from smlens.core.analysis.prepare import prepare
from smlens.core.analysis.scan import scan_meta_graph
from smlens.core.formats import proto


def _saved_model(folder, ops):
    saved = proto.SavedModel(saved_model_schema_version=1)
    mg = saved.meta_graphs.add()
    mg.meta_info_def.tags.append("serve")
    for i, op in enumerate(ops):
        mg.graph_def.node.add(name=f"n{i}", op=op)
    (folder / "saved_model.pb").write_bytes(saved.SerializeToString())
    return folder


def test_counts_and_scan_leave_the_nodes_unconverted_and_match_the_converted(tmp_path):
    ops = ["Const", "ReadFile", "Identity", "Const", "WriteFile", "ReadFile"]
    path = _saved_model(tmp_path, ops)
    graph = open_model(path).meta_graphs[0].graph
    counts = {op: c.main for op, c in op_counts(open_model(path).meta_graphs[0]).items()}
    mg = open_model(path).meta_graphs[0]
    scan = scan_meta_graph(mg)
    assert not mg.graph.converted
    assert counts == Counter(ops)
    assert [(u.op, u.node) for u in scan.denylisted] == [
        ("ReadFile", "n1"),
        ("WriteFile", "n4"),
        ("ReadFile", "n5"),
    ]
    assert Counter(n.op for n in graph.nodes) == counts  # the converted nodes agree


def test_counts_and_the_default_scan_are_made_once_per_meta_graph_and_prepare_makes_them(
    tmp_path,
):
    path = _saved_model(tmp_path, ["Const", "ReadFile", "PrintV2"])
    mg = open_model(path).meta_graphs[0]
    assert not mg.derived
    model = prepare(open_model(path))  # what the window's loader runs off the UI thread
    mg = model.meta_graphs[0]
    found_io = set() if mg.callable_signatures else {"graph_io"}  # feeds and fetches found
    assert set(mg.derived) == {"op_counts", "scan"} | found_io
    assert op_counts(mg) is mg.derived["op_counts"]
    assert scan_meta_graph(mg) is mg.derived["scan"]
    assert scan_meta_graph(mg, ["Const"]) is not mg.derived["scan"]  # another denylist
    assert {u.op for u in scan_meta_graph(mg, ["Const"]).denylisted} == {"Const"}
    assert {u.op for u in scan_meta_graph(mg).denylisted} == {"ReadFile", "PrintV2"}
