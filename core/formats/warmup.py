"""TF Serving's warmup file, ``assets.extra/tf_serving_warmup_requests``, read without
TensorFlow: a TFRecord of ``PredictionLog`` records (tensorflow_serving/apis/
prediction_log.proto, vendored in proto/), each a request TF Serving sends the model once
as it loads it.

A record becomes a ``WarmupRecord``: the signatures it names and the tensors it feeds. A
classify or regress request feeds its tf.Examples (merged with the shared context, as
TF Serving merges them) as one string vector; a predict request feeds its tensors as they
are. Reading is not checking: ``core/analysis/warmup.py`` holds a record against the
signature it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from google.protobuf.message import DecodeError

from smlens.core.errors import SmlensError
from smlens.core.formats import proto
from smlens.core.formats.files import open_regular
from smlens.core.formats.tensor_proto import tensor_proto_to_numpy
from smlens.core.formats.tfrecord import RecordError, iter_records
from smlens.core.model.dtypes import dtype as lookup_dtype

WARMUP_FILE = "assets.extra/tf_serving_warmup_requests"
MAX_RECORDS = (
    1000  # kMaxNumRecords in tensorflow_serving/servables/tensorflow/saved_model_warmup_util.cc
)
DEFAULT_SIGNATURE = "serving_default"  # kDefaultServingSignatureDefKey
KINDS = ("predict", "classify", "regress", "multi_inference")  # what TF Serving warms up with
_LOG_FIELDS = {
    "predict_log": "predict",
    "classify_log": "classify",
    "regress_log": "regress",
    "multi_inference_log": "multi_inference",
    "predict_streamed_log": "predict_streamed",
    "session_run_log": "session_run",
}


@dataclass(frozen=True)
class WarmupTensor:
    """One tensor a record feeds: its dtype as the record states it, and its values."""

    dtype: str  # "DT_FLOAT"
    value: np.ndarray


@dataclass(frozen=True)
class WarmupRecord:
    """One ``PredictionLog`` of a warmup file.

    ``signatures`` holds one key (a multi_inference request names one per task);
    ``inputs`` are the tensors it feeds by input key, or, for classify and regress, the
    serialized tf.Examples under ``examples`` (their input key is the signature's).
    ``problem`` is set when the record cannot be read (kind "unreadable").
    """

    index: int
    kind: str  # one of KINDS, "predict_streamed", "session_run", "empty" or "unreadable"
    signatures: tuple[str, ...] = ()
    inputs: dict[str, WarmupTensor] = field(default_factory=dict)
    examples: tuple[bytes, ...] = ()
    methods: tuple[str, ...] = ()  # multi_inference: each task's method name
    problem: str = ""

    @property
    def signature(self) -> str:
        return self.signatures[0] if self.signatures else ""


@dataclass(frozen=True)
class WarmupFile:
    """The records of a warmup file; ``problem`` is why reading stopped early, if it did."""

    path: Path
    records: tuple[WarmupRecord, ...]
    problem: str = ""
    problem_index: int | None = None

    @property
    def kinds(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record.kind] = counts.get(record.kind, 0) + 1
        return counts


def warmup_path(model_path: str | Path) -> Path:
    """Where TF Serving looks for the warmup file of the SavedModel at ``model_path``."""
    return Path(model_path) / WARMUP_FILE


def read_warmup(path: str | Path) -> WarmupFile:
    """Every record of the warmup file at ``path``. A broken frame (bad checksum, truncated
    file) ends the list with the file's ``problem``, as it stops TF Serving's reader; a
    record that is framed right but is no PredictionLog is kept as "unreadable"."""
    path = Path(path)
    try:
        with open_regular(path) as f:
            data = f.read()
    except FileNotFoundError:
        raise SmlensError(path, "no such file") from None
    except OSError as e:
        raise SmlensError(path, f"cannot read: {e.strerror or e}") from None
    records: list[WarmupRecord] = []
    try:
        for record in iter_records(data):
            if record.index >= MAX_RECORDS:
                return WarmupFile(
                    path,
                    tuple(records),
                    f"more than {MAX_RECORDS} records: TF Serving refuses the file",
                    record.index,
                )
            records.append(parse_record(record.index, record.data))
    except RecordError as e:
        return WarmupFile(path, tuple(records), f"corrupted {e}", e.index)
    return WarmupFile(path, tuple(records))


def parse_record(index: int, data: bytes) -> WarmupRecord:
    """One PredictionLog's bytes as a WarmupRecord (kind "unreadable" when they are not)."""
    log = proto.message_class("tensorflow.serving.PredictionLog")()
    try:
        log.ParseFromString(data)
    except DecodeError as e:
        return WarmupRecord(index, "unreadable", problem=f"not a PredictionLog: {e}")
    which = log.WhichOneof("log_type")
    if which is None:
        return WarmupRecord(index, "empty", problem="the PredictionLog holds no request")
    kind = _LOG_FIELDS[which]
    request = getattr(log, which).request
    try:
        if kind == "predict":
            inputs = {key: _tensor(tp) for key, tp in request.inputs.items()}
            return WarmupRecord(index, kind, (_signature(request),), inputs)
        if kind in ("classify", "regress"):
            examples = _examples(request.input)
            return WarmupRecord(index, kind, (_signature(request),), examples=examples)
        if kind == "multi_inference":
            tasks = list(request.tasks)
            keys = tuple(task.model_spec.signature_name or DEFAULT_SIGNATURE for task in tasks)
            methods = tuple(task.method_name for task in tasks)
            examples = _examples(request.input)
            return WarmupRecord(index, kind, keys, examples=examples, methods=methods)
    except SmlensError as e:
        return WarmupRecord(index, "unreadable", problem=e.message)
    return WarmupRecord(index, kind)


def _signature(request) -> str:
    return request.model_spec.signature_name or DEFAULT_SIGNATURE


def _tensor(tp) -> WarmupTensor:
    return WarmupTensor(lookup_dtype(tp.dtype).name, tensor_proto_to_numpy(tp))


def _examples(request_input) -> tuple[bytes, ...]:
    """The serialized tf.Examples of an ``Input``, each merged over the context, if any
    (``example_list_with_context``: TF Serving's InputToSerializedExampleTensor)."""
    which = request_input.WhichOneof("kind")
    if which == "example_list":
        return tuple(e.SerializeToString() for e in request_input.example_list.examples)
    if which == "example_list_with_context":
        listed = request_input.example_list_with_context
        merged = []
        for example in listed.examples:
            one = proto.message_class("tensorflow.Example")()
            one.CopyFrom(listed.context)
            one.MergeFrom(example)
            merged.append(one.SerializeToString())
        return tuple(merged)
    raise SmlensError("Input", "the request holds no examples")


def examples_array(examples: tuple[bytes, ...]) -> np.ndarray:
    """Serialized examples as the string vector a classify or regress signature takes."""
    out = np.empty(len(examples), dtype=object)
    out[:] = list(examples)
    return out
