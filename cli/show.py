"""The text of ``saved_model_cli show``, rebuilt from the neutral Model without TensorFlow.

Follows tensorflow/python/tools/saved_model_cli.py: ``show()`` and the helpers it calls.
Two things TensorFlow prints in an order that changes from run to run come out sorted
here: the ops set and dict keys (proto maps iterate in hash order). The options of a
function come in saved_model_cli's order, which ``loaded_names`` reproduces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from smlens.core.analysis.ops import ops_used
from smlens.core.errors import SmlensError
from smlens.core.graph.calls import node_callees
from smlens.core.graph.opdefs import flat_args, op_spec
from smlens.core.model import (
    ConcreteFunction,
    Function,
    Graph,
    MetaGraph,
    Model,
    NamedTuple,
    Shape,
    TensorInfo,
    TensorSpec,
    TensorValue,
    TypeSpec,
)
from smlens.core.model.dtypes import dtype


class _Printer:
    """Collects text the way print() would write it."""

    def __init__(self):
        self.parts: list[str] = []

    def __call__(self, *values: object, end: str = "\n") -> None:
        self.parts.append(" ".join(str(v) for v in values) + end)

    def text(self) -> str:
        return "".join(self.parts)


def render_show(
    model: Model,
    *,
    all: bool = False,
    tag_set: str | None = None,
    signature_def: str | None = None,
    list_ops: bool = False,
) -> str:
    """What ``saved_model_cli show --dir <model> [flags]`` prints, as one string."""
    if not model.meta_graphs:
        raise SmlensError(model.path, "holds no MetaGraphDef: saved_model_cli show needs one")
    out = _Printer()
    if all:
        _show_all(out, model)
    elif tag_set is None:
        if list_ops:
            out("--list_ops must be paired with a tag-set or with --all.")
        _show_tag_sets(out, model)
    else:
        if list_ops:
            _show_ops(out, model.meta_graph(_sanitized(model, tag_set)))
        if signature_def is None:
            _show_signature_keys(out, model.meta_graph(tag_set))
        else:
            meta_graph = model.meta_graph(_sanitized(model, tag_set))
            _show_inputs_outputs(out, model, meta_graph, signature_def, indent=0)
    return out.text()


def _sanitized(model: Model, tag_set: str) -> str:
    tags = [t.strip() for t in tag_set.split(",") if t.strip()]
    if not tags:
        raise SmlensError(model.path, "tag_set must contain at least one non-empty item")
    return ",".join(tags)


def _show_tag_sets(out: _Printer, model: Model) -> None:
    out("The given SavedModel contains the following tag-sets:")
    for tags in sorted(list(mg.tags) for mg in model.meta_graphs):
        out(repr(", ".join(sorted(tags))))


def _show_signature_keys(out: _Printer, meta_graph: MetaGraph) -> None:
    out("The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:")
    for key in sorted(meta_graph.signatures):
        out(f'SignatureDef key: "{key}"')


def _show_inputs_outputs(
    out: _Printer, model: Model, meta_graph: MetaGraph, key: str, indent: int
) -> None:
    if key not in meta_graph.signatures:
        choices = ", ".join(repr(k) for k in sorted(meta_graph.signatures))
        raise SmlensError(
            model.path,
            f"no SignatureDef {key!r} in the MetaGraphDef with tag-set "
            f"{meta_graph.tag_set!r}; choose from: {choices}",
        )
    signature = meta_graph.signatures[key]
    pad = "  " * indent
    out(pad + "The given SavedModel SignatureDef contains the following input(s):")
    for name, info in sorted(signature.inputs.items()):
        out(pad + f"  inputs['{name}'] tensor_info:")
        _show_tensor_info(out, info, indent + 1)
    out(pad + "The given SavedModel SignatureDef contains the following output(s):")
    for name, info in sorted(signature.outputs.items()):
        out(pad + f"  outputs['{name}'] tensor_info:")
        _show_tensor_info(out, info, indent + 1)
    out(pad + f"Method name is: {signature.method_name}")


def _show_tensor_info(out: _Printer, info: TensorInfo, indent: int) -> None:
    pad = "  " * indent
    if info.shape.dims is None:
        shape = "unknown_rank"
    else:
        shape = "(" + ", ".join(str(d) for d in info.shape.dims) + ")"
    out(pad + "    dtype: " + info.dtype)
    out(pad + "    shape: " + shape)
    out(pad + "    name: " + info.name)


def _show_ops(out: _Printer, meta_graph: MetaGraph) -> None:
    ops = sorted(ops_used(meta_graph.graph))
    listed = "{" + ", ".join(repr(op) for op in ops) + "}" if ops else "set()"
    out(f"The MetaGraph with tag set {meta_graph.tags} contains the following ops:", listed)


def _show_all(out: _Printer, model: Model) -> None:
    for meta_graph in sorted(model.meta_graphs, key=lambda mg: list(mg.tags)):
        out(
            f"\nMetaGraphDef with tag-set: '{', '.join(meta_graph.tags)}' "
            "contains the following SignatureDefs:"
        )
        for key in sorted(meta_graph.signatures):
            out(f"\nsignature_def['{key}']:")
            _show_inputs_outputs(out, model, meta_graph, key, indent=1)
        _show_ops(out, meta_graph)
    _show_defined_functions(out, model)


def _show_defined_functions(out: _Printer, model: Model) -> None:
    """The "Concrete Functions" section, from the object graph instead of loading the model."""
    if not any(mg.object_graph for mg in model.meta_graphs):
        return
    out("\nConcrete Functions:", end="")
    reason = _unloadable_reason(model)
    if reason:
        out(f" N/A (could not be listed due to {reason})")
        return
    meta_graph = model.meta_graphs[0]
    objects = meta_graph.object_graph
    loaded = loaded_names(meta_graph.graph)
    for name, child in sorted(objects.children_of(0), key=lambda c: c[0]):
        if child.kind not in ("function", "bare_concrete_function"):
            continue
        out(f"\n  Function Name: '{name}'")
        known = [objects.concrete_functions[n] for n in child.concrete_functions]
        options = sorted(known, key=lambda f: loaded.get(f.name, f.name))
        for index, function in enumerate(options, 1):
            _show_concrete_function(out, function, index)


_INFERENCE_NAME = re.compile(r"^__inference_(.*)_\d+$")


def loaded_names(graph: Graph) -> dict[str, str]:
    """The names tf.saved_model.load gives the library's functions in a fresh process, as
    saved_model_cli's ``show --all`` sorts a function's options by them.

    The loader (function_deserialization.load_function_def_library) imports the library in
    a topological order (``_load_order``), and each function's new name is
    ``__inference_<saved name without its prefix and number>_<uid>``, where ``uid`` is
    TensorFlow's process-wide counter (ops.uid). In a fresh process the loader first takes
    uid 0 for the graph key of the scratch ``ops.Graph()`` it imports into, and uid 1 for
    its shared-name suffix (``_load_1``); then, per function: one for each HashTableV2 whose shared
    name it turns on, one for the FuncGraph's graph key, one for each output tensor of each
    op imported (a Placeholder per input arg, then every node), and one for the name. The
    names sort as strings, so "_150" comes before "_47": the options' order is not simply
    the load order.
    """
    library = graph.functions
    names = {}
    uid = 2
    for fn in _load_order(library):
        uid += sum(_turns_on_name_sharing(node) for node in fn.nodes)
        uid += 1 + len(fn.inputs) + sum(_output_count(node, library) for node in fn.nodes)
        match = _INFERENCE_NAME.match(fn.name)
        names[fn.name] = f"__inference_{match[1] if match else fn.name}_{uid}"
        uid += 1
    return names


def _load_order(library: dict[str, Function]) -> list[Function]:
    """The library in the loader's order (function_deserialization._sort_function_defs): a
    topological sort that starts from the functions nothing calls, in library order, and
    always takes the last one ready."""
    callers: dict[str, list[str]] = {name: [] for name in library}
    waiting = dict.fromkeys(library, 0)
    for name, fn in library.items():
        deps = {c.function for node in fn.nodes for c in node_callees(node, library)}
        for dep in deps & library.keys():
            callers[dep].append(name)
            waiting[name] += 1
    ready = [name for name in library if not waiting[name]]
    order = []
    while ready:
        name = ready.pop()
        order.append(library[name])
        for caller in callers[name]:
            waiting[caller] -= 1
            if not waiting[caller]:
                ready.append(caller)
    return order


def _output_count(node, library: dict[str, Function]) -> int:
    if node.op in library:
        return len(library[node.op].outputs)
    spec = op_spec(node.op)
    return len(flat_args(node, spec, spec.outputs)) if spec is not None else 0


def _turns_on_name_sharing(node) -> bool:
    """A HashTableV2 without use_node_name_sharing: the loader turns it on, taking a uid."""
    if node.op != "HashTableV2":
        return False
    attrs = node._attr_proto
    return (
        attrs is None
        or "use_node_name_sharing" not in attrs
        or not attrs["use_node_name_sharing"].b
    )


def _unloadable_reason(model: Model) -> str:
    """Why tf.saved_model.load would fail on this model, in saved_model_cli's words, or ""."""
    if len(model.meta_graphs) != 1 or model.meta_graphs[0].object_graph is None:
        return "unknown reasons"
    objects = model.meta_graphs[0].object_graph
    if any(
        n not in objects.concrete_functions for o in objects.nodes for n in o.concrete_functions
    ):
        return "unknown reasons"
    if not all(_loadable_signature(f.input_signature) for f in objects.concrete_functions.values()):
        return "unknown reasons"  # a damaged signature: tf.saved_model.load fails on it
    # Custom ops make saved_model_cli give up ("the existence of custom ops"); reading the
    # object graph needs no op kernels, so those models are listed in full here.
    return ""


def _loadable_signature(signature: object) -> bool:
    """Whether a canonicalized input signature is what the loader needs: (args, kwargs)."""
    if not signature:
        return True
    return (
        isinstance(signature, tuple | list)
        and len(signature) == 2
        and isinstance(signature[0], tuple | list)
        and isinstance(signature[1], dict)
    )


def _show_concrete_function(out: _Printer, function: ConcreteFunction, index: int) -> None:
    args, kwargs = None, None
    if function.input_signature:
        args, kwargs = function.input_signature
    elif function.argument_keywords:
        args = function.argument_keywords
    if args:
        out(f"    Option #{index}")
        out("      Callable with:")
        _print_args(out, args, "Argument")
    if kwargs:
        _print_args(out, sorted(kwargs), "Named Argument")


def _print_args(out: _Printer, arguments: Iterable, argument_type: str) -> None:
    """saved_model_cli's _print_args at indent 4; every value here is a structure leaf."""
    pad = "  " * 4
    for index, element in enumerate(arguments, 1):
        out(pad + f"{argument_type} #{index}")
        if isinstance(element, str):
            out(pad + f"  {element}")
        elif isinstance(element, TensorSpec):
            out("  " * 5 + f"{element.name}: {_repr(element)}")
        elif isinstance(element, dict):
            items = "".join(f"'{k}': {_quoted_str(v)}, " for k, v in sorted(element.items()))
            out(pad + "  DType: dict")
            out(pad + "  Value: {" + items + "\b\b}")
        elif _is_iterable(element):
            values = "".join(f"{_quoted_str(v)}, " for v in _iterate(element))
            out(pad + f"  DType: {_type_name(element)}")
            out(pad + "  Value: [" + values + "\b\b]")
        else:
            out(pad + f"  DType: {_type_name(element)}")
            out(pad + f"  Value: {_str(element)}")


def _is_iterable(value: object) -> bool:
    return isinstance(value, (tuple, list, NamedTuple)) or (
        isinstance(value, Shape) and value.dims is not None
    )


def _iterate(value) -> list:
    if isinstance(value, NamedTuple):
        return [v for _, v in value.fields]
    if isinstance(value, Shape):
        return [None if d < 0 else d for d in value.dims]
    return list(value)


def _type_name(value: object) -> str:
    if isinstance(value, NamedTuple):
        return value.name
    if isinstance(value, TypeSpec):
        return value.type_name
    if isinstance(value, Shape):
        return "TensorShape"
    if isinstance(value, TensorValue):
        return "ndarray"
    return type(value).__name__


def _quoted_str(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else _str(value)


def _str(value: object) -> str:
    """str() of the Python object TensorFlow decodes ``value`` into."""
    if isinstance(value, Shape):
        return _shape_str(value)
    if isinstance(value, TensorValue):
        return str(value.numpy())
    return _repr(value)


def _shape_str(shape: Shape) -> str:
    if shape.dims is None:
        return "<unknown>"
    dims = ["None" if d < 0 else str(d) for d in shape.dims]
    return f"({dims[0]},)" if len(dims) == 1 else "(" + ", ".join(dims) + ")"


def _repr(value: object, dtype_strings: bool = False) -> str:
    """repr() of the Python object TensorFlow decodes ``value`` into (dicts key-sorted)."""
    if isinstance(value, TensorSpec):
        return _tensor_spec_repr(value)
    if isinstance(value, TypeSpec):
        return value.type_name + _repr(value.state, dtype_strings=True)
    if isinstance(value, NamedTuple):
        fields = ", ".join(f"{k}={_repr(v, dtype_strings)}" for k, v in value.fields)
        return f"{value.name}({fields})"
    if isinstance(value, Shape):
        if value.dims is None:
            return "TensorShape(None)"
        return "TensorShape([" + ", ".join("None" if d < 0 else str(d) for d in value.dims) + "])"
    if isinstance(value, TensorValue):
        return repr(value.numpy())
    if isinstance(value, tuple):
        items = [_repr(v, dtype_strings) for v in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_repr(v, dtype_strings) for v in value) + "]"
    if isinstance(value, dict):
        items = (f"{k!r}: {_repr(v, dtype_strings)}" for k, v in sorted(value.items()))
        return "{" + ", ".join(items) + "}"
    if dtype_strings and isinstance(value, str) and _is_dtype_name(value):
        # TypeSpec states hold tf.DType values, which the model keeps as their short names.
        return f"tf.{value}"
    return repr(value)


def _is_dtype_name(name: str) -> bool:
    try:
        return dtype(name).short == name
    except KeyError:
        return False


def _tensor_spec_repr(spec: TensorSpec) -> str:
    text = f"{spec.kind}(shape={_shape_str(spec.shape)}, dtype=tf.{spec.dtype}, name={spec.name!r}"
    if spec.kind == "BoundedTensorSpec":
        text += f", minimum={_repr(spec.minimum)}, maximum={_repr(spec.maximum)}"
    return text + ")"
