"""The request a client sends TF Serving for one signature: REST bodies in row
(``instances``) and columnar (``inputs``) form, a ``curl`` line, and a gRPC
``PredictRequest`` built in Python.

Follows TF Serving's RESTful API (tensorflow_serving/g3doc/api_rest.md): a body holds
``signature_name`` and either ``instances`` (one item per batch row, an object of named
inputs when the signature has several) or ``inputs`` (the whole tensors, by name). Values
are zeros shaped like the inputs, unknown dims as 1; strings are JSON strings, and inputs
whose name ends in ``_bytes`` (TF Serving's mark of binary ``DT_STRING`` values) and the
serialized tf.Examples of a classify or regress signature are ``{"b64": ...}`` objects.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smlens.core.model import Signature, TensorInfo
from smlens.core.model.dtypes import dtype as lookup_dtype

REST_PORT = 8501  # tensorflow_model_server --rest_api_port, as TF Serving's docs use it
GRPC_PORT = 8500  # tensorflow_model_server --port
MODEL_PLACEHOLDER = "MODEL"
BYTES_SUFFIX = "_bytes"  # api_rest.md: "Named tensors that have _bytes as a suffix"
FORMS = ("row", "columnar", "curl", "grpc")

# Method names TF Serving's Predict API takes (predict_util.cc), and the REST verb of each.
VERBS = {
    "tensorflow/serving/predict": "predict",
    "tensorflow/serving/classify": "classify",
    "tensorflow/serving/regress": "regress",
}
FLOAT_DTYPES = {"DT_FLOAT", "DT_DOUBLE", "DT_HALF", "DT_BFLOAT16"}
INT_DTYPES = {
    "DT_INT8",
    "DT_UINT8",
    "DT_INT16",
    "DT_UINT16",
    "DT_INT32",
    "DT_UINT32",
    "DT_INT64",
    "DT_UINT64",
}
# The dtypes api_rest.md's JSON mapping encodes; "Types not listed below are implied to be
# unsupported."
JSON_DTYPES = FLOAT_DTYPES | INT_DTYPES | {"DT_BOOL", "DT_STRING"}


@dataclass(frozen=True)
class ServingRequest:
    """Everything a client needs to call one signature on TF Serving.

    ``row`` is None when the row form cannot carry the inputs (a scalar input, or fixed
    leading dims that disagree); ``row_note`` says why."""

    key: str
    verb: str  # the REST verb: "predict", "classify" or "regress"
    row: dict | None
    row_note: str
    columnar: dict
    curl: str
    grpc: str
    notes: tuple[str, ...] = ()  # what TF Serving's JSON cannot carry (complex dtypes, ...)

    def text(self, form: str) -> str:
        """One form as printed and copied: a REST body as JSON, the curl line, or the
        gRPC Python."""
        if form == "row":
            if self.row is None:
                return f"# no row form: {self.row_note}\n"
            return body_text(self.row)
        if form == "columnar":
            return body_text(self.columnar)
        if form == "curl":
            return self.curl
        if form == "grpc":
            return self.grpc
        raise ValueError(f"unknown request form {form!r}; choose from {', '.join(FORMS)}")


def is_binary(key: str, info: TensorInfo, sig: Signature) -> bool:
    """Whether a string input carries bytes: named ``*_bytes``, or the serialized
    tf.Examples a classify or regress signature takes."""
    if info.dtype != "DT_STRING":
        return False
    return key.endswith(BYTES_SUFFIX) or VERBS.get(sig.method_name) in ("classify", "regress")


def zero_value(key: str, info: TensorInfo, sig: Signature) -> Any:
    """The JSON zero of an input's dtype: 0.0, 0, false, "" or {"b64": ""}."""
    if info.dtype == "DT_STRING":
        return {"b64": ""} if is_binary(key, info, sig) else ""
    if info.dtype == "DT_BOOL":
        return False
    if info.dtype in INT_DTYPES:
        return 0
    return 0.0


def example_dims(info: TensorInfo, batch: int = 1) -> tuple[int, ...]:
    """The dims of an example value: unknown dims 1, an unknown leading dim ``batch``,
    and an unknown rank a vector of ``batch``."""
    if info.shape.dims is None:
        return (batch,)
    dims = [1 if d < 0 else d for d in info.shape.dims]
    if dims and info.shape.dims[0] < 0:
        dims[0] = batch
    return tuple(dims)


def nested(dims: tuple[int, ...], leaf: Any) -> Any:
    """A nested list of ``dims`` holding ``leaf`` (copied, so bodies can be edited)."""
    if not dims:
        return dict(leaf) if isinstance(leaf, dict) else leaf
    return [nested(dims[1:], leaf) for _ in range(dims[0])]


def row_batch(sig: Signature) -> tuple[int | None, str]:
    """The number of instances a row body holds, or None and why the row form cannot
    carry these inputs (each instance is one slice along the 0-th dim of every input)."""
    fixed = set()
    for key, info in sig.inputs.items():
        if info.shape.dims == ():
            return None, f"input {key!r} is a scalar; instances slice every input along dim 0"
        if info.shape.dims and info.shape.dims[0] >= 0:
            fixed.add(info.shape.dims[0])
    if len(fixed) > 1:
        sizes = ", ".join(str(n) for n in sorted(fixed))
        return None, f"the inputs' fixed 0-th dims differ ({sizes}); use the columnar form"
    return (fixed.pop() if fixed else 1), ""


def row_body(key: str, sig: Signature) -> tuple[dict | None, str]:
    """``{"signature_name", "instances"}``: one instance per batch row, each an object of
    named inputs (the bare value when the signature has one input)."""
    batch, why = row_batch(sig)
    if batch is None:
        return None, why
    instances = []
    for _ in range(batch):
        values = {
            name: nested(example_dims(info, batch)[1:], zero_value(name, info, sig))
            for name, info in sig.inputs.items()
        }
        instances.append(next(iter(values.values())) if len(values) == 1 else values)
    return {"signature_name": key, "instances": instances}, ""


def columnar_body(key: str, sig: Signature) -> dict:
    """``{"signature_name", "inputs": {name: tensor}}``: each input whole, by name."""
    inputs = {
        name: nested(example_dims(info), zero_value(name, info, sig))
        for name, info in sig.inputs.items()
    }
    return {"signature_name": key, "inputs": inputs}


def body_text(body: dict) -> str:
    """A REST body as JSON one value a line: top-level keys, then each instance or input
    compact (a 224x224x3 image stays one line, not 150,528)."""
    lines = ["{"]
    items = list(body.items())
    for i, (name, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(value, list) and value:
            inner = [f"    {_compact(v)}" for v in value]
            lines += [f"  {json.dumps(name)}: [", *_joined(inner), f"  ]{comma}"]
        elif isinstance(value, dict) and value and not _is_b64(value):
            inner = [f"    {json.dumps(k)}: {_compact(v)}" for k, v in value.items()]
            lines += [f"  {json.dumps(name)}: {{", *_joined(inner), f"  }}{comma}"]
        else:
            lines.append(f"  {json.dumps(name)}: {_compact(value)}{comma}")
    return "\n".join([*lines, "}"]) + "\n"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "))


def _joined(lines: list[str]) -> list[str]:
    return [line + ("," if i < len(lines) - 1 else "") for i, line in enumerate(lines)]


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"b64"}


def model_name(model_path: str | Path) -> str:
    """The name TF Serving likely serves the model under: the folder above a version
    folder (``models/mnist/1`` -> ``mnist``), else the folder's own name; MODEL when
    that is no name a URL takes as it is."""
    path = Path(model_path)
    if path.is_file() or path.name.endswith(".pb"):
        path = path.parent
    name = path.parent.name if path.name.isdigit() else path.name
    return name if re.fullmatch(r"[A-Za-z0-9._-]+", name or "") else MODEL_PLACEHOLDER


def rest_url(name: str, verb: str) -> str:
    return f"http://localhost:{REST_PORT}/v1/models/{name}:{verb}"


def curl_text(key: str, sig: Signature, name: str) -> str:
    """The curl line posting the row body (saved as body.json) to the signature's verb;
    for a classify or regress signature, also its :classify / :regress call, whose
    ``examples`` hold tf.Example features by name."""
    lines = [
        "# save the REST body as body.json, then",
        f"curl -d @body.json -X POST {rest_url(name, 'predict')}",
    ]
    verb = VERBS.get(sig.method_name)
    if verb in ("classify", "regress"):
        examples = json.dumps({"signature_name": key, "examples": [{"FEATURE": 0.0}]})
        lines += [
            "",
            f"# or the {verb} API, with the tf.Example features the model parses",
            f"curl -d {shlex.quote(examples)} -X POST {rest_url(name, verb)}",
        ]
    return "\n".join(lines) + "\n"


def numpy_expr(key: str, info: TensorInfo, sig: Signature) -> str:
    """A numpy expression for the input's example value (zeros; b"" for strings)."""
    dims = example_dims(info)
    shape = "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"
    if info.dtype == "DT_STRING":
        return f'np.full({shape}, b"", dtype=object)'
    if info.dtype == "DT_BOOL":
        return f"np.zeros({shape}, dtype=bool)"
    short = _short(info.dtype)
    if short == "bfloat16":  # numpy has no bfloat16: the proto takes the dtype argument
        return f"np.zeros({shape}, dtype=np.float32)"
    return f"np.zeros({shape}, dtype=np.{short})"


def _short(name: str) -> str:
    try:
        return lookup_dtype(name).short
    except KeyError:
        return name


SEND_MARK = "# Send it to TF Serving's gRPC port"


def grpc_text(key: str, sig: Signature, name: str) -> str:
    """Python building a ``PredictRequest`` (tensorflow_serving.apis) with
    ``tf.make_tensor_proto`` for each input, then sending it over gRPC."""
    lines = [
        "import grpc",
        "import numpy as np",
        "import tensorflow as tf",
        "from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc",
        "",
        "request = predict_pb2.PredictRequest()",
        f"request.model_spec.name = {name!r}",
        f"request.model_spec.signature_name = {key!r}",
    ]
    for input_key, info in sig.inputs.items():
        lines += [
            f"request.inputs[{input_key!r}].CopyFrom(",
            f"    tf.make_tensor_proto({numpy_expr(input_key, info, sig)}, "
            f"dtype=tf.{_short(info.dtype)})",
            ")",
        ]
    lines += [
        "",
        SEND_MARK,
        f'channel = grpc.insecure_channel("localhost:{GRPC_PORT}")',
        "stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)",
        "response = stub.Predict(request, timeout=10.0)",
        "for output_key, tensor in response.outputs.items():",
        "    print(output_key, tf.make_ndarray(tensor))",
    ]
    return "\n".join(lines) + "\n"


def serving_request(key: str, sig: Signature, name: str = MODEL_PLACEHOLDER) -> ServingRequest:
    """The row and columnar REST bodies, curl line and gRPC Python for signature ``key``,
    served under model ``name``."""
    row, why = row_body(key, sig)
    notes = tuple(
        f"input {k!r} is {_short(info.dtype)}: TF Serving's JSON has no encoding for it; "
        "use the gRPC request"
        for k, info in sig.inputs.items()
        if info.dtype not in JSON_DTYPES
    )
    return ServingRequest(
        key=key,
        verb=VERBS.get(sig.method_name, "predict"),
        row=row,
        row_note=why,
        columnar=columnar_body(key, sig),
        curl=curl_text(key, sig, name),
        grpc=grpc_text(key, sig, name),
        notes=notes,
    )
