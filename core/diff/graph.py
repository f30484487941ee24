"""The graphs of one tag-set present in both exports: each matched function, and the main graph.

Functions are paired by the function matching (function_matching.py); a pair whose
structural hashes agree is unchanged. Saver functions are compared by what they save
(saver.py), other functions by their arguments (captured variables as a set of the variables
they bind to, bindings.py), their attrs and their nodes (node_diff.py). A call to a function
the library lacks is a warning on the diff, and breaking when only B has it.
"""

from __future__ import annotations

from collections import defaultdict

from smlens.core.diff.changes import Change, container
from smlens.core.diff.function_matching import (
    FunctionMatching,
    Hasher,
    function_labels,
    match_functions,
)
from smlens.core.diff.node_diff import diff_attrs, diff_nodes
from smlens.core.diff.node_pairing import Body, GraphContext, pair_args
from smlens.core.diff.saver import diff_saver, is_saver, saved_entries
from smlens.core.errors import Problem
from smlens.core.graph.calls import find_calls
from smlens.core.model import Function, MetaGraph
from smlens.core.model.text import counted, tag_set_text


def diff_tag_set_graphs(
    tag_set: str,
    a: MetaGraph,
    b: MetaGraph,
    context: GraphContext | None = None,
    identical: bool = False,
) -> tuple[Change | None, Change | None, FunctionMatching, list[Problem]]:
    """The functions container and the main-graph container of one tag-set present in both,
    the function matching, and warnings (calls to functions the library lacks).

    ``identical``: the two were read from byte-identical files, so no function or node can
    differ; only the matching and the warnings are worked out (a million-node graph diffed
    with itself took 20 s and 2.5 GiB node by node)."""
    context = context or GraphContext()
    hash_a, hash_b = Hasher(a.graph), Hasher(b.graph)
    matching = match_functions(a, b, hash_a, hash_b)
    b_to_a = matching.b_to_a()
    labels_a = function_labels(a.functions, matching.roles_a)
    labels_b = function_labels(b.functions, matching.roles_b)
    roles_of = defaultdict(set)
    for role, holders in matching.roles_a.items():
        for name in holders:
            roles_of[name].add(role)
    base = ("functions", tag_set)
    changes = []
    for fa, (fb, _how) in sorted(matching.pairs.items(), key=lambda i: labels_a[i[0]]):
        if identical or hash_a.function(fa) == hash_b.function(fb):
            continue
        path = (*base, labels_a[fa])
        fn_a, fn_b = a.functions[fa], b.functions[fb]
        if is_saver(fn_a, roles_of[fa]) and is_saver(fn_b):
            change = _diff_saver_function(path, fn_a, fn_b, context)
        else:
            body = Body(hash_a, hash_b, b_to_a, context, fa, fb)
            change = _diff_function(path, fn_a, fn_b, body)
        if change:
            changes.append(change)
    for name in matching.removed:
        size = counted(len(a.functions[name].nodes), "node")
        changes.append(
            Change(
                (*base, labels_a[name]),
                "removed",
                before=name,
                reason=f"function {labels_a[name]} ({size}) is no longer in the export",
            )
        )
    for name in matching.added:
        size = counted(len(b.functions[name].nodes), "node")
        changes.append(
            Change(
                (*base, labels_b[name]),
                "added",
                after=name,
                reason=f"new function {labels_b[name]} ({size})",
            )
        )
    body = Body(hash_a, hash_b, b_to_a, context, "", "")
    main = [] if identical else diff_nodes(("graph", tag_set), a.graph.nodes, b.graph.nodes, body)
    missing_a, missing_b = _missing_callees(a), _missing_callees(b)
    for callee, nodes in missing_b.items():  # TensorFlow resolves every call on import
        if callee not in missing_a:
            main.append(
                Change(
                    ("graph", tag_set, nodes[0]),
                    "changed",
                    severity="breaking",
                    reason=f"in B, {_missing_text(callee, nodes)}: B's graph cannot be loaded",
                )
            )
    problems = [
        Problem("graph", f"{side}:{tag_set}", _missing_text(callee, nodes))
        for side, missing in (("A", missing_a), ("B", missing_b))
        for callee, nodes in sorted(missing.items())
    ]
    return (
        container(base, changes, f"functions of {tag_set_text(tag_set)}"),
        container(("graph", tag_set), main, f"main graph of {tag_set_text(tag_set)}"),
        matching,
        problems,
    )


def _missing_callees(mg: MetaGraph) -> dict[str, list[str]]:
    """Function names that calls name but the library does not define -> the calling nodes."""
    missing = defaultdict(list)
    # callee_of's answer from the call index: a node whose op is a library function calls
    # that (never missing); otherwise its "f" attr, when that names a function.
    calls = find_calls(mg.graph)
    runs_op = {(c.caller, c.node) for c in calls if c.attr == ""}
    for c in calls:
        if c.attr == "f" and c.callee not in mg.functions and (c.caller, c.node) not in runs_op:
            missing[c.callee].append(f"{c.caller}/{c.node}" if c.caller else c.node)
    return missing


def _missing_text(callee: str, nodes: list[str]) -> str:
    more = f" (and {len(nodes) - 1} more)" if len(nodes) > 1 else ""
    return f"node {nodes[0]}{more} calls function {callee!r}, which the library does not define"


def _diff_saver_function(
    path: tuple[str, ...], fa: Function, fb: Function, context: GraphContext
) -> Change | None:
    entries_a = saved_entries(fa, context.model_a, {})
    entries_b = saved_entries(fb, context.model_b, context.variables_b2a)
    return diff_saver(path, fa, fb, entries_a, entries_b)


def _diff_function(path: tuple[str, ...], fa: Function, fb: Function, body: Body) -> Change | None:
    """A matched function whose own body differs; None when only its callees do."""
    label = path[-1]
    body.args_b2a = pair_args(fa, fb, body)
    nodes = diff_nodes(path, fa.nodes, fb.nodes, body)
    changes = _arg_changes(path, fa, fb, body)
    changes += diff_attrs((*path, "attrs"), fa.attrs, fb.attrs, body.b_to_a, f"function {label}")
    change = container(path, changes + nodes, f"function {label}")
    if change is not None:
        change.before, change.after = fa.name, fb.name
        kinds = defaultdict(int)
        for c in nodes:
            if not c.annotation:
                kinds[c.kind] += 1
        parts = [f"{counted(n, 'node')} {kind}" for kind, n in sorted(kinds.items())]
        parts += [c.reason.split(f"{label} ", 1)[-1] for c in changes if c.path[-1] == "captures"]
        change.reason = f"function {label} changed" + (f": {', '.join(parts)}" if parts else "")
        if change.annotation:
            change.reason = f"function {label}: only annotations changed"
    return change


def _arg_changes(path: tuple[str, ...], fa: Function, fb: Function, body: Body) -> list[Change]:
    """Argument types in order (input names are generated from node names), captured
    variables as a set, and outputs with their names (a signature wrapper's output names
    are the signature's keys)."""
    ctx = body.context
    plain_a, plain_b, captured_a, captured_b = [], [], set(), set()
    for bindings, fn, plain, captured in (
        (ctx.bindings_a, fa, plain_a, captured_a),
        (ctx.bindings_b, fb, plain_b, captured_b),
    ):
        for i, arg in enumerate(fn.inputs):
            label = bindings.arg_label(fn.name, i)
            if label is None:
                plain.append(_arg_type(arg))
            else:
                captured.add(label)
    changes = []
    if captured_a != captured_b:
        gone, new = sorted(captured_a - captured_b), sorted(captured_b - captured_a)
        what = "; ".join(
            text
            for text in (
                f"now captures {', '.join(new)}" if new else "",
                f"no longer captures {', '.join(gone)}" if gone else "",
            )
            if text
        )
        changes.append(
            Change((*path, "captures"), "changed", gone, new, reason=f"function {path[-1]} {what}")
        )
    for what, before, after in (
        ("inputs", plain_a, plain_b),
        (
            "outputs",
            [f"{a.name}: {_arg_type(a)}" for a in fa.outputs],
            [f"{a.name}: {_arg_type(a)}" for a in fb.outputs],
        ),
    ):
        if before != after:
            changes.append(
                Change(
                    (*path, what),
                    "changed",
                    before,
                    after,
                    reason=f"the {what} of function {path[-1]} changed",
                )
            )
    return changes


def _arg_type(arg) -> str:
    return arg.dtype or arg.type_attr or arg.type_list_attr
