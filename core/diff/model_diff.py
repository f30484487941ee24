"""The diff of two exports: what changed, and does it break anyone who used the old one?

``diff_models(a, b)`` builds a ModelDiff (changes.py): Changes grouped by area, each with a
severity and the reason for it, and a value delta per variable and per frozen weight (a
frozen weight's new values are that delta, never also a changed attr of its Const node).
The areas come from files.py (file bytes, assets), signatures.py, graph.py (functions and
main graphs) and values.py (variables); metadata, tag-sets and ops are compared here.
"""

from __future__ import annotations

from dataclasses import fields

from smlens.core.analysis.ops import op_counts
from smlens.core.analysis.releases import MinRelease, Version, release_table, required_release
from smlens.core.diff.bindings import find_bindings
from smlens.core.diff.changes import Change, ModelDiff, ReleaseNeed, Steps, container
from smlens.core.diff.files import compare_parts, diff_assets
from smlens.core.diff.graph import GraphContext, diff_tag_set_graphs
from smlens.core.diff.signatures import diff_signatures
from smlens.core.diff.values import diff_variables
from smlens.core.diff.variable_pairing import VariablePairing, pair_constants, pair_variables
from smlens.core.model import Fingerprint, MetaGraph, Model
from smlens.core.model.text import counted
from smlens.core.tasks import CancelCheck, Progress


def diff_models(
    a: Model,
    b: Model,
    *,
    values: bool = True,
    slots: bool = False,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> ModelDiff:
    """Everything that differs from ``a`` to ``b``.

    ``values=False`` skips reading tensors (pairs still count as identical when their stored
    checksums agree); ``slots=True`` also compares optimizer slot values. ``progress(fraction,
    text)`` is called along the way and ``cancelled()`` polled between steps and tensor
    chunks; when it returns True, Cancelled is raised.
    """
    steps = Steps(progress, cancelled)
    diff = ModelDiff(str(a.path), str(b.path), values_compared=values)
    steps.report(0.0, "comparing files")
    diff.identical_parts, byte_changes = compare_parts(a, b, steps.span(0.0, 0.15))
    pairs, diff.groups["tag_sets"] = _pair_meta_graphs(a, b)
    diff.groups["metadata"] = _metadata(a, b, pairs) + byte_changes
    pairing, constants = pair_variables(a, b), pair_constants(a, b)
    _diff_graphs(diff, a, b, pairs, pairing, constants, steps.span(0.15, 0.25))
    needs_a, needs_b = _required_releases(a), _required_releases(b)
    diff.releases = _release_needs("a", needs_a) + _release_needs("b", needs_b)
    diff.groups["ops"] = _ops(a, b, _newest(needs_a), _newest(needs_b))
    steps.report(0.25, "comparing assets")
    diff.groups["assets"] = diff_assets(a, b)
    diff.groups["variables"], diff.value_deltas, problems = diff_variables(
        a,
        b,
        steps.span(0.3, 1.0),
        values=values,
        slots=slots,
        pairing=pairing,
        constant_pairing=constants,
    )
    diff.problems += problems
    steps.report(1.0, "done")
    return diff


def _diff_graphs(
    diff: ModelDiff,
    a: Model,
    b: Model,
    pairs: list,
    pairing: VariablePairing,
    constants: VariablePairing,
    steps: Steps,
) -> None:
    """Signatures, functions and main graphs of each tag-set both exports have; the paired
    frozen weights' values are left to the variables area."""
    b2a = pairing.b_to_a_names()
    constant_nodes = frozenset((p.a.name, p.b.name) for p in constants.pairs)
    # Byte-identical graph files (saved_model.pb, .meta, frozen .pb) hold identical graphs:
    # a re-export check or a model diffed with itself skips the node-by-node comparison.
    same_bytes = diff.identical_parts.get("graph") is True
    for i, (tag_set, mg_a, mg_b) in enumerate(pairs):
        steps.report(i / len(pairs), f"comparing signatures and graphs of {tag_set}")
        signatures = diff_signatures(tag_set, mg_a, mg_b)
        _add(diff, "signatures", container(("signatures", tag_set), signatures, tag_set))
        if same_bytes:  # nothing to tell apart: the bindings would only feed the node diffs
            context = GraphContext()
        else:
            context = GraphContext(
                a,
                b,
                find_bindings(a, mg_a),
                find_bindings(b, mg_b, b2a),
                b2a,
                constant_nodes,
            )
        functions, graph, matching, problems = diff_tag_set_graphs(
            tag_set, mg_a, mg_b, context, identical=same_bytes
        )
        diff.problems += problems
        _add(diff, "functions", functions)
        _add(diff, "graph", graph)
        diff.function_matches[tag_set] = [(fa, fb, how) for fa, (fb, how) in matching.pairs.items()]


def _add(diff: ModelDiff, area: str, change: Change | None) -> None:
    if change is not None:
        diff.groups[area].append(change)


# -- metadata --------------------------------------------------------------------------------


def _metadata(a: Model, b: Model, pairs: list) -> list[Change]:
    changes = []
    for what, before, after in (
        ("format", a.format, b.format),
        ("saved_model_schema_version", a.schema_version, b.schema_version),
        ("keras_metadata", a.keras_metadata, b.keras_metadata),
    ):
        if before != after:
            changes.append(
                Change(("metadata", what), "changed", before, after, reason=f"{what} changed")
            )
    for tag_set, mg_a, mg_b in pairs:
        if mg_a.tf_version != mg_b.tf_version:
            changes.append(
                Change(
                    ("metadata", "tensorflow_version", tag_set),
                    "changed",
                    mg_a.tf_version,
                    mg_b.tf_version,
                    reason=f"exported by TensorFlow {mg_b.tf_version} instead of "
                    f"{mg_a.tf_version}; the graph and ops diffs show what that changed",
                )
            )
    return changes + _fingerprint(a.fingerprint, b.fingerprint)


def _fingerprint(a: Fingerprint | None, b: Fingerprint | None) -> list[Change]:
    """Fingerprint fields: info only, since every export gets a new checksum and uuid."""
    if a is None and b is None:
        return []
    if a is None or b is None:
        return [
            Change(
                ("metadata", "fingerprint"),
                "added" if a is None else "removed",
                reason="fingerprint.pb " + ("added" if a is None else "removed"),
                annotation="fingerprint",
            )
        ]
    return [
        Change(
            ("metadata", "fingerprint", f.name),
            "changed",
            str(getattr(a, f.name)),
            str(getattr(b, f.name)),
            reason=f"fingerprint {f.name} changed"
            + (
                ": expected for every new export"
                if f.name in ("uuid", "saved_model_checksum")
                else ""
            ),
            annotation="fingerprint",
        )
        for f in fields(Fingerprint)
        if getattr(a, f.name) != getattr(b, f.name)
    ]


# -- tag-sets --------------------------------------------------------------------------------


def _pair_meta_graphs(
    a: Model, b: Model
) -> tuple[list[tuple[str, MetaGraph, MetaGraph]], list[Change]]:
    """Meta graphs of both exports paired by their set of tags; tag-sets in only one."""
    by_tags_b = {frozenset(mg.tags): mg for mg in b.meta_graphs}
    tags_a = {frozenset(mg.tags) for mg in a.meta_graphs}
    pairs, changes = [], []
    for mg in a.meta_graphs:
        other = by_tags_b.get(frozenset(mg.tags))
        if other is not None:
            pairs.append((mg.tag_set, mg, other))
        else:
            changes.append(
                Change(
                    ("tag_sets", mg.tag_set),
                    "removed",
                    before=mg.tags,
                    severity="breaking",
                    reason=f"tag-set '{mg.tag_set}' is gone: clients loading it (TF Serving "
                    "--saved_model_tags, tf.saved_model.load(tags=...)) will fail to load the "
                    "model",
                )
            )
    for mg in b.meta_graphs:
        if frozenset(mg.tags) not in tags_a:
            changes.append(
                Change(
                    ("tag_sets", mg.tag_set),
                    "added",
                    after=mg.tags,
                    reason=f"new tag-set '{mg.tag_set}': existing clients do not load it",
                )
            )
    return pairs, changes


# -- ops -------------------------------------------------------------------------------------


def _all_ops(model: Model) -> dict[str, tuple[int, bool, bool]]:
    """op -> (nodes using it, risky, registered) over every meta graph, functions included."""
    ops: dict[str, tuple[int, bool, bool]] = {}
    for mg in model.meta_graphs:
        for op, count in op_counts(mg).items():
            total = ops.get(op, (0, False, True))[0] + count.total
            ops[op] = (total, count.risky, count.registered)
    return ops


def _required_releases(model: Model) -> list[tuple[str, MinRelease]]:
    """(tag-set, the oldest release that loads it) for each meta graph of ``model``."""
    return [(mg.tag_set, required_release(mg)) for mg in model.meta_graphs]


def _release_needs(side: str, needs: list[tuple[str, MinRelease]]) -> list[ReleaseNeed]:
    return [ReleaseNeed(side, tag_set, str(m.release), m.text()) for tag_set, m in needs]


def _newest(needs: list[tuple[str, MinRelease]]) -> Version | None:
    """The release a side needs: the newest any of its meta graphs needs."""
    return max((m.release for _, m in needs), default=None)


def _at_least(release: Version | None) -> str:
    """ ">= 2.10", or "2.4 or older" when the table's oldest release already holds it all."""
    if release is None:
        return "no release (it holds no graph)"
    if release == release_table().oldest:
        return f"{release} or older"
    return f">= {release}"


def _lacked_by(op: str, need_a: Version | None, need_b: Version | None) -> str:
    """Which TensorFlow releases lack a newly used op, and what each side needs: "B needs
    X, A needed Y". The table dates the op; an op it cannot date says so."""
    since = release_table().op_since(op)
    sides = f"B needs TensorFlow {_at_least(need_b)}, A needed {_at_least(need_a)}"
    if since is None:
        return f"no release's op wrappers date {op}; {sides}"
    if since == release_table().oldest:
        lack = f"every TensorFlow release checked ({since} on) defines it"
    else:
        lack = f"TensorFlow releases before {since} lack it"
    if need_a is not None and since <= need_a:
        lack += ", so any release that loaded A has it, but not every selective build"
    return f"{lack}; {sides}"


def _ops(
    a: Model, b: Model, need_a: Version | None = None, need_b: Version | None = None
) -> list[Change]:
    """Ops newly used (risky: which releases lack each) and ops no longer used (info)."""
    ops_a, ops_b = _all_ops(a), _all_ops(b)
    changes = []
    for op in sorted(ops_b.keys() - ops_a.keys()):
        count, risky, registered = ops_b[op]
        if risky:
            why = (
                "it touches files or runs host code (saved_model_cli scan flags it), so serving "
                "it can reach the server's file system"
            )
        elif not registered:
            why = "it is not a TensorFlow op: the serving binary needs its custom op library"
        else:
            why = _lacked_by(op, need_a, need_b)
        changes.append(
            Change(
                ("ops", op),
                "added",
                after=count,
                severity="risky",
                reason=f"op {op} is newly used ({counted(count, 'node')}): {why}",
            )
        )
    for op in sorted(ops_a.keys() - ops_b.keys()):
        changes.append(
            Change(
                ("ops", op),
                "removed",
                before=ops_a[op][0],
                reason=f"op {op} is no longer used",
            )
        )
    return changes
