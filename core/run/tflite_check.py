"""The TFLite dry run, inside the run worker: TensorFlow's own converter, per signature.

Imported by the worker only (it imports TensorFlow's TFLite schema). Each signature is
converted with ``tf.lite.TFLiteConverter.from_saved_model`` first with the builtin op set
alone, then, if that fails, with Select TF ops (Flex) added. The verdicts come from what the
converter itself says:

- a conversion that succeeds yields a flatbuffer whose operator codes name each op: a
  builtin code, a ``Flex<Op>`` custom code (a Select TF op), or another custom code (an op
  the converter kept as a custom op: nothing in TFLite runs it);
- a failed conversion raises ``ConverterError`` whose ``errors`` are ConverterErrorData
  protos (tensorflow/compiler/mlir/lite/metrics/converter_error_data.proto): one per node,
  with the op (``tf.MatrixInverse``), the code ``ERROR_NEEDS_FLEX_OPS`` or
  ``ERROR_NEEDS_CUSTOM_OPS``, and a call-site location whose innermost name is
  ``node@function``.

When Select TF ops are not enough, a third conversion with ``allow_custom_ops`` gives the
flatbuffer the builtin counts are read from; its file is never written. Nothing touches the
model folder: a ``.tflite`` is written only to the path the request names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FLEX_PREFIX = "Flex"  # Select TF ops' custom codes: tensorflow/lite/delegates/flex
NEEDS_FLEX = "ERROR_NEEDS_FLEX_OPS"
NEEDS_CUSTOM = "ERROR_NEEDS_CUSTOM_OPS"
ERROR_LINES = 6  # of the converter's own text, kept per failed conversion
ERROR_LINE_CHARS = 300

Progress = Callable[[float, str], None]


def _schema():
    """TensorFlow's generated TFLite schema, imported when a check runs in the worker (which
    has imported TensorFlow already), never when this module is imported."""
    from tensorflow.lite.python import schema_py_generated

    return schema_py_generated


def _builtin_names() -> dict[int, str]:
    """BuiltinOperator's numbers -> names, from TensorFlow's generated schema."""
    enum = _schema().BuiltinOperator
    return {v: k for k, v in vars(enum).items() if not k.startswith("_") and isinstance(v, int)}


def check_signatures(tf, request: dict, progress: Progress) -> dict:
    """The readiness of each signature the request names (``signatures``), as JSON."""
    keys = request["signatures"]
    found = []
    for i, key in enumerate(keys):
        share = 1.0 / max(1, len(keys))

        def step(fraction: float, text: str, i=i, key=key, share=share) -> None:
            progress(0.1 + 0.9 * (i + fraction) * share, f"{key}: {text}")

        found.append(_check_signature(tf, request, key, step))
    return {"signatures": found, "tf_version": tf.__version__}


def _converter(tf, request: dict, key: str, ops: list, allow_custom: bool = False):
    converter = tf.lite.TFLiteConverter.from_saved_model(
        request["path"], signature_keys=[key], tags=set(request["tags"])
    )
    converter.target_spec.supported_ops = ops
    converter.allow_custom_ops = allow_custom
    return converter


def _convert(tf, request: dict, key: str, ops: list, allow_custom: bool = False):
    """(flatbuffer, None) or (None, the ConverterError); any other failure propagates."""
    converter = _converter(tf, request, key, ops, allow_custom)
    try:
        return converter.convert(), None
    except Exception as e:
        if not hasattr(e, "errors"):  # not the converter's verdict: a load error, a bug
            raise
        return None, e


def _check_signature(tf, request: dict, key: str, step: Progress) -> dict:
    builtins = [tf.lite.OpsSet.TFLITE_BUILTINS]
    select = [*builtins, tf.lite.OpsSet.SELECT_TF_OPS]
    step(0.0, "converting with builtin ops only")
    model, builtins_error = _convert(tf, request, key, builtins)
    select_error = None
    converted = "builtins" if model is not None else ""
    if model is None:
        step(0.4, "converting with Select TF ops")
        model, select_error = _convert(tf, request, key, select)
        converted = "select" if model is not None else ""
    written = ""
    if request.get("output") and model is not None:
        with open(request["output"], "wb") as f:
            f.write(model)
        written = request["output"]
    counted_model = model
    if counted_model is None:
        step(0.7, "converting with custom ops allowed, to count the builtin ops")
        counted_model, _ = _convert(tf, request, key, select, allow_custom=True)
    ops: dict[tuple[str, str], dict] = {}
    if counted_model is not None:
        for (name, kind), count in _flatbuffer_ops(counted_model).items():
            ops[(name, kind)] = {"op": name, "kind": kind, "count": count, "nodes": []}
    for error in (builtins_error, select_error):
        for data in getattr(error, "errors", ()) or ():
            _add_error_node(ops, data)
    return {
        "key": key,
        "converted": converted,
        "written": written,
        "ops": [_sorted_nodes(op) for op in sorted(ops.values(), key=_op_order)],
        "builtins_error": _short_text(builtins_error),
        "select_error": _short_text(select_error),
    }


def _op_order(op: dict) -> tuple:
    return (op["kind"] != "builtin", op["kind"], op["op"])


def _sorted_nodes(op: dict) -> dict:
    return {**op, "nodes": sorted(op["nodes"], key=lambda n: (n["function"], n["node"]))}


def _flatbuffer_ops(model: bytes) -> dict[tuple[str, str], int]:
    """(op, kind) -> how many operators of every subgraph use it, from the operator codes."""
    names = _builtin_names()
    root = _schema().Model.GetRootAsModel(model, 0)
    codes = []
    for i in range(root.OperatorCodesLength()):
        code = root.OperatorCodes(i)
        custom = code.CustomCode()
        if custom is not None:
            custom = custom.decode(errors="replace")
            if custom.startswith(FLEX_PREFIX):
                codes.append((custom.removeprefix(FLEX_PREFIX), "flex"))
            else:
                codes.append((custom, "unsupported"))
            continue
        # builtin_code holds codes past 127; deprecated_builtin_code the older ones
        # (schema.fbs: "the larger of the two").
        number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        codes.append((names.get(number, f"builtin {number}"), "builtin"))
    counts: dict[tuple[str, str], int] = {}
    for s in range(root.SubgraphsLength()):
        subgraph = root.Subgraphs(s)
        for o in range(subgraph.OperatorsLength()):
            entry = codes[subgraph.Operators(o).OpcodeIndex()]
            counts[entry] = counts.get(entry, 0) + 1
    return counts


def _error_code(data: Any) -> str:
    enum = data.DESCRIPTOR.fields_by_name["error_code"].enum_type
    value = enum.values_by_number.get(data.error_code)
    return value.name if value is not None else str(data.error_code)


def _add_error_node(ops: dict, data: Any) -> None:
    """One node the converter named: its op, whether Flex has it, where it is."""
    code = _error_code(data)
    if code not in (NEEDS_FLEX, NEEDS_CUSTOM) or not data.operator.name:
        return
    op = data.operator.name.removeprefix("tf.")
    kind = "flex" if code == NEEDS_FLEX else "unsupported"
    entry = ops.setdefault((op, kind), {"op": op, "kind": kind, "count": 0, "nodes": []})
    calls = [c.name for c in data.location.call if c.name]
    node, _, function = (calls[0] if calls else "").partition("@")
    where = {"node": node, "function": function}
    if where not in entry["nodes"]:
        entry["nodes"].append(where)
        entry["count"] = max(entry["count"], len(entry["nodes"]))


def _short_text(error: Exception | None) -> str:
    """The converter's own summary lines ("TF Select ops: ...", "Custom ops: ..."), or its
    first lines: the rest of its text is an MLIR dump of the whole function."""
    if error is None:
        return ""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    summary = [line for line in lines if line.startswith(("TF Select ops:", "Custom ops:"))]
    kept = summary or lines
    return "\n".join(line[:ERROR_LINE_CHARS] for line in kept[:ERROR_LINES])
