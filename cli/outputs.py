"""``smlens diff --outputs``: run the signatures both exports share on the same inputs and
compare what they compute; ``--save-run`` keeps the run, ``--against`` holds B against a
saved one.

This module turns the flags into plans and targets; running and comparing is core's
``run_outputs`` (core/diff/output_run.py), which the window's Outputs tab calls too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smlens.cli.run import RISKY_HINT
from smlens.core.analysis.scan import RiskyOpsError
from smlens.core.diff.output_run import run_outputs, saved_run_of
from smlens.core.diff.outputs import OutputsDiff, parse_tolerances
from smlens.core.errors import SmlensError
from smlens.core.model import MetaGraph, Model
from smlens.core.run.inputs import FILL_MODES
from smlens.core.run.limits import DEFAULT_INPUT_BYTES, parse_bytes
from smlens.core.run.pair import (
    DEFAULT_BATCH,
    InputFlags,
    plan_against_saved,
    plan_from_flags,
    plan_from_warmup,
    shared_signatures,
    shared_tag_set,
)
from smlens.core.run.request import LoadRequest, require_runnable
from smlens.core.run.saved_run import load_run, save_run


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    """The flags of ``smlens diff --outputs``: smlens run's input flags and the comparison's."""
    group = parser.add_argument_group("outputs: run both exports on the same inputs")
    add = group.add_argument
    add("--outputs", action="store_true", help="run the shared signatures and compare outputs")
    add("--tag_set", help="the tag-set to run (default: serve)")
    add("--signature_def", help="run only this signature")
    add("--inputs", default="", help="'x=file.npy;y=file.npz[name]', as smlens run")
    add("--input_exprs", default="", help="'x=np.ones((2,3))', as smlens run")
    add("--input_examples", default="", help="""'inputs=[{"x":[1.0]}]', as smlens run""")
    add("--fill", choices=FILL_MODES, help="fill the inputs given no value (default: normal)")
    add(
        "--batch",
        type=int,
        default=DEFAULT_BATCH,
        help=f"size of the unknown first dim with --fill (default {DEFAULT_BATCH})",
    )
    add("--seed", type=int, default=0, help="random seed for --fill normal|randint (default 0)")
    add("--max-input-bytes", default=str(DEFAULT_INPUT_BYTES), help="most memory the inputs take")
    add(
        "--warmup",
        nargs="?",
        const="",
        metavar="FILE",
        help="feed the records of A's warmup file (or of FILE)",
    )
    add("--atol", action="append", default=[], help="1e-5, or key:1e-3 for one output")
    add("--rtol", action="append", default=[], help="1e-5, or key:1e-3 for one output")
    add("--save-run", metavar="FILE.npz", help="keep the inputs and both sides' outputs")
    add("--against", metavar="FILE.npz", help="compare B with a saved run instead of running A")
    add("--device", default="cpu", help="cpu, gpu or gpu:N for both sides")
    add("--device-a", help="A's device (default: --device)")
    add("--device-b", help="B's device (default: --device)")
    add(
        "--parallel",
        action="store_true",
        help="two workers started in parallel (default: one worker loads both)",
    )
    add("--timeout", type=float, help="give up a call after this many seconds")
    add("--allow-risky-ops", action="store_true", help="run even with file or system ops")
    add("--load", action="append", default=[], metavar="NAME", help="as smlens run --load")


def wants_outputs(args: argparse.Namespace) -> bool:
    return bool(args.outputs or args.against or args.save_run or args.warmup is not None)


def _flags(args: argparse.Namespace) -> InputFlags:
    given = args.inputs or args.input_exprs or args.input_examples or args.fill
    return InputFlags(
        inputs=args.inputs,
        input_exprs=args.input_exprs,
        input_examples=args.input_examples,
        fill=args.fill if given else "normal",
        batch=args.batch,
        seed=args.seed,
        max_bytes=parse_bytes(args.max_input_bytes),
    )


def _target(args, model: Model, mg: MetaGraph, device: str) -> LoadRequest:
    require_runnable(model)
    try:
        return LoadRequest(
            model=model,
            meta_graph=mg,
            device=device,
            allow_risky_ops=args.allow_risky_ops,
            loads=tuple(args.load),
        )
    except RiskyOpsError as e:
        raise RiskyOpsError(e.path, e.scan, RISKY_HINT) from None


def diff_outputs(args: argparse.Namespace, a: Model | None, b: Model) -> OutputsDiff:
    """Run (or load, with --against) both sides and compare every output."""
    tolerances = parse_tolerances(args.atol, args.rtol)
    if args.save_run:
        _check_outside(args.save_run, [m for m in (a, b) if m is not None])
    if args.against:
        saved = load_run(args.against)
        plans, notes, mg_b = plan_against_saved(
            saved, args.against, b, args.tag_set, args.signature_def
        )
        mg_a = None
    else:
        mg_a, mg_b = shared_tag_set(a, b, args.tag_set)
        keys = shared_signatures(mg_a, mg_b, args.signature_def)
        if args.warmup is not None:
            plans, notes = plan_from_warmup(a, mg_a, mg_b, keys, args.warmup or None)
        else:
            plans, notes = plan_from_flags(mg_a, mg_b, keys, _flags(args), bool(args.signature_def))
    device_a = args.device_a or args.device
    device_b = args.device_b or args.device
    target_b = _target(args, b, mg_b, device_b)
    target_a = _target(args, a, mg_a, device_a) if a is not None else None
    run = run_outputs(
        plans,
        target_a,
        target_b,
        tolerances,
        parallel=args.parallel and a is not None,
        baseline=args.against or "",
        notes=notes,
        timeout=args.timeout,
    )
    if args.save_run:
        save_run(args.save_run, saved_run_of(run, a.path if a is not None else None, b.path))
        print(f"smlens: saved the run to {args.save_run}", file=sys.stderr)
    return run.diff


def _check_outside(path: str, models: list[Model]) -> None:
    target = Path(path).resolve()
    for model in models:
        if target.is_relative_to(Path(model.path).resolve()):
            raise SmlensError(path, "will not write into the model folder")
