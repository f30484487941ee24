"""``smlens run``: saved_model_cli run's flags and output, plus the device, the timings and a
refusal to run models with file or system ops unless asked.

A graph without a signature (a frozen GraphDef, a ``.meta`` beside its checkpoint) or any
SavedModel meta graph runs by tensor names: ``--fetch`` names the tensors (the detected
outputs by default) and the input flags key the feeds by tensor name."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from smlens.core.analysis.scan import RiskyOpsError
from smlens.core.errors import SmlensError
from smlens.core.formats.reader import open_model
from smlens.core.model import MetaGraph, Model, Signature
from smlens.core.model.text import human_bytes
from smlens.core.run.client import RunEngine, RunResult
from smlens.core.run.graph_request import (
    GraphRunRequest,
    GraphTarget,
    check_fetches,
    default_fetches,
    feed_keys,
    feeds_signature,
    graph_of,
)
from smlens.core.run.inputs import FILL_MODES, collect_inputs
from smlens.core.run.limits import DEFAULT_INPUT_BYTES, parse_bytes
from smlens.core.run.pair import InputFlags
from smlens.core.run.request import LoadRequest, RunRequest, find_signature, require_runnable
from smlens.core.run.saved_run import SavedCall, SavedRun, SavedSignature, save_run

RISKY_HINT = "add --allow-risky-ops to run it anyway"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smlens run",
        description="Run a signature of a SavedModel, or any graph by tensor names, in a "
        "TensorFlow worker process.",
    )
    add = parser.add_argument
    add("--dir", required=True, help="the SavedModel folder, frozen GraphDef or .meta")
    add("--tag_set", help="comma-separated tags of one MetaGraphDef (the only one by default)")
    add("--signature_def", help="the SignatureDef key to run")
    add(
        "--fetch",
        action="append",
        default=[],
        metavar="TENSOR",
        help="run the graph by tensor names and fetch this tensor, e.g. logits:0 "
        "(repeatable; without a signature, the detected outputs by default)",
    )
    add("--inputs", default="", help="'x=file.npy;y=file.npz[name]' (never unpickled)")
    add("--input_exprs", default="", help="'x=np.ones((2,3))': literals and numpy constructors")
    add("--input_examples", default="", help="""'inputs=[{"x":[1.0,2.0]}]': tf.Examples""")
    add("--fill", choices=FILL_MODES, help="fill the inputs given no value")
    add("--batch", type=int, default=1, help="size of the unknown first dim with --fill")
    add("--seed", type=int, help="random seed for --fill normal|randint")
    add(
        "--max-input-bytes",
        default=str(DEFAULT_INPUT_BYTES),
        help="most memory the inputs may take, e.g. 4G "
        f"(default {human_bytes(DEFAULT_INPUT_BYTES)})",
    )
    add("--outdir", help="save each output as <key>.npy in this folder")
    add(
        "--save-run",
        metavar="FILE.npz",
        help="keep the inputs and outputs, for smlens diff --against FILE.npz",
    )
    add("--overwrite", action="store_true", help="replace existing files in --outdir")
    add("--device", default="cpu", help="cpu, gpu or gpu:N (never falls back to the CPU)")
    add("--repeat", type=int, default=1, help="call N times; report warm-call timings")
    add("--timeout", type=float, help="give up after this many seconds")
    add("--json", action="store_true", help="print outputs and timings as JSON")
    add("--allow-risky-ops", action="store_true", help="run even with file or system ops")
    add(
        "--load",
        action="append",
        default=[],
        metavar="NAME",
        help="import a package or load an op library (.so) before the model (repeatable)",
    )
    return parser


def run_main(argv: list[str], engine: RunEngine | None = None) -> int:
    args = _parser().parse_args(argv)
    own_engine = engine is None
    engine = engine or RunEngine()
    try:
        return _run(args, engine)
    finally:
        if own_engine:
            engine.close()


def _target(args: argparse.Namespace, model: Model, mg: MetaGraph) -> LoadRequest:
    """The model to load, refused with the command line's hint when it has risky ops."""
    try:
        return LoadRequest(
            model=model,
            meta_graph=mg,
            device=args.device,
            allow_risky_ops=args.allow_risky_ops,
            loads=tuple(args.load),
        )
    except RiskyOpsError as e:
        raise RiskyOpsError(e.path, e.scan, RISKY_HINT) from None


def _by_graph(args: argparse.Namespace, model: Model) -> bool:
    """Whether this run goes by tensor names: asked with --fetch, or a model without a
    signature to call. A SavedModel with signatures needs one named, or --fetch."""
    if args.fetch:
        if args.signature_def:
            raise SmlensError("--fetch", "runs the graph by tensor names: drop --signature_def")
        return True
    if args.signature_def:
        return False
    if model.format != "saved_model":
        return True
    mg = graph_of(model, args.tag_set)
    if mg.signatures:
        raise SmlensError(
            args.dir,
            f"name a signature with --signature_def ({', '.join(mg.signatures)}) "
            "or tensors with --fetch",
        )
    return True


def _graph_target(args: argparse.Namespace, model: Model) -> GraphTarget:
    """The graph to load, refused with the command line's hint when it has risky ops."""
    try:
        return GraphTarget(
            model=model,
            meta_graph=graph_of(model, args.tag_set),
            device=args.device,
            allow_risky_ops=args.allow_risky_ops,
            loads=tuple(args.load),
        )
    except RiskyOpsError as e:
        raise RiskyOpsError(e.path, e.scan, RISKY_HINT) from None


def _run(args: argparse.Namespace, engine: RunEngine) -> int:
    model = open_model(args.dir)
    if _by_graph(args, model):
        return _run_graph(args, model, engine)
    if args.tag_set is None:
        args.tag_set = graph_of(model, None).tag_set
    require_runnable(model, args.dir)
    mg, signature = find_signature(model, args.tag_set, args.signature_def)
    target = _target(args, model, mg)
    given = args.inputs or args.input_exprs or args.input_examples or args.fill
    if signature.inputs and not given:
        raise SmlensError(
            args.signature_def,
            "give --inputs, --input_exprs, --input_examples or --fill; the inputs are: "
            + ", ".join(signature.inputs),
        )
    values = _inputs(args, signature)
    outdir = _outdir(args.outdir, model.path, list(signature.outputs), args.overwrite)
    _check_save_run(args, model)
    request = RunRequest(
        target=target,
        signature=signature,
        inputs=values,
        repeat=args.repeat,
        timeout=args.timeout,
    )
    result = engine.run(request)
    _report(args, model, mg.tag_set, request, result, outdir)
    return 0


def _folder(model: Model) -> Path:
    """The folder nothing is written into: the model's, or the one holding its file."""
    path = Path(model.path)
    return path if path.is_dir() else path.parent


def _check_save_run(args: argparse.Namespace, model: Model) -> None:
    if args.save_run and Path(args.save_run).resolve().is_relative_to(_folder(model).resolve()):
        raise SmlensError(args.save_run, "will not write into the model folder")


def _inputs(
    args: argparse.Namespace, signature: Signature, *, given: bool = True, fill: bool = True
) -> dict:
    """The input flags' values for ``signature`` (a graph's feeds, keyed by tensor name,
    are one too), with their warnings printed: the values given (unless not ``given``),
    then --fill for the inputs still missing (unless not ``fill``)."""
    values, warnings = collect_inputs(
        signature,
        args.inputs if given else "",
        args.input_exprs if given else "",
        args.input_examples if given else "",
        fill=args.fill if fill else None,
        batch_size=args.batch,
        seed=args.seed,
        max_bytes=parse_bytes(args.max_input_bytes),
    )
    for warning in warnings:
        print(f"smlens: warning: {warning}", file=sys.stderr)
    return values


def _run_graph(args: argparse.Namespace, model: Model, engine: RunEngine) -> int:
    """Fetch tensors by name, the feeds keyed by tensor name (``x`` is ``x:0``)."""
    target = _graph_target(args, model)
    mg = target.meta_graph
    fetches = check_fetches(model, mg, args.fetch or default_fetches(mg))
    values = feed_keys(mg, model, _inputs(args, feeds_signature(mg), fill=False))
    signature = feeds_signature(mg, fetches, values)
    required = [k for k in signature.inputs if k not in signature.defaults and k not in values]
    if required and not args.fill:
        raise SmlensError(
            args.dir,
            "give --inputs, --input_exprs, --input_examples or --fill; the feeds are: "
            + ", ".join(required),
        )
    if args.fill:  # the flags keyed feeds as the user wrote them (x, x:0): fill the rest
        given = {key: None for key in values}
        rest = dataclasses.replace(signature, defaults={**signature.defaults, **given})
        values = {**_inputs(args, rest, given=False), **values}
    outdir = _outdir(args.outdir, _folder(model), [_file_key(k) for k in fetches], args.overwrite)
    _check_save_run(args, model)
    request = GraphRunRequest(
        target=target,
        fetches=fetches,
        inputs=values,
        repeat=args.repeat,
        timeout=args.timeout,
    )
    result = engine.run(request)
    _report(args, model, mg.tag_set, request, result, outdir)
    return 0


def _report(args, model: Model, tag_set: str, request, result: RunResult, outdir) -> None:
    """Keep the run (--save-run), pass on what TensorFlow printed, print the outputs."""
    if args.save_run:
        call = SavedCall(dict(request.inputs), {"a": result.outputs})
        saved = SavedSignature(tag_set, request.signature.key, _source(args), [call])
        save_run(args.save_run, SavedRun([saved], {"a": str(model.path)}))
    if result.output.strip():  # what tf.print and TensorFlow wrote during the run
        print(result.output.rstrip(), file=sys.stderr)
    if args.json:
        json.dump(_json(result, outdir), sys.stdout, indent=2)
        print()
    else:
        _print(result, outdir)


def _source(args: argparse.Namespace) -> str:
    """Where the inputs came from, in the words a later diff --against prints."""
    flags = InputFlags(
        args.inputs, args.input_exprs, args.input_examples, args.fill, args.batch, args.seed
    )
    return f"smlens run: {flags.source()}"


def _outdir(outdir: str | None, model_path: Path, keys: list[str], overwrite: bool):
    """Check --outdir before anything runs: outside the model, no clobbering, sane names."""
    if not outdir:
        return None
    folder = Path(outdir).resolve()
    if folder.is_relative_to(Path(model_path).resolve()):
        raise SmlensError(outdir, "will not write into the model folder")
    for key in keys:
        target = folder / f"{key}.npy"
        if target.parent != folder:
            raise SmlensError(outdir, f"output key {key!r} is not a safe file name")
        if target.exists() and not overwrite:
            raise SmlensError(
                target, "already exists; add --overwrite to overwrite the existing output files"
            )
    return folder


def _file_key(key: str) -> str:
    """The file name an output is saved under: a tensor name's scopes and index become
    part of one name ("scope/y:0" -> "scope__y_0"), a signature's key stays."""
    return key.replace("/", "__").replace(":", "_")


def _save(outdir: Path, key: str, value: np.ndarray) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / f"{_file_key(key)}.npy"
    np.save(target, value, allow_pickle=value.dtype == object)
    return target


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


def _print(result: RunResult, outdir: Path | None) -> None:
    for key in sorted(result.outputs):  # saved_model_cli's order
        print(f"Result for output key {key}:\n{result.outputs[key]}")
        if outdir is not None:
            print(f"Output {key} is saved to {_save(outdir, key, result.outputs[key])}")
    devices = set(result.output_devices.values())
    if len(devices) == 1:
        print(f"Device: {devices.pop()}")
    else:
        for key in sorted(result.output_devices):
            print(f"Device for output key {key}: {result.output_devices[key]}")
    timings = []
    if result.start_seconds:
        timings.append(f"worker start {result.start_seconds:.3f} s")
    load = "cached" if result.cached else f"{result.load_seconds:.3f} s"
    timings += [f"load {load}", f"first call {_ms(result.first_call_seconds)}"]
    print("Timings: " + ", ".join(timings))
    if result.warm_seconds:
        print(
            f"Warm calls ({len(result.warm_seconds)}): min {_ms(result.warm_min)}, "
            f"median {_ms(result.warm_median)}, p90 {_ms(result.warm_p90)}"
        )


def _jsonable(value: np.ndarray):
    if value.dtype == object:
        return np.vectorize(lambda b: b.decode("utf-8", "backslashreplace"), otypes=[object])(
            value
        ).tolist()
    return value.tolist()


def _json(result: RunResult, outdir: Path | None) -> dict:
    outputs = {}
    for key in sorted(result.outputs):
        value = result.outputs[key]
        outputs[key] = {
            "dtype": "string" if value.dtype == object else value.dtype.name,
            "shape": list(value.shape),
            "device": result.output_devices.get(key, ""),
            "values": _jsonable(value),
        }
        if outdir is not None:
            outputs[key]["saved_to"] = str(_save(outdir, key, value))
    return {
        "outputs": outputs,
        "device": result.device,
        "kind": result.kind,
        "timings": {
            "worker_start_seconds": result.start_seconds,
            "load_seconds": result.load_seconds,
            "cached": result.cached,
            "first_call_seconds": result.first_call_seconds,
            "warm_seconds": result.warm_seconds,
            "warm_min": result.warm_min,
            "warm_median": result.warm_median,
            "warm_p90": result.warm_p90,
        },
    }
