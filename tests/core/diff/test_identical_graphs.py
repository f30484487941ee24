"""Byte-identical graph files skip the node-by-node diff, yet keep the function matching
and the warnings; a graph that differs by one node is still compared node by node."""

from __future__ import annotations

import shutil

from smlens.core.diff.model_diff import diff_models
from smlens.core.formats import proto
from smlens.core.formats.reader import open_model


def _export(folder, extra_node: bool = False):
    """A main graph of Identity nodes, one call to a function the library lacks, and one
    library function called by a PartitionedCall."""
    saved = proto.SavedModel(saved_model_schema_version=1)
    mg = saved.meta_graphs.add()
    mg.meta_info_def.tags.append("serve")
    graph = mg.graph_def
    fn = graph.library.function.add()
    fn.signature.name = "inner_fn_12"
    x = graph.node.add(name="x", op="Placeholder")
    x.attr["dtype"].type = 1
    for i in range(20 + extra_node):
        node = graph.node.add(name=f"n{i}", op="Identity", input=["x" if i == 0 else f"n{i - 1}"])
        node.attr["T"].type = 1
    call = graph.node.add(name="call", op="PartitionedCall", input=["n0"])
    call.attr["f"].func.name = "inner_fn_12"
    lost = graph.node.add(name="lost", op="PartitionedCall", input=["n0"])
    lost.attr["f"].func.name = "gone_fn_3"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "saved_model.pb").write_bytes(saved.SerializeToString())
    return folder


def test_identical_bytes_skip_the_nodes_but_keep_matches_and_warnings(tmp_path):
    a = _export(tmp_path / "a")
    b = tmp_path / "b"
    shutil.copytree(a, b)
    model_a, model_b = open_model(a), open_model(b)
    diff = diff_models(model_a, model_b)
    assert diff.identical_parts["graph"] is True
    assert diff.groups["graph"] == [] and diff.groups["functions"] == []
    assert [(fa, fb) for fa, fb, _how in diff.function_matches["serve"]] == [
        ("inner_fn_12", "inner_fn_12")
    ]
    warned = sorted(p.path for p in diff.problems if "gone_fn_3" in p.message)
    assert warned == ["A:serve", "B:serve"]
    assert not model_a.meta_graphs[0].graph.converted  # no pass read the nodes one by one


def test_one_more_node_is_still_found(tmp_path):
    diff = diff_models(
        open_model(_export(tmp_path / "a")), open_model(_export(tmp_path / "b", True))
    )
    assert diff.identical_parts["graph"] is False
    paths = [c.path for group in diff.groups["graph"] for c in group.children]
    assert ("graph", "serve", "n20") in paths
