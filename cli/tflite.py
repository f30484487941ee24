"""``smlens scan --tflite``: a dry-run conversion of each signature with TensorFlow's TFLite
converter (in the run worker), then, per signature, how many op uses are builtin, Flex
(Select TF ops) or unsupported, and the Flex and unsupported ops with their nodes. Exit 1
when any op is unsupported; a ``.tflite`` is written only with ``--tflite-out``."""

from __future__ import annotations

import json
import sys

from smlens.core.formats.reader import open_model
from smlens.core.model.text import counted
from smlens.core.run.client import RunEngine
from smlens.core.run.tflite import (
    BUILTIN,
    FLEX,
    KIND_NAMES,
    UNSUPPORTED,
    TFLiteReadiness,
)
from smlens.core.run.tflite_request import TFLiteRequest

NODES_LISTED = 10  # per op; the rest are counted


def render_tflite(readiness: TFLiteReadiness) -> str:
    """The text ``scan --tflite`` prints: a block per signature."""
    converter = f"TensorFlow {readiness.tf_version}'s converter" if readiness.tf_version else ""
    lines = [f"TFLite readiness of tag set {readiness.tag_set!r} ({converter}):"]
    for signature in readiness.signatures:
        lines.append(f"Signature {signature.key!r}: {signature.verdict}")
        lines.append(f"  Op uses: {signature.uses_text}")
        builtins = signature.of_kind(BUILTIN)
        if builtins:
            lines.append("  Builtin: " + ", ".join(f"{op.op} {op.count}" for op in builtins))
        for kind in (FLEX, UNSUPPORTED):
            ops = signature.of_kind(kind)
            if ops:
                lines.append(f"  {KIND_NAMES[kind]}:")
            for op in ops:
                lines.append(f"    {op.op}, {counted(len(op.nodes), 'node')}:")
                lines += [f"      {node.where}" for node in op.nodes[:NODES_LISTED]]
                if len(op.nodes) > NODES_LISTED:
                    lines.append(f"      and {len(op.nodes) - NODES_LISTED} more")
        for caption, text in (
            ("builtin ops only", signature.builtins_error),
            ("with Select TF ops", signature.select_error),
        ):
            if text:
                lines.append(f"  The converter, {caption}: " + "; ".join(text.splitlines()))
        if signature.written:
            lines.append(f"  Wrote {signature.written}")
    return "\n".join(lines) + "\n"


def _progress_printer():
    """Progress lines on stderr, each text once (the fraction alone moves often)."""
    said: list[str] = []

    def progress(_fraction: float, text: str) -> None:
        if text and text not in said[-1:]:
            said.append(text)
            print(f"smlens: {text}", file=sys.stderr, flush=True)

    return progress


def print_tflite(
    path: str,
    tag_set: str | None = None,
    signature: str | None = None,
    *,
    output: str | None = None,
    as_json: bool = False,
    loads: list[str] | tuple[str, ...] = (),
    allow_risky_ops: bool = False,
    engine: RunEngine | None = None,
) -> int:
    model = open_model(path)
    for problem in model.problems:
        print(f"smlens: warning: {problem}", file=sys.stderr)
    request = TFLiteRequest.of(
        model,
        tag_set,
        signature,
        output=output,
        allow_risky_ops=allow_risky_ops,
        loads=tuple(loads),
    )
    with engine or RunEngine() as running:
        readiness = running.check_tflite(request, progress=_progress_printer())
    if as_json:
        print(json.dumps(readiness.to_json(), indent=2))
    else:
        print(render_tflite(readiness), end="")
    if output and not any(s.written for s in readiness.signatures):
        print(
            f"smlens: warning: {output}: not written: the model does not convert", file=sys.stderr
        )
    return 1 if readiness.unsupported else 0
