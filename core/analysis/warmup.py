"""A warmup file held against the model: each record against the signature it names, as
TF Serving checks it when it loads the model (a mismatch there fails the load), and each
record as the inputs a run feeds.

TF Serving loads the meta graph tagged ``serve`` unless told otherwise, so that is the
one a record is checked against. Every problem names the record by its index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smlens.core.errors import SmlensError
from smlens.core.formats.warmup import (
    WARMUP_FILE,
    WarmupFile,
    WarmupRecord,
    examples_array,
    read_warmup,
    warmup_path,
)
from smlens.core.model import MetaGraph, Model, Signature
from smlens.core.model.text import counted, format_dims, short_dtype, tensor_type_text

SERVE_TAGS = "serve"
METHODS = {
    "predict": "tensorflow/serving/predict",
    "classify": "tensorflow/serving/classify",
    "regress": "tensorflow/serving/regress",
}


@dataclass(frozen=True)
class WarmupProblem:
    """What is wrong with one record (``index``), or with the file (``index`` None)."""

    index: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.index is None else f"record {self.index}: {self.message}"


@dataclass(frozen=True)
class WarmupReport:
    """A model's warmup file, read and checked."""

    file: WarmupFile
    tag_set: str
    problems: tuple[WarmupProblem, ...]

    @property
    def records(self) -> tuple[WarmupRecord, ...]:
        return self.file.records


def has_warmup(model: Model) -> bool:
    return any(asset.path == WARMUP_FILE for asset in model.assets)


def serving_meta_graph(model: Model) -> MetaGraph | None:
    """The meta graph TF Serving loads: tagged ``serve`` alone, else the only one there is."""
    for mg in model.meta_graphs:
        if set(mg.tags) == {SERVE_TAGS}:
            return mg
    return model.meta_graphs[0] if len(model.meta_graphs) == 1 else None


def check_model_warmup(model: Model) -> WarmupReport | None:
    """The model's warmup file read and checked, or None when it ships none."""
    if not has_warmup(model):
        return None
    return check_warmup(read_warmup(warmup_path(model.path)), serving_meta_graph(model))


def preview_warmup(model: Model, *, progress, cancelled) -> WarmupReport | None:
    """``check_model_warmup`` as a task for the Assets panel (reading takes one pass)."""
    progress(0.0, f"reading {WARMUP_FILE}")
    return None if cancelled() else check_model_warmup(model)


def check_warmup(warmup: WarmupFile, mg: MetaGraph | None) -> WarmupReport:
    problems: list[WarmupProblem] = []
    for record in warmup.records:
        problems += [WarmupProblem(record.index, text) for text in record_problems(record, mg)]
    if warmup.problem:
        problems.append(WarmupProblem(None, warmup.problem))
    return WarmupReport(warmup, mg.tag_set if mg else "", tuple(problems))


def record_problems(record: WarmupRecord, mg: MetaGraph | None) -> list[str]:
    """Why TF Serving would refuse ``record``, in plain words; empty when it fits."""
    if record.problem:
        return [record.problem]
    if record.kind not in ("predict", "classify", "regress", "multi_inference"):
        return [f"TF Serving does not warm up with a {record.kind} request"]
    if mg is None:
        return ["the model has no meta graph tagged 'serve' for TF Serving to load"]
    problems: list[str] = []
    methods = record.methods or (METHODS[record.kind],) * len(record.signatures)
    for key, method in zip(record.signatures, methods, strict=True):
        signature = mg.signatures.get(key)
        if signature is None:
            have = ", ".join(mg.callable_signatures) or "none"
            problems.append(f"no signature {key!r} in tag set {mg.tag_set!r}; it has: {have}")
        else:
            problems += signature_problems(record, signature, method)
    return problems


def signature_problems(record: WarmupRecord, signature: Signature, method: str = "") -> list[str]:
    """Why ``record`` does not fit ``signature``; empty when it fits. ``method`` is the
    method a classify, regress or multi_inference task asks for (by default the one its
    task or its kind names)."""
    if record.problem:
        return [record.problem]
    if signature.key not in record.signatures:
        named = ", ".join(repr(key) for key in record.signatures) or "no signature"
        return [f"the record names {named}, not {signature.key!r}"]
    if record.kind == "predict":
        return _predict_problems(record, signature)
    if record.kind not in METHODS and record.kind != "multi_inference":
        return [f"TF Serving does not warm up with a {record.kind} request"]
    if not method:
        tasks = dict(zip(record.signatures, record.methods, strict=False))
        method = tasks.get(signature.key) or METHODS.get(record.kind, "")
    return _examples_problems(record, signature, method)


def _predict_problems(record: WarmupRecord, signature: Signature) -> list[str]:
    problems = []
    for key in record.inputs:
        if key not in signature.inputs:
            have = ", ".join(signature.inputs) or "none"
            problems.append(f"{key!r} is not an input of {signature.key!r}; its inputs: {have}")
    for key, info in signature.inputs.items():
        if key not in record.inputs and key not in signature.defaults:
            wanted = tensor_type_text(info.dtype, info.shape.dims)
            problems.append(f"no value for input {key!r} ({wanted})")
    batches = {}
    for key, tensor in record.inputs.items():
        info = signature.inputs.get(key)
        if info is None:
            continue
        if tensor.dtype != info.dtype:
            problems.append(
                f"input {key!r} is {short_dtype(tensor.dtype)}; "
                f"{signature.key!r} takes {short_dtype(info.dtype)}"
            )
        if not _shape_fits(tensor.value.shape, info.shape.dims):
            problems.append(
                f"input {key!r} has shape {format_dims(tensor.value.shape)}; "
                f"{signature.key!r} takes {format_dims(info.shape.dims)}"
            )
        if tensor.value.ndim:
            batches[key] = tensor.value.shape[0]
    if len(set(batches.values())) > 1:
        sizes = ", ".join(f"{key} {n}" for key, n in batches.items())
        problems.append(f"the inputs disagree on the batch size: {sizes}")
    return problems


def _examples_problems(record: WarmupRecord, signature: Signature, method: str) -> list[str]:
    problems = []
    if signature.method_name != method:
        problems.append(
            f"a {record.kind} request needs a signature of method {method}; "
            f"{signature.key!r} is {signature.method_name or 'without a method'}"
        )
    strings = [k for k, info in signature.inputs.items() if info.dtype == "DT_STRING"]
    if len(signature.inputs) != 1 or len(strings) != 1:
        problems.append(
            f"{signature.key!r} does not take one string input of serialized tf.Examples"
        )
    if not record.examples:
        problems.append("the request holds no tf.Example")
    return problems


def _shape_fits(shape: tuple[int, ...], dims: tuple[int, ...] | None) -> bool:
    if dims is None:
        return True
    if len(shape) != len(dims):
        return False
    return all(want < 0 or want == have for have, want in zip(shape, dims, strict=True))


def record_inputs(record: WarmupRecord, signature: Signature) -> dict[str, np.ndarray]:
    """The arrays ``record`` feeds ``signature``: a predict request's tensors, or the
    serialized tf.Examples of a classify or regress request as the one string input."""
    if record.kind == "predict":
        return {key: tensor.value for key, tensor in record.inputs.items()}
    if record.examples and len(signature.inputs) == 1:
        return {next(iter(signature.inputs)): examples_array(record.examples)}
    raise SmlensError(
        WARMUP_FILE, f"record {record.index}: a {record.kind} request gives no inputs to run"
    )


def record_batch(record: WarmupRecord) -> int | None:
    """How many requests ``record`` holds: its tf.Examples, or its tensors' first dim
    (None for scalars only, or a record that holds nothing)."""
    if record.examples:
        return len(record.examples)
    for tensor in record.inputs.values():
        if tensor.value.ndim:
            return int(tensor.value.shape[0])
    return None


def record_summary(record: WarmupRecord) -> str:
    """ "x float32 (2, 3), y int64 (2,)" or "4 tf.Examples": what a record feeds."""
    if record.inputs:
        return ", ".join(
            f"{key} {tensor_type_text(t.dtype, t.value.shape)}" for key, t in record.inputs.items()
        )
    if record.examples:
        return counted(len(record.examples), "tf.Example")
    return record.problem or "nothing"


def render_warmup(report: WarmupReport) -> str:
    """The records one a line (index, kind, signature, what they feed), then the problems."""
    kinds = ", ".join(f"{n} {kind}" for kind, n in report.file.kinds.items())
    head = f"Warmup file {WARMUP_FILE}: {counted(len(report.records), 'record')}"
    lines = [head + (f" ({kinds})" if kinds else "")]
    for record in report.records:
        signatures = ", ".join(record.signatures) or "-"
        lines.append(
            f"  {record.index:>4}  {record.kind:<15} {signatures:<20} {record_summary(record)}"
        )
    if report.problems:
        lines.append(f"Warmup problems ({len(report.problems)}): TF Serving would fail to load")
        lines += [f"  {problem}" for problem in report.problems]
    else:
        lines.append("Warmup records fit their signatures.")
    return "\n".join(lines) + "\n"
