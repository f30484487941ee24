"""A TF Serving REST body held against the signature it calls, as TF Serving's JSON reader
(tensorflow_serving/util/json_tensor.cc) and Predict API would take it: the one problem a
line, each naming where in the body it is.

The rules are api_rest.md's: a body is an object with an optional ``signature_name``
(``serving_default`` when absent) and either ``instances`` (row form: a list, one item per
batch row; objects of named inputs when the signature has several) or ``inputs`` (columnar
form: an object of named tensors, or the one input's tensor). Values nest as lists, ints for
integer dtypes, numbers (with NaN and Infinity) for floats, true/false for bool, and strings
or ``{"b64": ...}`` for DT_STRING.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from smlens.core.analysis.serving_request import (
    FLOAT_DTYPES,
    INT_DTYPES,
    JSON_DTYPES,
    VERBS,
)
from smlens.core.model import MetaGraph, Signature, TensorInfo
from smlens.core.model.text import format_dims, short_dtype

DEFAULT_SIGNATURE = "serving_default"  # tensorflow::kDefaultServingSignatureDefKey
BODY_KEYS = ("signature_name", "instances", "inputs")


@dataclass(frozen=True)
class RequestCheck:
    """What a REST body asks of a meta graph, and what does not fit."""

    signature: str  # the key the body names, or serving_default
    form: str  # "row", "columnar" or "" when neither could be read
    batch: int | None  # instances in a row body; the shared 0-th dim of a columnar one
    problems: tuple[str, ...]


def nearest(name: str, choices) -> str:
    """ "; did you mean 'features'?" for the closest of ``choices`` (difflib), else ""."""
    found = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {found[0]!r}?" if found else ""


def check_request(body: Any, mg: MetaGraph, expected: str | None = None) -> RequestCheck:
    """Every way ``body`` (parsed JSON) fails against the signature it names in ``mg``;
    with ``expected``, the body must call that signature, and its values are held against
    it even when the body names another."""
    if not isinstance(body, dict):
        return RequestCheck("", "", None, (f"the body is a JSON {_kind(body)}, not an object",))
    problems: list[str] = []
    for name in body:
        if name not in BODY_KEYS:
            hint = nearest(name, BODY_KEYS)
            if name == "examples":
                hint = "; examples are the classify and regress APIs' body, not predict's"
            problems.append(f"{name!r} is not a key of a predict body{hint}")
    key = body.get("signature_name", DEFAULT_SIGNATURE)
    if not isinstance(key, str):
        problems.append(f"signature_name is a JSON {_kind(key)}, not a string")
        return RequestCheck("", "", None, tuple(problems))
    if expected is not None and key != expected:
        named = "names" if "signature_name" in body else "has no signature_name: TF Serving calls"
        problems.append(f"the body {named} signature {key!r}, not {expected!r}")
        key = expected
    sig = mg.callable_signatures.get(key)
    if sig is None:
        have = ", ".join(repr(k) for k in sorted(mg.callable_signatures)) or "none"
        problems.append(
            f"signature_name {key!r} is not a signature of tag-set {mg.tag_set!r}"
            f"{nearest(key, mg.callable_signatures)} (it has: {have})"
        )
        return RequestCheck(key, "", None, tuple(problems))
    if sig.method_name not in VERBS:
        problems.append(
            f"{key!r} is a {sig.method_name or 'method-less'} signature; TF Serving's predict "
            f"takes only {', '.join(VERBS)}"
        )
    if not sig.inputs:
        problems.append(f"{key!r} takes no inputs: TF Serving's REST API refuses it; use gRPC")
        return RequestCheck(key, "", None, tuple(problems))
    for name, info in sig.inputs.items():
        if info.encoding != "name":
            problems.append(
                f"input {name!r} is a {info.encoding.replace('_', ' ')} tensor: TF Serving's "
                "predict feeds only dense tensors by name"
            )
    if "instances" in body and "inputs" in body:
        problems.append("the body has both instances and inputs; a request takes one of them")
        return RequestCheck(key, "", None, tuple(problems))
    if "instances" in body:
        batch = _check_row(body["instances"], sig, problems)
        return RequestCheck(key, "row", batch, tuple(problems))
    if "inputs" in body:
        batch = _check_columnar(body["inputs"], sig, problems)
        return RequestCheck(key, "columnar", batch, tuple(problems))
    problems.append("the body has neither instances (row form) nor inputs (columnar form)")
    return RequestCheck(key, "", None, tuple(problems))


# --- row form ---------------------------------------------------------------------------


def _check_row(instances: Any, sig: Signature, problems: list[str]) -> int | None:
    """Each instance is one slice along dim 0 of every input: the slices of one input must
    agree in shape, every instance must name the same inputs, and the batch is their count."""
    if not isinstance(instances, list):
        problems.append(f"instances is a JSON {_kind(instances)}; it must be a list")
        return None
    if not instances:
        problems.append("instances is empty: the request holds no batch row")
        return None
    named = isinstance(instances[0], dict) and not _is_b64(instances[0])
    if not named and len(sig.inputs) != 1:
        problems.append(
            f"instances holds bare values, but {sig.key!r} has {len(sig.inputs)} inputs: "
            f"each instance must be an object naming them ({', '.join(sig.inputs)})"
        )
        return len(instances)
    slices: dict[str, list[tuple[int, Any]]] = {}
    for i, instance in enumerate(instances):
        if not named:
            slices.setdefault(next(iter(sig.inputs)), []).append((i, instance))
            continue
        if not isinstance(instance, dict) or _is_b64(instance):
            problems.append(
                f"instances[{i}] is a JSON {_kind(instance)}; instances[0] is an object"
            )
            continue
        for name, value in instance.items():
            slices.setdefault(name, []).append((i, value))
    if named:
        _check_names(slices, sig, "instances[*]", problems)
        _check_same_keys(instances, problems)
    for name, values in slices.items():
        info = sig.inputs.get(name)
        if info is None:
            continue
        shapes = {}
        for i, value in values:
            where = f"instances[{i}][{name!r}]" if named else f"instances[{i}]"
            shape = _check_value(value, info, where, problems)
            if shape is not None:
                shapes.setdefault(shape, i)
        if len(shapes) > 1:
            seen = "; ".join(f"{format_dims(s)} in instances[{i}]" for s, i in shapes.items())
            problems.append(f"input {name!r} has a different shape in different instances: {seen}")
        elif shapes:
            _check_shape(
                (len(values), *next(iter(shapes))),
                info,
                f"input {name!r}, the instances stacked,",
                problems,
            )
    return len(instances)


def _check_same_keys(instances: list, problems: list[str]) -> None:
    """TF Serving stacks each named input over the instances: each must name all of them."""
    objects = [(i, set(x)) for i, x in enumerate(instances) if isinstance(x, dict)]
    every = set().union(*(keys for _, keys in objects))
    for i, keys in objects:
        if keys != every:
            missing = ", ".join(repr(k) for k in sorted(every - keys))
            problems.append(
                f"instances[{i}] lacks {missing}, which other instances give: every instance "
                "names the same inputs, so the inputs disagree on the batch size"
            )


# --- columnar form ----------------------------------------------------------------------


def _check_columnar(inputs: Any, sig: Signature, problems: list[str]) -> int | None:
    """Named tensors (or the one input's tensor), each whole; the inputs need not share a
    0-th dim in the REST API, but inputs the signature batches together must."""
    if not isinstance(inputs, dict) or _is_b64(inputs):
        if len(sig.inputs) != 1:
            problems.append(
                f"inputs is a bare value, but {sig.key!r} has {len(sig.inputs)} inputs: "
                f"it must be an object naming them ({', '.join(sig.inputs)})"
            )
            return None
        inputs = {next(iter(sig.inputs)): inputs}
    _check_names({k: [] for k in inputs}, sig, "inputs", problems)
    leading = {}
    for name, value in inputs.items():
        info = sig.inputs.get(name)
        if info is None:
            continue
        shape = _check_value(value, info, f"inputs[{name!r}]", problems)
        if shape is None:
            continue
        _check_shape(shape, info, f"inputs[{name!r}]", problems)
        if shape and info.shape.dims and info.shape.dims[0] < 0:
            leading[name] = shape[0]
    if len(set(leading.values())) > 1:
        sizes = ", ".join(f"{k} {n}" for k, n in leading.items())
        problems.append(f"the inputs disagree on the batch size (their 0-th dim): {sizes}")
    return next(iter(leading.values())) if len(set(leading.values())) == 1 else None


# --- shared -----------------------------------------------------------------------------


def _check_names(given: dict, sig: Signature, where: str, problems: list[str]) -> None:
    """Unknown input names (with the nearest one) and missing inputs: TF Serving's JSON
    reader wants every input, even one the signature has a default for."""
    for name in given:
        if name not in sig.inputs:
            have = ", ".join(sig.inputs) or "none"
            problems.append(
                f"{where}: {name!r} is not an input of {sig.key!r}"
                f"{nearest(name, sig.inputs)} (its inputs: {have})"
            )
    for name, info in sig.inputs.items():  # the JSON reader takes no signature defaults
        if name not in given:
            wanted = f"{short_dtype(info.dtype)} {info.shape}"
            problems.append(f"{where}: no value for input {name!r} ({wanted})")


def _check_shape(shape: tuple[int, ...], info: TensorInfo, where: str, problems) -> None:
    dims = info.shape.dims
    if dims is None:
        return
    fits = len(shape) == len(dims) and all(
        want < 0 or want == have for have, want in zip(shape, dims, strict=True)
    )
    if not fits:
        problems.append(
            f"{where} has shape {format_dims(shape)}; {info.key!r} takes {format_dims(dims)}"
        )


def _check_value(value: Any, info: TensorInfo, where: str, problems: list[str]):
    """The shape of a nested-list value, after checking it is rectangular and its leaves
    fit the input's dtype; None when it is not rectangular."""
    leaves = _Leaves()
    try:
        shape = _shape_of(value, leaves)
    except _TooDeep:
        problems.append(
            f"{where} nests lists over {MAX_RANK} deep; a tensor has at most {MAX_RANK} dims"
        )
        return None
    if shape is None:
        problems.append(f"{where} is a ragged list: its rows differ in length")
        return None
    if info.dtype not in JSON_DTYPES:
        problems.append(
            f"{where}: input {info.key!r} is {short_dtype(info.dtype)}, which TF Serving's "
            "JSON reader does not convert; use gRPC"
        )
        return shape
    wrong = _dtype_mismatch(leaves, info.dtype)
    if wrong:
        problems.append(f"{where} holds {wrong}; {info.key!r} takes {short_dtype(info.dtype)}")
    return shape


class _Leaves:
    """What a value's leaves hold: the first of each JSON kind, the extreme integers, the
    largest finite decimal, and the first b64 object that does not decode."""

    def __init__(self):
        self.first: dict[str, Any] = {}
        self.low: int | None = None
        self.high: int | None = None
        self.largest = 0.0
        self.bad_b64: Any = None

    def add(self, value: Any) -> None:
        kind = _leaf_kind(value)
        self.first.setdefault(kind, value)
        if kind == "int":
            self.low = value if self.low is None else min(self.low, value)
            self.high = value if self.high is None else max(self.high, value)
        elif kind == "float" and math.isfinite(value):
            self.largest = max(self.largest, abs(value))
        elif kind == "b64" and self.bad_b64 is None and not _decodes(value["b64"]):
            self.bad_b64 = value


def _decodes(text: Any) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, TypeError, ValueError):
        return False
    return True


MAX_RANK = 254  # TensorShape::MaxDimensions()


class _TooDeep(Exception):
    """Lists nested deeper than any tensor's rank."""


def _shape_of(value: Any, leaves: _Leaves, depth: int = 0) -> tuple[int, ...] | None:
    """Dims of a nested list (None when ragged), each leaf noted in ``leaves``."""
    if not isinstance(value, list):
        leaves.add(value)
        return ()
    if depth >= MAX_RANK:
        raise _TooDeep
    if not value:
        return (0,)
    shapes = {_shape_of(v, leaves, depth + 1) for v in value}
    if len(shapes) != 1 or None in shapes:
        return None
    return (len(value), *shapes.pop())


def _leaf_kind(value: Any) -> str:
    """How TF Serving's JSON reader tells values apart."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if _is_b64(value):
        return "b64"
    return _kind(value)


# The largest integer a float holds exactly (json_tensor.cc's IsLosslessDecimal).
LOSSLESS_INTS = {"DT_FLOAT": 2**24 - 1, "DT_DOUBLE": 2**53 - 1}
FLOAT_MAX = {
    "DT_FLOAT": float(np.finfo(np.float32).max),
    "DT_DOUBLE": float(np.finfo(np.float64).max),
}


def _dtype_mismatch(leaves: _Leaves, dtype_name: str) -> str:
    """What of the leaves the dtype does not take, in words; "" when all fit."""
    if dtype_name in FLOAT_DTYPES:
        allowed = {"int", "float"}
    elif dtype_name in INT_DTYPES:
        allowed = {"int"}
    elif dtype_name == "DT_BOOL":
        allowed = {"bool"}
    else:
        allowed = {"string", "b64"}
    for kind, value in leaves.first.items():
        if kind not in allowed:
            return f"{_kind_text(kind)} ({_sample(value)})"
    if leaves.low is not None and dtype_name in INT_DTYPES:
        limits = np.iinfo(_numpy_int(dtype_name))
        for extreme in (leaves.low, leaves.high):
            if not limits.min <= extreme <= limits.max:
                return f"{extreme}, out of {short_dtype(dtype_name)}'s range"
    if leaves.low is not None and dtype_name in FLOAT_DTYPES:
        for extreme in (leaves.low, leaves.high):
            if abs(extreme) > LOSSLESS_INTS[dtype_name]:
                return f"{extreme}, which {short_dtype(dtype_name)} cannot hold exactly"
    if dtype_name in FLOAT_DTYPES and leaves.largest > FLOAT_MAX[dtype_name]:
        return f"{leaves.largest:g}, beyond {short_dtype(dtype_name)}'s range"
    if leaves.bad_b64 is not None:
        return f"b64 that is not base64 ({_sample(leaves.bad_b64)})"
    return ""


def _numpy_int(dtype_name: str) -> str:
    return dtype_name[3:].lower()  # "DT_UINT8" -> "uint8"


def _kind_text(kind: str) -> str:
    return {
        "int": "an integer",
        "float": "a decimal number",
        "bool": "a bool",
        "string": "a string",
        "b64": 'a {"b64": ...} object',
    }.get(kind, f"a JSON {kind}")


def _sample(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"b64"}


def _kind(value: Any) -> str:
    """A JSON value's kind as JSON names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
