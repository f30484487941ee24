"""Long areas fold into fewer lines in the default text (report/folding.py), and a folded
line stands for exactly the changes it holds."""

from __future__ import annotations

from smlens.core.diff.changes import Change
from smlens.core.diff.report.folding import fold_entries


def _node(name: str, kind: str, op: str) -> Change:
    before, after = (op, None) if kind == "removed" else (None, op)
    return Change(("graph", "serve", name), kind, before, after, reason=f"node {name} {kind}")


def _attr(name: str) -> Change:
    return Change(("graph", "serve", name, "attrs", "value"), "changed", "1", "2", reason="x")


def test_an_overflowing_graph_folds_added_and_removed_nodes_per_top_scope_first():
    removed = [_node(f"transform/Const_{i}", "removed", "Const") for i in range(20)]
    removed += [_node(f"transform/Identity_{i}", "removed", "Identity") for i in range(10)]
    changed = [_attr(f"head/Const_{i}") for i in range(3)]
    top = [_node(name, "removed", "Const") for name in ("asset_path", "asset_path_1", "Identity")]
    entries = removed + changed + top

    folded = fold_entries("graph", entries, listed=20)

    assert folded[0].children == removed
    assert folded[0].path == ("graph", "serve", "transform/…") and folded[0].kind == "removed"
    assert folded[0].reason == "30 nodes removed (Const 20, Identity 10)"
    assert folded[1:4] == changed  # changed nodes stay one line each: they fit
    assert folded[4].path == ("graph", "serve", "asset_path, asset_path_1, Identity")
    assert len(folded) == 5
    assert sum(len(c.children) or 1 for c in folded) == len(entries)


def test_a_graph_still_overflowing_folds_its_changed_nodes_too():
    changed = [_attr(f"linear/w_{i}") for i in range(25)]
    added = [_node(f"linear/Cast_{i}", "added", "Cast") for i in range(2)]
    (line,) = fold_entries("graph", changed + added, listed=20)
    assert line.kind == "changed"
    assert line.reason == "2 nodes added (Cast 2), 25 changed (attrs 25)"


def test_areas_that_fit_are_left_alone_but_ops_always_fold():
    entries = [_node(f"n{i}", "removed", "Const") for i in range(5)]
    assert fold_entries("graph", entries, listed=20) == entries
    ops = [Change(("ops", op), "removed", reason=f"op {op}") for op in ("Add", "Max", "Neg")]
    (line,) = fold_entries("ops", ops, listed=20)
    assert line.path == ("ops", "Add, Max, Neg") and line.reason == "3 ops no longer used"


def test_new_functions_of_one_name_fold_when_the_area_overflows():
    names = [f"__inference_<lambda> [__inference_<lambda>_{i}]" for i in range(21)]
    new = [Change(("functions", "serve", n), "added", after=n, reason="new") for n in names]
    saver = Change(("functions", "serve", "__inference__traced_save"), "added", reason="new")
    folded = fold_entries("functions", [*new, saver], listed=20)
    assert [c.path[2] for c in folded] == ["__inference_<lambda> […]", "__inference__traced_save"]
    assert folded[0].reason == "21 new functions named __inference_<lambda>"
