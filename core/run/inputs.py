"""Inputs for a signature run, built and checked without TensorFlow.

Filled arrays (zeros, ones, random), numpy expressions evaluated by walking their syntax tree
(never eval), .npy/.npz files in saved_model_cli's ``--inputs`` syntax, and tf.Example
feature dicts serialized with the vendored protos. ``check_inputs`` holds every array
against the signature before anything runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from smlens.core.errors import SmlensError
from smlens.core.formats import proto
from smlens.core.formats.files import exists, stat_regular
from smlens.core.model import MetaGraph, Signature, TensorInfo
from smlens.core.model.dtypes import dtype as tf_dtype
from smlens.core.run.exprs import eval_expr, parse_input_exprs
from smlens.core.run.limits import (
    DEFAULT_INPUT_BYTES,
    InputBudget,
    check_batch,
    check_npz_member,
    check_shape,
    npy_size,
)

FILL_MODES = ("zeros", "ones", "normal", "randint")


# -- filled inputs -------------------------------------------------------------------------


def numpy_dtype(info: TensorInfo) -> np.dtype:
    """The numpy dtype an input is fed as: object (of bytes) for strings."""
    if info.dtype == "DT_STRING":
        return np.dtype(object)
    try:
        found = tf_dtype(info.dtype).numpy
    except KeyError:
        found = None
    if found is None:
        raise SmlensError(info.key, f"input of type {info.dtype} cannot be fed from numpy")
    return found


def fill_shape(info: TensorInfo, batch_size: int = 1) -> tuple[int, ...]:
    """The signature's shape with unknown dims filled: the first with ``batch_size``, others 1.

    An input of unknown rank gets a vector of ``batch_size``.
    """
    if info.shape.dims is None:
        return (batch_size,)
    return tuple(
        d if d >= 0 else (batch_size if i == 0 else 1) for i, d in enumerate(info.shape.dims)
    )


def fill_input(
    info: TensorInfo,
    mode: str = "zeros",
    batch_size: int = 1,
    low: int = 0,
    high: int = 10,
    seed: int | None = None,
    budget: InputBudget | None = None,
) -> np.ndarray:
    """An array that fits ``info``: zeros, ones, standard normal or integers in [low, high).

    String inputs get empty strings (decimal numbers for randint); bools get False, True,
    positive-normal or random bits. Its size is checked against ``budget`` (by default, the
    default limit) before anything is allocated.
    """
    if mode not in FILL_MODES:
        raise SmlensError(info.key, f"unknown fill {mode!r}; choose from {', '.join(FILL_MODES)}")
    check_batch(batch_size)
    target = numpy_dtype(info)
    shape = fill_shape(info, batch_size)
    where = f"input {info.key!r}"
    count = check_shape(where, shape)
    # The values are drawn as float64 (8 bytes), then cast to the input's type.
    per_element = 8 + (8 if target.kind == "O" else target.itemsize)
    (budget or InputBudget()).take(where, count * per_element, f"--fill of shape {list(shape)}")
    rng = np.random.default_rng(seed)
    if mode == "zeros":
        values = np.zeros(shape)
    elif mode == "ones":
        values = np.ones(shape)
    elif mode == "normal":
        values = rng.standard_normal(shape)
    else:
        values = rng.integers(low, high, shape)
    if target.kind == "O":
        return _strings_for(values, mode, shape)
    if target.kind == "b":
        return values > 0
    if target.kind in "iu":
        return np.rint(values).astype(target)
    return values.astype(target)


def _strings_for(values: np.ndarray, mode: str, shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    if mode == "randint":
        out.ravel()[:] = [str(int(v)).encode() for v in values.ravel()]
    else:
        out.fill(b"")
    return out


# -- files ---------------------------------------------------------------------------------

_FILE_WITH_KEY = re.compile(r"([^=]+)=([^\[\]]+)\[([^\[\]]+)\]$")
_FILE = re.compile(r"([^=]+)=([^\[\]]+)$")


def parse_inputs_arg(text: str) -> dict[str, tuple[str, str | None]]:
    """saved_model_cli's ``--inputs``: ``key=file.npy;key2=file.npz[name]`` -> key: (file, name)."""
    found = {}
    for item in filter(None, text.split(";")):
        if match := _FILE_WITH_KEY.match(item):
            found[match[1]] = (match[2], match[3])
        elif match := _FILE.match(item):
            found[match[1]] = (match[2], None)
        else:
            raise SmlensError(
                "--inputs", f"{item!r} is not <input_key>=<filename> or <filename>[<name>]"
            )
    return found


def load_array_file(
    filename: str, name: str | None = None, budget: InputBudget | None = None
) -> tuple[np.ndarray, list[str]]:
    """One array from a .npy or .npz file (never unpickled), and any warnings.

    Its header is read first: a size past the file's end or over ``budget`` is refused
    before anything is allocated.
    """
    path = Path(filename)
    budget = budget or InputBudget()
    if not exists(path):
        raise SmlensError(path, "no such file")
    size = stat_regular(path).st_size  # a FIFO would block np.load
    with open(path, "rb") as f:
        if f.read(6) == b"\x93NUMPY":
            f.seek(0)
            shape, nbytes = npy_size(str(path), f, size)
            budget.take(str(path), nbytes, f"an array of shape {list(shape)}")
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise SmlensError(path, "no such file") from None
    except ValueError as e:
        raise SmlensError(path, f"cannot load without unpickling ({e}); use .npy or .npz") from None
    except OSError as e:
        raise SmlensError(path, f"not a .npy or .npz file: {e}") from None
    if isinstance(data, np.ndarray):
        warnings = [f"{path} holds a single array: the name {name!r} is ignored"] if name else []
        return data, warnings
    with data:
        names = data.files
        if name is None and len(names) != 1:
            raise SmlensError(
                path, f"holds {len(names)} arrays ({', '.join(names)}); name one: file.npz[name]"
            )
        if name is not None and name not in names:
            raise SmlensError(path, f"holds no array {name!r}; it has: {', '.join(names)}")
        member = name or names[0]
        nbytes = check_npz_member(str(path), path, member)
        budget.take(str(path), nbytes, f"array {member!r}")
        try:
            return data[member], []
        except ValueError as e:
            message = f"cannot load {name or names[0]!r} without unpickling: {e}"
            raise SmlensError(path, message) from None


# -- tf.Example ----------------------------------------------------------------------------


def make_example(features: dict[str, list]) -> bytes:
    """A serialized tf.train.Example; the first value of each list picks its kind, as in
    saved_model_cli: float -> float_list, str/bytes -> bytes_list, int -> int64_list."""
    example = proto.Example()
    for name, values in features.items():
        if not isinstance(values, list) or not values:
            raise SmlensError("tf.Example", f"feature {name!r} must be a non-empty list")
        feature = example.features.feature[name]
        first = values[0]
        try:
            if isinstance(first, float):
                feature.float_list.value.extend(values)
            elif isinstance(first, (str, bytes)):
                feature.bytes_list.value.extend(_as_bytes(v) for v in values)
            elif isinstance(first, int):
                feature.int64_list.value.extend(values)
            else:
                raise SmlensError(
                    "tf.Example", f"feature {name!r}: {type(first).__name__} is not supported"
                )
        except TypeError as e:
            raise SmlensError("tf.Example", f"feature {name!r}: mixed value types ({e})") from None
    return example.SerializeToString()


def parse_input_examples(text: str) -> dict[str, np.ndarray]:
    """saved_model_cli's ``--input_examples``: ``key=[{"f": [1.0]}, ...]`` -> serialized."""
    found = {}
    for key, examples in parse_input_exprs(text).items():
        if not isinstance(examples, list) or not all(isinstance(e, dict) for e in examples):
            raise SmlensError("--input_examples", f"{key}: expected a list of feature dicts")
        found[key] = _object_array([make_example(e) for e in examples])
    return found


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value)
    raise TypeError(f"{type(value).__name__} is not a string")


def _object_array(items: list[bytes]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


# -- gathering and checking ----------------------------------------------------------------


def collect_inputs(
    signature: Signature,
    inputs: str = "",
    input_exprs: str = "",
    input_examples: str = "",
    fill: str | None = None,
    batch_size: int = 1,
    seed: int | None = None,
    max_bytes: int = DEFAULT_INPUT_BYTES,
) -> tuple[dict[str, Any], list[str]]:
    """The values of saved_model_cli's three input flags, later flags overriding earlier ones,
    then ``fill`` for any input still missing. Returns the values and warnings.

    Together they may allocate at most ``max_bytes``, each checked before it is allocated.
    """
    values: dict[str, Any] = {}
    warnings: list[str] = []
    budget = InputBudget(max_bytes)
    if fill:
        check_batch(batch_size)
    for key, (filename, name) in parse_inputs_arg(inputs).items():
        values[key], more = load_array_file(filename, name, budget)
        warnings += more
    for flag, parsed in (
        ("--input_exprs", parse_input_exprs(input_exprs, budget)),
        ("--input_examples", parse_input_examples(input_examples)),
    ):
        for key, value in parsed.items():
            if key in values:
                warnings.append(f"input {key!r} is given more than once: {flag} wins")
            values[key] = value
    if fill:
        for key, info in signature.inputs.items():
            if key not in values and key not in signature.defaults:
                values[key] = fill_input(info, fill, batch_size, seed=seed, budget=budget)
    return values, warnings


class InputsRefused(SmlensError):
    """Inputs that do not fit their signature. ``errors`` holds what is wrong with each
    input at fault, so a form can mark every one; the error reads as the first of them."""

    def __init__(self, errors: dict[str, SmlensError]):
        first = next(iter(errors.values()))
        super().__init__(first.path, first.message)
        self.errors = {key: str(error) for key, error in errors.items()}


def check_inputs(signature: Signature, values: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The arrays to feed, in signature order, each checked against its TensorInfo.

    Values are converted to the input's dtype only when nothing is lost in kind (float64 to
    float32, int64 to int32 when the values fit, str to bytes). An unknown or a missing key
    raises SmlensError; values that do not fit raise InputsRefused, naming each input.
    """
    unknown = [k for k in values if k not in signature.inputs]
    if unknown:
        raise SmlensError(
            signature.key,
            f"{', '.join(map(repr, unknown))} is not an input; the inputs are: "
            f"{', '.join(signature.inputs) or 'none'}",
        )
    missing = [k for k in signature.inputs if k not in values and k not in signature.defaults]
    if missing:
        wanted = ", ".join(f"{k} ({_describe(signature.inputs[k])})" for k in missing)
        raise SmlensError(signature.key, f"missing input: {wanted}")
    arrays: dict[str, np.ndarray] = {}
    errors: dict[str, SmlensError] = {}
    for key, info in signature.inputs.items():
        if key in values:
            try:
                arrays[key] = _checked(signature.key, info, values[key])
            except SmlensError as e:
                errors[key] = e
    if errors:
        raise InputsRefused(errors)
    return arrays


def _describe(info: TensorInfo) -> str:
    return f"{info.dtype} {info.shape}"


def _checked(where: str, info: TensorInfo, value: Any) -> np.ndarray:
    if info.encoding != "name":
        raise SmlensError(
            where, f"input {info.key!r} is a {info.encoding} tensor; only dense inputs are fed"
        )
    target = numpy_dtype(info)
    array = _strings(where, info, value) if target.kind == "O" else _numeric(where, info, value)
    dims = info.shape.dims
    fits = dims is None or (
        len(dims) == array.ndim
        and all(d < 0 or d == n for d, n in zip(dims, array.shape, strict=True))
    )
    if not fits:
        raise SmlensError(
            where,
            f"input {info.key!r} has shape {tuple(array.shape)}; the signature wants "
            f"{_describe(info)}",
        )
    return array


def _strings(where: str, info: TensorInfo, value: Any) -> np.ndarray:
    array = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    if array.dtype.kind not in "OSU":
        raise SmlensError(
            where, f"input {info.key!r} is {array.dtype}; the signature wants {info.dtype}"
        )
    out = np.empty(array.shape, dtype=object)
    try:
        out.ravel()[:] = [_as_bytes(v) for v in array.ravel()]
    except TypeError as e:
        raise SmlensError(where, f"input {info.key!r}: {e}; {info.dtype} wants strings") from None
    return out


# Which numpy kinds an input of each kind accepts: nothing is lost in kind.
_ACCEPTS = {"b": "b", "i": "biu", "u": "biu", "f": "biuf", "c": "biufc"}


def _kind(target: np.dtype) -> str:
    """numpy's kind, with ml_dtypes' "V" read as int (int4, uint2...) or float (bfloat16)."""
    if target.kind != "V":
        return target.kind
    return "i" if "int" in target.name else "f"


def _numeric(where: str, info: TensorInfo, value: Any) -> np.ndarray:
    target = numpy_dtype(info)
    try:
        array = np.asarray(value)
    except ValueError as e:  # ragged nested lists
        raise SmlensError(where, f"input {info.key!r} is not a rectangular array: {e}") from None
    if array.dtype == target:
        return array
    if array.dtype.kind not in _ACCEPTS.get(_kind(target), ""):
        raise SmlensError(
            where,
            f"input {info.key!r} is {array.dtype}; the signature wants {info.dtype} "
            f"({target.name})",
        )
    converted = array.astype(target)
    if _kind(target) in "iu" and not np.array_equal(converted, array):
        raise SmlensError(
            where, f"input {info.key!r}: values of {array.dtype} do not fit in {target.name}"
        )
    return converted


# -- one input's source, as the run panel edits it ----------------------------------------

SOURCE_KINDS = ("fill", "expr", "file", "examples", "strings")
_EXAMPLE_METHODS = ("tensorflow/serving/classify", "tensorflow/serving/regress")


@dataclass(frozen=True)
class InputSource:
    """Where one input's value comes from: a fill, an expression, a file, tf.Examples or
    strings. ``text`` holds the expression, ``file.npz[name]``, or the list literal."""

    kind: str = "fill"
    fill: str = "zeros"
    low: int = 0
    high: int = 10
    text: str = ""


def default_source(
    signature: Signature, info: TensorInfo, mg: MetaGraph | None = None
) -> InputSource:
    """What an input starts from: tf.Examples for classify/regress strings (with the
    features the graph parses, when ``mg`` shows them), a list of empty strings for other
    strings, seeded random values for numbers (so runs compare)."""
    if info.dtype == "DT_STRING":
        if signature.method_name in _EXAMPLE_METHODS:
            return InputSource("examples", text=example_template(mg, info) if mg else "[{}]")
        return InputSource("strings", text=_strings_literal(fill_shape(info)))
    try:
        kind = numpy_dtype(info).kind
    except SmlensError:
        kind = "f"
    if kind == "b":
        return InputSource("fill", "zeros")
    return InputSource("fill", "randint" if kind in "iu" else "normal")


_ZERO = {"DT_FLOAT": 0.0, "DT_INT64": 0, "DT_STRING": ""}


def example_template(mg: MetaGraph, info: TensorInfo) -> str:
    """A one-Example list with every feature the graph's ParseExample reads from ``info``,
    zero-filled to its dense shape: ``[{"x": [0.0, 0.0, 0.0]}]``; ``[{}]`` when none does."""
    feeding = info.name.partition(":")[0]
    nodes = {n.name: n for n in mg.graph.nodes}
    for node in mg.graph.nodes:
        if node.op not in ("ParseExample", "ParseExampleV2") or not node.inputs:
            continue
        if node.inputs[0].partition(":")[0] != feeding:
            continue
        attrs = node.attrs
        dense_at = 3 if node.op == "ParseExampleV2" else 2 + attrs.get("Nsparse", 0)
        sparse_at = 2
        features = {}
        sparse = _const_strings(nodes, node.inputs, sparse_at, attrs.get("Nsparse", 0), node.op)
        for key, kind in zip(sparse, attrs.get("sparse_types", []), strict=False):
            features[key] = [_ZERO.get(kind, 0.0)]
        dense = _const_strings(nodes, node.inputs, dense_at, attrs.get("Ndense", 0), node.op)
        shapes = attrs.get("dense_shapes", [])
        for key, kind, shape in zip(dense, attrs.get("Tdense", []), shapes, strict=False):
            count = 1
            for d in shape.dims or ():
                count *= max(d, 1)
            features[key] = [_ZERO.get(kind, 0.0)] * count
        return repr([features])
    return "[{}]"


def _const_strings(nodes: dict, inputs: list[str], at: int, count: int, op: str) -> list[str]:
    """The key names a ParseExample takes: one string vector (V2) or ``count`` scalars (V1)."""
    names = inputs[at : at + 1] if op == "ParseExampleV2" else inputs[at : at + count]
    found = []
    for name in names:
        node = nodes.get(name.partition(":")[0])
        value = node.attrs.get("value") if node is not None and node.op == "Const" else None
        if value is None:
            return []
        try:
            found += [v.decode() for v in np.asarray(value.numpy()).ravel()]
        except (AttributeError, ValueError, UnicodeDecodeError):
            return []
    return found


def _strings_literal(shape: tuple[int, ...]) -> str:
    value: Any = ""
    for n in reversed(shape):
        value = [value] * n
    return repr(value)


def input_value(
    info: TensorInfo, source: InputSource, batch_size: int = 1, seed: int | None = None
) -> Any:
    """The value ``source`` gives for ``info``; SmlensError names the input."""
    where = f"input {info.key!r}"
    try:
        if source.kind == "fill":
            return fill_input(info, source.fill, batch_size, source.low, source.high, seed)
        if not source.text.strip():
            raise SmlensError(where, f"is empty; give {_WANTED[source.kind]}")
        if source.kind == "expr":
            return eval_expr(source.text)
        if source.kind == "file":
            filename, name = _file_and_name(source.text.strip())
            return load_array_file(filename, name)[0]
        if source.kind == "examples":
            examples = eval_expr(source.text)
            if not isinstance(examples, list) or not all(isinstance(e, dict) for e in examples):
                raise SmlensError(where, 'wants a list of feature dicts: [{"x": [1.0]}]')
            return _object_array([make_example(e) for e in examples])
        if source.kind == "strings":
            return _string_list(where, eval_expr(source.text))
    except SmlensError as e:
        if e.path == where:
            raise
        raise SmlensError(where, f"{e.path}: {e.message}") from None
    raise SmlensError(where, f"unknown source {source.kind!r}")


_WANTED = {
    "expr": "a literal or a numpy expression, e.g. np.ones((2, 3))",
    "file": "a .npy file, or file.npz[name]",
    "examples": 'a list of feature dicts, e.g. [{"x": [1.0, 2.0]}]',
    "strings": 'a list of strings, e.g. ["apple", "kiwi"]',
}


def _file_and_name(text: str) -> tuple[str, str | None]:
    if text.endswith("]") and "[" in text:
        filename, _, name = text[:-1].rpartition("[")
        return filename, name
    return text, None


def _string_list(where: str, value: Any) -> np.ndarray:
    array = np.asarray(value, dtype=object)
    if not all(isinstance(v, (str, bytes)) for v in array.ravel()):
        raise SmlensError(where, 'wants strings: a string or a list of them, e.g. ["a", "b"]')
    return array
