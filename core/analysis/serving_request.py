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

import base64
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smlens.core.formats import proto
from smlens.core.model import MetaGraph, Node, Signature, TensorInfo
from smlens.core.model.dtypes import dtype as lookup_dtype

REST_PORT = 8501  # tensorflow_model_server --rest_api_port, as TF Serving's docs use it
GRPC_PORT = 8500  # tensorflow_model_server --port
MODEL_PLACEHOLDER = "MODEL"
SERVE_TAG = "serve"  # the tag-set tensorflow_model_server loads by default
BYTES_SUFFIX = "_bytes"  # api_rest.md: "Named tensors that have _bytes as a suffix"
FORMS = ("row", "columnar", "curl", "grpc")

# Method names TF Serving's Predict API takes (predict_util.cc), and the REST verb of each.
VERBS = {
    "tensorflow/serving/predict": "predict",
    "tensorflow/serving/classify": "classify",
    "tensorflow/serving/regress": "regress",
}
# The dtypes TF Serving's JSON reader converts (AddValueToTensor in
# tensorflow_serving/util/json_tensor.cc); any other input fails as "Unimplemented".
FLOAT_DTYPES = {"DT_FLOAT", "DT_DOUBLE"}
INT_DTYPES = {
    "DT_INT8",
    "DT_UINT8",
    "DT_INT16",
    "DT_INT32",
    "DT_UINT32",
    "DT_INT64",
    "DT_UINT64",
}
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


def is_binary(key: str, info: TensorInfo, sig: Signature, example: bytes = b"") -> bool:
    """Whether a string input carries bytes: named ``*_bytes``, or the serialized
    tf.Examples a classify or regress signature takes (or ``example``, one the graph
    parses)."""
    if info.dtype != "DT_STRING":
        return False
    if key.endswith(BYTES_SUFFIX) or example:
        return True
    return VERBS.get(sig.method_name) in ("classify", "regress")


def zero_value(key: str, info: TensorInfo, sig: Signature, example: bytes = b"") -> Any:
    """The JSON zero of an input's dtype: 0.0, 0, false, "" or {"b64": ...} (``example``,
    the serialized tf.Example a classify or regress signature's input carries)."""
    if info.dtype == "DT_STRING":
        if not is_binary(key, info, sig, example):
            return ""
        return {"b64": base64.b64encode(example).decode("ascii")}
    if info.dtype == "DT_BOOL":
        return False
    if info.dtype in INT_DTYPES:
        return 0
    return 0.0


def input_zeros(sig: Signature, example: bytes = b"") -> dict[str, Any]:
    """Each input's JSON zero (``zero_value``), by input key."""
    return {name: zero_value(name, info, sig, example) for name, info in sig.inputs.items()}


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
    if not sig.inputs:
        return None, "the signature takes no inputs"
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


def row_body(key: str, sig: Signature, zeros: dict[str, Any]) -> tuple[dict | None, str]:
    """``{"signature_name", "instances"}``: one instance per batch row, each an object of
    named inputs (the bare value when the signature has one input) filled with ``zeros``."""
    batch, why = row_batch(sig)
    if batch is None:
        return None, why
    instances = []
    for _ in range(batch):
        values = {
            name: nested(example_dims(info, batch)[1:], zeros[name])
            for name, info in sig.inputs.items()
        }
        instances.append(next(iter(values.values())) if len(values) == 1 else values)
    return {"signature_name": key, "instances": instances}, ""


def columnar_body(key: str, sig: Signature, zeros: dict[str, Any]) -> dict:
    """``{"signature_name", "inputs": {name: tensor}}``: each input whole, by name."""
    inputs = {name: nested(example_dims(info), zeros[name]) for name, info in sig.inputs.items()}
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


# --- the tf.Examples of classify and regress signatures --------------------------------


@dataclass(frozen=True)
class ExampleFeature:
    """A feature the graph parses out of the serialized tf.Examples a signature takes."""

    name: str
    dtype: str  # DT_FLOAT, DT_INT64 or DT_STRING: a float_list, int64_list or bytes_list
    dims: tuple[int, ...]  # a dense feature's shape; (1,) for sparse and ragged ones


PARSE_OPS = ("ParseExample", "ParseExampleV2")


def parsed_features(mg: MetaGraph | None, sig: Signature) -> tuple[ExampleFeature, ...]:
    """The features of the ParseExample nodes the signature's one string input reaches
    (through Identity ops and function calls, into the library's functions); their keys are
    Const inputs, per the op definitions in parsing_ops.cc. () when none is found. Unknown
    dims of a sequence feature count as 1."""
    strings = [i for i in sig.inputs.values() if i.dtype == "DT_STRING" and i.encoding == "name"]
    if mg is None or mg.graph is None or len(strings) != 1:
        return ()
    found: dict[str, ExampleFeature] = {}
    parses = _parses_fed_by(mg.graph.nodes, {_node_of(strings[0].name)}, mg.graph.functions, set())
    for node, nodes in parses:
        for feature in _node_features(node, nodes):
            found.setdefault(feature.name, feature)
    return tuple(found.values())


CALL_DEPTH = 16  # nested function calls followed from a signature's input


def _parses_fed_by(nodes: list[Node], fed: set[str], library: dict, seen: set) -> list:
    """(ParseExample node, its graph's nodes by name) for each parse fed by ``fed`` (node
    or argument names), following Identity ops and calls into library functions."""
    by_name = {n.name: n for n in nodes}
    fed = set(fed)
    parses: list = []
    grew = True
    while grew:  # nodes need not be in dataflow order: repeat until nothing new is fed
        grew = False
        for node in nodes:
            if node.name in fed:
                continue
            inputs = [_node_of(i) for i in node.data_inputs]
            if not fed.intersection(inputs):
                continue
            if node.op in ("Identity", "IdentityN"):
                fed.add(node.name)
                grew = True
            elif node.op in PARSE_OPS and inputs[0] in fed:
                parses.append((node, by_name))
                fed.add(node.name)
            else:
                parses += _parses_in_callee(node, inputs, fed, library, seen)
    return parses


def _parses_in_callee(node: Node, inputs: list[str], fed: set[str], library, seen) -> list:
    func = node.attrs.get("f") if node.op not in library else None
    callee = library.get(node.op) or library.get(getattr(func, "name", ""))
    if callee is None or len(seen) >= CALL_DEPTH * 8:
        return []
    args = {
        callee.inputs[i].name
        for i, name in enumerate(inputs)
        if name in fed and i < len(callee.inputs)
    }
    key = (callee.name, frozenset(args))
    if not args or key in seen:
        return []
    seen.add(key)
    return _parses_fed_by(callee.nodes, args, library, seen)


def _node_of(tensor: str) -> str:
    return tensor.split(":")[0]


def _node_features(node: Node, nodes: dict[str, Node]) -> list[ExampleFeature]:
    attrs = node.attrs
    dense_types = list(attrs.get("Tdense") or [])
    dense_shapes = list(attrs.get("dense_shapes") or [])
    sparse_types = list(attrs.get("sparse_types") or [])
    if node.op == "ParseExampleV2":  # serialized, names, sparse_keys, dense_keys, ragged_keys
        sparse = _const_strings(node.data_inputs, 2, nodes)
        dense = _const_strings(node.data_inputs, 3, nodes)
        ragged = _const_strings(node.data_inputs, 4, nodes)
        ragged_types = list(attrs.get("ragged_value_types") or [])
    else:  # serialized, names, sparse_keys x Nsparse, dense_keys x Ndense, dense_defaults
        n_sparse = int(attrs.get("Nsparse") or 0)
        n_dense = int(attrs.get("Ndense") or 0)
        sparse = [
            k for i in range(n_sparse) for k in _const_strings(node.data_inputs, 2 + i, nodes)
        ]
        first = 2 + n_sparse
        dense = [
            k for i in range(n_dense) for k in _const_strings(node.data_inputs, first + i, nodes)
        ]
        ragged, ragged_types = [], []
    features = []
    for name, dtype_name, shape in zip(dense, dense_types, dense_shapes, strict=False):
        dims = shape.dims if shape is not None and shape.dims is not None else ()
        features.append(ExampleFeature(name, dtype_name, tuple(1 if d < 0 else d for d in dims)))
    for name, dtype_name in zip(sparse, sparse_types, strict=False):
        features.append(ExampleFeature(name, dtype_name, (1,)))
    for name, dtype_name in zip(ragged, ragged_types, strict=False):
        features.append(ExampleFeature(name, dtype_name, (1,)))
    return features


def _const_strings(inputs: list[str], index: int, nodes: dict[str, Node]) -> list[str]:
    """The strings of the Const at input ``index``; [] when it is no readable Const."""
    node = nodes.get(_node_of(inputs[index])) if index < len(inputs) else None
    value = node.attrs.get("value") if node is not None and node.op == "Const" else None
    try:
        array = value.numpy()
    except (AttributeError, ValueError):
        return []
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in array.flat]


def feature_zero(feature: ExampleFeature) -> Any:
    """The zero of a feature in the classify and regress APIs' JSON: one value, or a list
    of them (a tf.Example feature is a flat list)."""
    zero = "" if feature.dtype == "DT_STRING" else 0 if feature.dtype == "DT_INT64" else 0.0
    count = 1
    for d in feature.dims:
        count *= d
    return zero if not feature.dims else [zero] * count


def serialized_example(features: tuple[ExampleFeature, ...]) -> bytes:
    """A tf.Example holding each feature's zeros, serialized (example.proto)."""
    example = proto.message_class("tensorflow.Example")()
    for feature in features:
        value = feature_zero(feature)
        values = value if isinstance(value, list) else [value]
        slot = example.features.feature[feature.name]
        if feature.dtype == "DT_STRING":
            slot.bytes_list.value.extend(v.encode() for v in values)
        elif feature.dtype == "DT_INT64":
            slot.int64_list.value.extend(values)
        else:
            slot.float_list.value.extend(values)
    return example.SerializeToString(deterministic=True)


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


def curl_text(key: str, sig: Signature, name: str, features=()) -> str:
    """The curl line posting the row body (saved as body.json) to the signature's verb;
    for a classify or regress signature, also its :classify / :regress call, whose
    ``examples`` hold tf.Example features by name."""
    lines = [
        "# save the REST body as body.json, then",
        f"curl -d @body.json -X POST {rest_url(name, 'predict')}",
    ]
    verb = VERBS.get(sig.method_name)
    if verb in ("classify", "regress"):
        example = {f.name: feature_zero(f) for f in features} or {"FEATURE": 0.0}
        examples = json.dumps({"signature_name": key, "examples": [example]})
        what = (
            "the tf.Example features the model parses"
            if features
            else "its tf.Example features (none found in the graph: name yours)"
        )
        lines += [
            "",
            f"# or the {verb} API, with {what}",
            f"curl -d {shlex.quote(examples)} -X POST {rest_url(name, verb)}",
        ]
    return "\n".join(lines) + "\n"


def numpy_expr(info: TensorInfo, zero: Any) -> str:
    """A numpy expression for the input's example value: zeros, or ``zero`` (the JSON
    zero, a string or {"b64": ...}) as bytes for strings."""
    dims = example_dims(info)
    shape = "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"
    if info.dtype == "DT_STRING":
        data = base64.b64decode(zero["b64"]) if isinstance(zero, dict) else zero.encode()
        return f"np.full({shape}, {data!r}, dtype=object)"
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


def grpc_text(key: str, sig: Signature, name: str, zeros: dict[str, Any]) -> str:
    """Python building a ``PredictRequest`` (tensorflow_serving.apis) with
    ``tf.make_tensor_proto`` for each input (``zeros``: their JSON zeros), then sending it
    over gRPC."""
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
            f"    tf.make_tensor_proto({numpy_expr(info, zeros[input_key])}, "
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


def serving_limits(sig: Signature) -> tuple[str, ...]:
    """What of a signature TF Serving's REST API cannot carry: no inputs at all (its JSON
    reader finds no input map), dtypes json_tensor.cc does not convert, and sparse or
    composite inputs (its predict feeds each input by one tensor name)."""
    if not sig.inputs:
        return ("the signature takes no inputs: TF Serving's REST API refuses it; use gRPC",)
    notes = []
    for k, info in sig.inputs.items():
        if info.encoding != "name":
            notes.append(
                f"input {k!r} is a {info.encoding.replace('_', ' ')} tensor: TF Serving's "
                "predict feeds only dense tensors by name"
            )
        elif info.dtype not in JSON_DTYPES:
            notes.append(
                f"input {k!r} is {_short(info.dtype)}: TF Serving's JSON has no encoding for "
                "it; use the gRPC request"
            )
    return tuple(notes)


def serving_request(
    key: str, sig: Signature, name: str = MODEL_PLACEHOLDER, mg: MetaGraph | None = None
) -> ServingRequest:
    """The row and columnar REST bodies, curl line and gRPC Python for signature ``key``,
    served under model ``name``. With its meta graph ``mg``, a classify or regress
    signature's examples hold the features its graph parses."""
    features = parsed_features(mg, sig)
    zeros = input_zeros(sig, serialized_example(features) if features else b"")
    row, why = row_body(key, sig, zeros)
    notes = serving_limits(sig)
    if mg is not None and set(mg.tags) != {SERVE_TAG}:
        tags = ",".join(mg.tags)
        notes += (
            f"TF Serving loads the tag-set 'serve' unless started with "
            f"--saved_model_tags={tags}; this signature is in tag-set {tags!r}",
        )
    return ServingRequest(
        key=key,
        verb=VERBS.get(sig.method_name, "predict"),
        row=row,
        row_note=why,
        columnar=columnar_body(key, sig, zeros),
        curl=curl_text(key, sig, name, features),
        grpc=grpc_text(key, sig, name, zeros),
        notes=notes,
    )
