"""``smlens freeze`` and ``smlens wrap``: a frozen GraphDef from a ``.meta`` + checkpoint or a
SavedModel signature, and a SavedModel (tag ``serve``, ``serving_default``) from a frozen
GraphDef. TensorFlow does the work in the run worker; this prints what was written, as
smlens reads it back."""

from __future__ import annotations

import argparse
import json
import sys

from smlens.core.formats.reader import open_model
from smlens.core.run.client import RunEngine
from smlens.core.run.conversion import Converted, FreezeRequest, WrapRequest, convert


def _freeze_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smlens freeze",
        description="Write a frozen GraphDef (variables as constants) from a .meta and its "
        "checkpoint, or from a SavedModel signature.",
    )
    add = parser.add_argument
    add("--dir", required=True, help="a checkpoint folder or prefix, a .meta, or a SavedModel")
    add(
        "--fetch",
        action="append",
        default=[],
        metavar="NAME",
        help="an output node to keep (repeatable; default: the detected fetches)",
    )
    add("--tag_set", help="a SavedModel's tag-set (default: its only one, or serve)")
    add("--signature_def", help="a SavedModel's signature (default: serving_default)")
    add("--out", required=True, metavar="FILE.pb", help="where to write the frozen graph")
    _common(add)
    return parser


def _wrap_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smlens wrap",
        description="Wrap a frozen GraphDef into a SavedModel with a serving_default "
        "signature, so TF Serving can load it.",
    )
    add = parser.add_argument
    add("--dir", required=True, metavar="FILE.pb", help="the frozen GraphDef (.pb or .pbtxt)")
    add(
        "--feed",
        action="append",
        default=[],
        metavar="NAME",
        help="an input tensor (repeatable; default: the graph's placeholders)",
    )
    add(
        "--fetch",
        action="append",
        default=[],
        metavar="NAME",
        help="an output tensor (repeatable; default: the detected fetches)",
    )
    add("--out", required=True, metavar="DIR", help="the SavedModel folder to write")
    _common(add)
    return parser


def _common(add) -> None:
    add("--force", action="store_true", help="replace --out if it exists")
    add("--allow-risky-ops", action="store_true", help="load it even with file or system ops")
    add("--json", action="store_true", help="print what was written as JSON")


def freeze_main(argv: list[str], engine: RunEngine | None = None) -> int:
    args = _freeze_parser().parse_args(argv)
    request = FreezeRequest.of(
        open_model(args.dir),
        args.out,
        fetches=args.fetch,
        tag_set=args.tag_set,
        signature_def=args.signature_def,
        force=args.force,
        allow_risky_ops=args.allow_risky_ops,
    )
    return _convert(request, engine, args.json)


def wrap_main(argv: list[str], engine: RunEngine | None = None) -> int:
    args = _wrap_parser().parse_args(argv)
    request = WrapRequest.of(
        open_model(args.dir),
        args.out,
        feeds=args.feed,
        fetches=args.fetch,
        force=args.force,
        allow_risky_ops=args.allow_risky_ops,
    )
    return _convert(request, engine, args.json)


def _convert(request: FreezeRequest | WrapRequest, engine: RunEngine | None, as_json: bool) -> int:
    own_engine = engine is None
    engine = engine or RunEngine()
    try:
        converted = convert(engine, request)
    finally:
        if own_engine:
            engine.close()
    if as_json:
        json.dump(_json(converted), sys.stdout, indent=2)
        print()
    else:
        print("\n".join(converted.lines()))
    return 0


def _json(converted: Converted) -> dict:
    return {
        "out": str(converted.out),
        "format": converted.format,
        "nodes": converted.nodes,
        "feeds": converted.feeds,
        "fetches": converted.fetches,
        "constants": converted.constants,
        "weights": converted.weights,
        "constant_bytes": converted.constant_bytes,
        "bytes": converted.size,
    }
