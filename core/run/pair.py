"""Two exports run on the same inputs (``smlens diff A B --outputs``): which signatures,
fed what, and the calls on both sides.

The inputs come from ``smlens run``'s flags (built once, against A's signature, and fed to
both sides) or from the records of a warmup file. Both sides run in workers, TensorFlow
only there: by default one worker loads both exports (one TensorFlow import, the two
models side by side in its cache); with two engines, two workers start and load in
parallel, each side's calls in its own thread (the imports and loads overlap, at the cost
of a second TensorFlow's memory). Against a saved run only B runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from smlens.core.analysis.warmup import check_warmup, record_inputs, serving_meta_graph
from smlens.core.errors import SmlensError
from smlens.core.formats.warmup import read_warmup, warmup_path
from smlens.core.model import MetaGraph, Model, Signature
from smlens.core.run.client import RunEngine
from smlens.core.run.inputs import collect_inputs
from smlens.core.run.limits import DEFAULT_INPUT_BYTES
from smlens.core.run.request import LoadRequest, RunRequest
from smlens.core.run.saved_run import SavedRun
from smlens.core.tasks import CancelCheck, Progress, no_progress

Feed = dict[str, np.ndarray]
Outputs = dict[str, np.ndarray]
DEFAULT_BATCH = 8  # inputs per fill when no batch is given: enough rows for a top-1 count


@dataclass(frozen=True)
class InputFlags:
    """``smlens run``'s input flags, as ``collect_inputs`` takes them."""

    inputs: str = ""
    input_exprs: str = ""
    input_examples: str = ""
    fill: str | None = None
    batch: int = 1
    seed: int | None = None
    max_bytes: int = DEFAULT_INPUT_BYTES

    @property
    def given(self) -> bool:
        return bool(self.inputs or self.input_exprs or self.input_examples or self.fill)

    def source(self) -> str:
        """How the inputs were made, in the diff's words."""
        parts = [
            f"--{name} {value}"
            for name, value in (
                ("inputs", self.inputs),
                ("input_exprs", self.input_exprs),
                ("input_examples", self.input_examples),
            )
            if value
        ]
        if self.fill:
            seed = f", seed {self.seed}" if self.seed is not None else ""
            parts.append(f"--fill {self.fill}, batch {self.batch}{seed}")
        return "; ".join(parts) or "no inputs"


@dataclass
class PairPlan:
    """One signature to run on both sides: its feeds (one per call) and, against a saved
    run, A's saved outputs in place of A's calls."""

    tag_set: str
    signature: str
    source: str
    feeds: list[Feed]
    signature_b: Signature
    signature_a: Signature | None = None
    baseline: list[Outputs] | None = None
    problem: str = ""  # set when the inputs do not fit B (or A): nothing runs


@dataclass
class PairCalls:
    """What a plan's calls gave: per call (feed, A's outputs, B's outputs)."""

    plan: PairPlan
    calls: list[tuple[Feed, Outputs, Outputs]] = field(default_factory=list)
    problem: str = ""


def shared_tag_set(a: Model, b: Model, tag_set: str | None) -> tuple[MetaGraph, MetaGraph]:
    """The meta graph to compare on each side: ``tag_set``, else TF Serving's ("serve")."""
    if tag_set:
        return a.meta_graph(tag_set), b.meta_graph(tag_set)
    mg_a = serving_meta_graph(a)
    if mg_a is None:
        raise SmlensError(a.path, "several tag-sets and none is 'serve': give --tag_set")
    return mg_a, b.meta_graph(mg_a.tags)


def shared_signatures(mg_a: MetaGraph, mg_b: MetaGraph, key: str | None) -> list[str]:
    """``key`` (which both must have), else every callable signature both have."""
    if key:
        for side, mg in (("A", mg_a), ("B", mg_b)):
            if key not in mg.signatures:
                have = ", ".join(mg.callable_signatures) or "none"
                raise SmlensError(key, f"{side} has no signature {key!r}; it has: {have}")
        return [key]
    return [k for k in mg_a.callable_signatures if k in mg_b.callable_signatures]


def plan_from_flags(
    mg_a: MetaGraph | None,
    mg_b: MetaGraph,
    keys: list[str],
    flags: InputFlags,
    chosen: bool,
) -> tuple[list[PairPlan], list[str]]:
    """A plan per signature of ``keys`` the flags feed, and a note per one left out (an
    error instead when the signature was ``chosen`` by name). The inputs are built once,
    from A's signature (B's without A), so both sides get the same arrays."""
    plans, notes = [], []
    for key in keys:
        sig_a = mg_a.signatures[key] if mg_a is not None else None
        sig_b = mg_b.signatures[key]
        model_sig = sig_a or sig_b
        try:
            feed, _warnings = collect_inputs(
                model_sig,
                flags.inputs,
                flags.input_exprs,
                flags.input_examples,
                fill=flags.fill,
                batch_size=flags.batch,
                seed=flags.seed,
                max_bytes=flags.max_bytes,
            )
            missing = [k for k in model_sig.inputs if k not in feed and k not in model_sig.defaults]
            unknown = [k for k in feed if k not in model_sig.inputs]
            if missing or unknown:
                raise SmlensError(
                    key, f"the input flags do not feed it (inputs: {', '.join(model_sig.inputs)})"
                )
        except SmlensError as e:
            if chosen:
                raise
            notes.append(f"{key} not run: {e.message}")
            continue
        plans.append(PairPlan(mg_b.tag_set, key, flags.source(), [feed], sig_b, sig_a))
    return plans, notes


def plan_for_feed(
    mg_a: MetaGraph | None, mg_b: MetaGraph, key: str, feed: Feed, source: str
) -> PairPlan:
    """One call of signature ``key`` on both sides, fed ``feed`` (the window's inputs
    editor builds it); the run request checks the values against each side's signature."""
    for side, mg in (("A", mg_a), ("B", mg_b)):
        if mg is not None and key not in mg.signatures:
            raise SmlensError(key, f"{side} has no signature {key!r}")
    sig_a = mg_a.signatures[key] if mg_a is not None else None
    return PairPlan(mg_b.tag_set, key, source, [feed], mg_b.signatures[key], sig_a)


def plan_against_saved(
    saved: SavedRun,
    saved_path: str,
    b: Model,
    tag_set: str | None,
    key: str | None,
) -> tuple[list[PairPlan], list[str], MetaGraph]:
    """A plan per signature of the saved run (only ``key`` when given) that B can run: the
    saved inputs, and side A's saved outputs as the baseline. A note per one left out; an
    error when none is left."""
    notes: list[str] = []
    plans: list[PairPlan] = []
    mg_b = None
    for sig in saved.signatures:
        if key and sig.signature != key:
            continue
        try:
            mg = b.meta_graph(tag_set or sig.tag_set)
        except SmlensError as e:
            notes.append(f"{sig.signature} not run: {e.message}")
            continue
        mg_b = mg_b or mg
        if sig.signature not in mg.signatures:
            notes.append(f"{sig.signature} not run: B has no such signature")
            continue
        if any("a" not in call.outputs for call in sig.calls):
            notes.append(f"{sig.signature} not run: the saved run holds no outputs of side A")
            continue
        plans.append(
            PairPlan(
                mg.tag_set,
                sig.signature,
                f"{sig.source} (saved)",
                [call.inputs for call in sig.calls],
                mg.signatures[sig.signature],
                baseline=[call.outputs["a"] for call in sig.calls],
            )
        )
    if mg_b is None:
        raise SmlensError(saved_path, "holds no signature B can run")
    return plans, notes, mg_b


def plan_from_warmup(
    a: Model,
    mg_a: MetaGraph,
    mg_b: MetaGraph,
    keys: list[str],
    path: str | None,
) -> tuple[list[PairPlan], list[str]]:
    """A plan per signature of ``keys`` that a record of the warmup file (A's own, or the
    file at ``path``) names, with one call per record; records that do not fit are noted."""
    file = read_warmup(path or warmup_path(a.path))
    report = check_warmup(file, mg_a)
    bad = {p.index for p in report.problems}
    notes = [str(p) for p in report.problems]
    by_signature: dict[str, list[Feed]] = {}
    for record in file.records:
        if record.index in bad or record.signature not in keys:
            continue
        signature = mg_a.signatures[record.signature]
        by_signature.setdefault(record.signature, []).append(record_inputs(record, signature))
    source = f"warmup {'file ' + path if path else 'records'}"
    plans = [
        PairPlan(
            mg_b.tag_set,
            key,
            f"{source} ({len(feeds)} of {len(file.records)})",
            feeds,
            mg_b.signatures[key],
            mg_a.signatures[key],
        )
        for key, feeds in by_signature.items()
    ]
    if not plans:
        notes.append("no warmup record names a signature both exports have")
    return plans, notes


def _requests(
    target: LoadRequest, signature: Signature, feeds: list[Feed], timeout: float | None
) -> list[RunRequest]:
    return [
        RunRequest(target=target, signature=signature, inputs=feed, timeout=timeout)
        for feed in feeds
    ]


def run_pairs(
    plans: list[PairPlan],
    target_a: LoadRequest | None,
    target_b: LoadRequest,
    engine_a: RunEngine | None,
    engine_b: RunEngine,
    *,
    timeout: float | None = None,
    progress: Progress | None = None,
    cancelled: CancelCheck | None = None,
) -> tuple[list[PairCalls], float]:
    """Every plan's calls on both sides (A's skipped for a plan with a baseline) and the
    seconds it all took. With ``engine_a`` another engine than ``engine_b``, the two sides
    run in parallel threads; otherwise one after the other in one worker."""
    progress = progress or no_progress
    start = time.perf_counter()
    side_a: list[list[RunRequest] | SmlensError] = []
    side_b: list[list[RunRequest] | SmlensError] = []
    for plan in plans:
        try:
            side_b.append(_requests(target_b, plan.signature_b, plan.feeds, timeout))
        except SmlensError as e:
            side_b.append(e)
        if plan.baseline is not None or target_a is None:
            side_a.append([])
            continue
        try:
            side_a.append(_requests(target_a, plan.signature_a, plan.feeds, timeout))
        except SmlensError as e:
            side_a.append(e)
    total = sum(len(r) for r in side_a + side_b if isinstance(r, list)) or 1
    done = [0]
    lock = threading.Lock()

    def step(text: str) -> None:
        with lock:
            done[0] += 1
            progress(done[0] / total, text)

    def run_side(engine: RunEngine, side: list, label: str) -> list:
        results = []
        for plan, requests in zip(plans, side, strict=True):
            if isinstance(requests, SmlensError):
                results.append(requests)
                continue
            outputs = []
            try:
                for request in requests:
                    result = engine.run(request, cancelled=cancelled)
                    outputs.append(result.outputs)
                    step(f"{label}: {plan.signature}")
            except SmlensError as e:
                if cancelled is not None and cancelled():
                    raise
                outputs = e
            results.append(outputs)
        return results

    parallel = engine_a is not None and engine_a is not engine_b
    if parallel:
        box: dict[str, object] = {}

        def run_a() -> None:
            try:
                box["a"] = run_side(engine_a, side_a, "A")
            except BaseException as e:  # re-raised on the calling thread
                box["error"] = e

        thread = threading.Thread(target=run_a, name="smlens-run-a", daemon=True)
        thread.start()
        try:
            results_b = run_side(engine_b, side_b, "B")
        finally:
            thread.join()
        if "error" in box:
            raise box["error"]
        results_a = box["a"]
    else:
        results_a = run_side(engine_a or engine_b, side_a, "A")
        results_b = run_side(engine_b, side_b, "B")
    pairs = []
    for plan, requests, got_a, got_b in zip(plans, side_b, results_a, results_b, strict=True):
        pairs.append(_paired(plan, requests, got_a, got_b))
    return pairs, time.perf_counter() - start


def _paired(plan: PairPlan, requests, got_a, got_b) -> PairCalls:
    """The calls of one plan, each with the arrays fed (as the request checked them)."""
    for side, got in (("A", got_a), ("B", got_b)):
        if isinstance(got, SmlensError):
            return PairCalls(plan, problem=f"{side} could not run it: {got.message}")
    baseline = plan.baseline if plan.baseline is not None else got_a
    feeds = [dict(request.inputs) for request in requests]
    calls = list(zip(feeds, baseline, got_b, strict=True))
    return PairCalls(plan, calls)


def engines_for(parallel: bool, log: Callable[[str], None] | None = None):
    """One engine for both sides, or two (``parallel``): the caller closes them."""
    engine_b = RunEngine(log=log)
    return (RunEngine(log=log) if parallel else engine_b), engine_b
