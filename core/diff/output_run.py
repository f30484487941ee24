"""Both exports run on the same inputs and their outputs compared: the slow step behind
``smlens diff A B --outputs``, the compare window's Outputs tab and the Run panel's
comparison with another export.

The caller chooses the inputs (``PairPlan``s, from core/run's ``pair``) and the tolerances;
this runs the plans through the workers (``run_pairs``) and compares every output
(``compare_signature``). It is a plain ``f(..., progress, cancelled)`` function: the CLI
calls it directly, the window through its TaskRunner. Cancelling kills the workers in use
(the only way to interrupt TensorFlow) and raises ``Cancelled``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from smlens.core.diff.outputs import OutputsDiff, SignatureOutputs, Tolerances, compare_signature
from smlens.core.formats.reader import open_model
from smlens.core.run.client import RunEngine
from smlens.core.run.pair import (
    Feed,
    PairCalls,
    PairPlan,
    engines_for,
    plan_against_saved,
    plan_for_feed,
    run_pairs,
)
from smlens.core.run.request import LoadRequest
from smlens.core.run.saved_run import SavedCall, SavedRun, SavedSignature, load_run
from smlens.core.tasks import CancelCheck, Progress, check_cancelled

ONE_WORKER = "one worker loading both"
TWO_WORKERS = "two workers in parallel"


@dataclass
class OutputRun:
    """A comparison of what two exports compute, and the calls' arrays it was made from
    (the element views and ``--save-run`` read them)."""

    diff: OutputsDiff
    pairs: list[PairCalls] = field(default_factory=list)

    def pair(self, signature: str) -> PairCalls | None:
        """The calls of ``signature``, or None when it was not run."""
        return next((p for p in self.pairs if p.plan.signature == signature), None)

    def signature(self, signature: str) -> SignatureOutputs | None:
        return next((s for s in self.diff.signatures if s.signature == signature), None)


def how_run(baseline: str, parallel: bool) -> str:
    """How the two sides ran, in the diff's words."""
    if baseline:
        return f"against the saved run {baseline}"
    return TWO_WORKERS if parallel else ONE_WORKER


def run_outputs(
    plans: list[PairPlan],
    target_a: LoadRequest | None,
    target_b: LoadRequest,
    tolerances: Tolerances,
    *,
    engine_a: RunEngine | None = None,
    engine_b: RunEngine | None = None,
    parallel: bool = False,
    baseline: str = "",
    notes: list[str] | None = None,
    timeout: float | None = None,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> OutputRun:
    """Run every plan on both sides (B only where a plan holds A's saved outputs) and
    compare each output within ``tolerances``.

    With no ``engine_b`` the workers are started here (two with ``parallel``) and closed
    at the end, also when cancelled; engines given are the caller's to keep warm and close.
    ``baseline`` names the saved run A's outputs came from, ``notes`` the signatures the
    plans left out.
    """
    check_cancelled(cancelled, "the outputs run was cancelled")
    owned = engine_b is None
    if owned:
        engine_a, engine_b = engines_for(parallel and target_a is not None)
    try:
        pairs, seconds = run_pairs(
            plans,
            target_a,
            target_b,
            engine_a,
            engine_b,
            timeout=timeout,
            progress=progress,
            cancelled=cancelled,
        )
    finally:
        if owned:
            engine_b.close()
            if engine_a is not engine_b:
                engine_a.close()
    check_cancelled(cancelled, "the outputs run was cancelled")
    two_engines = engine_a is not None and engine_a is not engine_b
    signatures = [compared(pair, tolerances) for pair in pairs]
    diff = OutputsDiff(
        signatures,
        how_run(baseline, two_engines),
        seconds,
        baseline=baseline,
        notes=list(notes or []),
    )
    return OutputRun(diff, pairs)


def compared(pair: PairCalls, tolerances: Tolerances) -> SignatureOutputs:
    """The outputs of one plan's calls compared; a plan that could not run keeps its
    problem and no outputs."""
    plan = pair.plan
    if pair.problem:
        empty = compare_signature(plan.tag_set, plan.signature, plan.source, [], tolerances)
        return replace(empty, problem=pair.problem)
    return compare_signature(plan.tag_set, plan.signature, plan.source, pair.calls, tolerances)


def saved_run_of(run: OutputRun, a: str | Path | None, b: str | Path) -> SavedRun:
    """The run as ``--save-run`` keeps it: every call's inputs and both sides' outputs,
    with the exports' paths by side."""
    signatures = []
    for pair in run.pairs:
        calls = [SavedCall(feed, {"a": out_a, "b": out_b}) for feed, out_a, out_b in pair.calls]
        plan = pair.plan
        signatures.append(SavedSignature(plan.tag_set, plan.signature, plan.source, calls))
    models = {"b": str(b)} | ({"a": str(a)} if a is not None else {})
    return SavedRun(signatures, models)


def run_against_other(
    target: LoadRequest,
    key: str,
    feed: Feed,
    source: str,
    other: str | Path,
    tolerances: Tolerances,
    engine: RunEngine,
    *,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> OutputRun:
    """Signature ``key`` of ``target`` (the Run panel's export) against ``other``: another
    export folder, fed the same ``feed`` (this export is A, the other B), or a saved run
    (.npz), whose own inputs this export is fed (the saved outputs are A, this export B).
    Both run in ``engine``'s one worker."""
    mg = target.meta_graph
    if Path(other).suffix == ".npz":
        plans, notes, _mg = plan_against_saved(
            load_run(other), str(other), target.model, mg.tag_set, key
        )
        return run_outputs(
            plans,
            None,
            target,
            tolerances,
            engine_b=engine,
            baseline=str(other),
            notes=notes,
            progress=progress,
            cancelled=cancelled,
        )
    check_cancelled(cancelled, "the outputs run was cancelled")
    b = open_model(other)
    mg_b = b.meta_graph(mg.tags)
    target_b = LoadRequest(model=b, meta_graph=mg_b, device=target.device, loads=target.loads)
    plan = plan_for_feed(mg, mg_b, key, feed, source)
    return run_outputs(
        [plan],
        target,
        target_b,
        tolerances,
        engine_a=engine,
        engine_b=engine,
        progress=progress,
        cancelled=cancelled,
    )
