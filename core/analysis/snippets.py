"""The Signatures panel's text, without Qt: a ready-to-paste call of a signature (a
saved_model_cli line and a Python call), where a signature tensor lives, and the arguments
of a concrete function."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smlens.core.model import NamedTuple as NamedTupleValue
from smlens.core.model import Shape, Signature, TensorInfo, TensorSpec, TypeSpec
from smlens.core.model.dtypes import dtype as lookup_dtype


def short_dtype(name: str) -> str:
    """ "DT_FLOAT" -> "float32", as tf.dtypes names it; unknown names pass through."""
    try:
        return lookup_dtype(name).short
    except KeyError:
        return name


@dataclass(frozen=True)
class Snippet:
    cli: str  # one saved_model_cli (or smlens) run line
    python: str  # a few lines calling the signature through tf.saved_model.load
    tool: str = "saved_model_cli"  # the command the cli line runs

    @property
    def text(self) -> str:
        return f"# {self.tool}\n{self.cli}\n\n# Python\n{self.python}"


def example_expr(info: TensorInfo) -> str:
    """A numpy expression for a value fitting ``info``: zeros, unknown dims as 1,
    unknown rank as a vector of one."""
    dims = (1,) if info.shape.dims is None else tuple(1 if d < 0 else d for d in info.shape.dims)
    shape = "(" + ",".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"
    dtype = short_dtype(info.dtype)
    if dtype == "string":
        return f'np.full({shape},b"",dtype=object)'
    if dtype == "bool":
        return f"np.zeros({shape},dtype=bool)"
    if dtype == "bfloat16":  # numpy has no bfloat16; TensorFlow converts float32 input
        dtype = "float32"
    return f"np.zeros({shape},dtype=np.{dtype})"


def signature_snippet(model_path: str | Path, tags: list[str], key: str, sig: Signature) -> Snippet:
    """A saved_model_cli line and a Python call that run signature ``key`` on example zeros."""
    exprs = ";".join(f"{name}={example_expr(info)}" for name, info in sig.inputs.items())
    cli = (
        f"saved_model_cli run --dir {shlex.quote(str(model_path))}"
        f" --tag_set {shlex.quote(','.join(tags))} --signature_def {shlex.quote(key)}"
    )
    if exprs:
        cli += f" --input_exprs {shlex.quote(exprs)}"
    args = "".join(
        f"    {name!r}: tf.constant({example_expr(info)}),\n" for name, info in sig.inputs.items()
    )
    call = f"(**{{\n{args}}})" if args else "()"
    python = (
        "import numpy as np\nimport tensorflow as tf\n\n"
        f"model = tf.saved_model.load({str(model_path)!r}, tags={list(tags)!r})\n"
        f"outputs = model.signatures[{key!r}]{call}\n"
    )
    return Snippet(cli, python)


def tensor_location(info: TensorInfo) -> str:
    """Where a signature tensor lives: its graph tensor, or its sparse/composite parts."""
    if info.encoding == "name":
        return info.name
    if info.encoding == "coo_sparse" and info.coo_sparse:
        values, indices, dense_shape = info.coo_sparse
        return f"sparse: values {values}, indices {indices}, dense_shape {dense_shape}"
    kind = info.type_spec.type_name if info.type_spec is not None else "composite"
    return f"{kind}: " + ", ".join(c.name for c in info.components)


def flat_specs(structure: Any, path: str) -> list[tuple[str, Any]]:
    """(path, leaf) for every leaf of a decoded input signature: TensorSpecs, TypeSpecs
    and the Python values a trace was specialised on."""
    if isinstance(structure, (TensorSpec, TypeSpec)) or structure is None:
        return [(path, structure)]
    if isinstance(structure, NamedTupleValue):
        return [p for k, v in structure.fields for p in flat_specs(v, f"{path}.{k}")]
    if isinstance(structure, dict):
        return [p for k, v in structure.items() for p in flat_specs(v, f"{path}[{k!r}]")]
    if isinstance(structure, (list, tuple)):
        return [p for i, v in enumerate(structure) for p in flat_specs(v, f"{path}[{i}]")]
    return [(path, structure)]


def argument_rows(input_signature: Any) -> list[tuple[str, str, str, str]]:
    """(name, dtype, shape, where) per argument of a concrete function."""
    if not input_signature:
        return []
    args, kwargs = input_signature
    rows = []
    for path, leaf in flat_specs(tuple(args), "args") + flat_specs(dict(kwargs), "kwargs"):
        if isinstance(leaf, TensorSpec):
            rows.append((leaf.name or path, leaf.dtype, str(leaf.shape), path))
        elif isinstance(leaf, TypeSpec):
            dtype, shape = _type_spec_summary(leaf)
            rows.append((path, dtype, shape, f"{path}: {leaf.type_name}"))
        else:
            rows.append((path, f"python {type(leaf).__name__}", "", f"= {leaf!r}"))
    return rows


def _type_spec_summary(spec: TypeSpec) -> tuple[str, str]:
    """The dtype and shape a composite spec's state holds first (ragged, sparse, ...)."""
    state = spec.state if isinstance(spec.state, (tuple, list)) else ()
    shape = next((str(v) for v in state if isinstance(v, Shape)), "")
    dtype = next((v for v in state if isinstance(v, str)), "")
    return dtype, shape


def graph_snippet(model_path: str | Path, model_format: str, tags: list[str], io) -> Snippet:
    """A ``smlens run`` line and a TF1 session call that feed a graph without signatures
    (``io`` is its ``graph_io.GraphIO``) example zeros and fetch its likeliest outputs.
    Placeholders with a default are left to it. A GraphDef is imported, a ``.meta`` restored
    from the checkpoint beside it, a SavedModel's tag-set loaded."""
    path = str(model_path)
    fed = [f for f in io.feeds if f.default is None]
    exprs = {f.tensor: example_expr(TensorInfo(f.name, f.dtype, f.shape, f.tensor)) for f in fed}
    fetches = [f.name for f in io.fetches[:FETCHES_IN_SNIPPET]]
    cli = f"smlens run --dir {shlex.quote(path)}"
    if model_format == "saved_model":  # it may have other tag-sets
        cli += f" --tag_set {shlex.quote(','.join(tags))}"
    if exprs:
        cli += " --input_exprs " + shlex.quote(";".join(f"{k}={v}" for k, v in exprs.items()))
    cli += "".join(f" --fetch {shlex.quote(name)}" for name in fetches)
    feed_dict = "".join(f"            {k!r}: {v},\n" for k, v in exprs.items())
    run = f"    outputs = session.run(\n        {fetches!r},\n"
    run += f"        feed_dict={{\n{feed_dict}        }},\n" if exprs else ""
    run += "    )\n"
    if model_format == "graph_def":
        reader = (
            f"graph_def = tf.compat.v1.GraphDef()\n"
            f"graph_def.ParseFromString(open({path!r}, 'rb').read())\n"
            if not path.endswith(".pbtxt")
            else "from google.protobuf import text_format\n\n"
            f"graph_def = text_format.Parse(open({path!r}).read(), tf.compat.v1.GraphDef())\n"
        )
        opening = (
            f"{reader}with tf.Graph().as_default() as graph:\n"
            "    tf.compat.v1.import_graph_def(graph_def, name='')\n"
            "with tf.compat.v1.Session(graph=graph) as session:\n"
        )
    elif model_format == "saved_model":
        opening = (
            "with tf.Graph().as_default(), tf.compat.v1.Session() as session:\n"
            f"    tf.compat.v1.saved_model.loader.load(session, {list(tags)!r}, {path!r})\n"
        )
    else:
        prefix = path[: -len(".meta")] if path.endswith(".meta") else path
        opening = (
            "with tf.Graph().as_default(), tf.compat.v1.Session() as session:\n"
            f"    saver = tf.compat.v1.train.import_meta_graph({prefix + '.meta'!r})\n"
            f"    saver.restore(session, {prefix!r})\n"
        )
    python = "import numpy as np\nimport tensorflow as tf\n\n" + opening + run
    return Snippet(cli, python, tool="smlens")


FETCHES_IN_SNIPPET = 3  # the likeliest outputs a snippet fetches
