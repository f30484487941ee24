"""Freeze and wrap, on the worker's side: the TensorFlow half of ``smlens freeze`` and
``smlens wrap`` (the requests are built and checked in conversion.py).

- ``freeze``: a ``.meta`` restored from its checkpoint, or a TF1 SavedModel loaded into a
  session, goes through ``tf.compat.v1.graph_util.convert_variables_to_constants`` with the
  output nodes the request names; a TF2 signature goes through
  ``convert_variables_to_constants_v2``. The frozen GraphDef is written as binary.
- ``wrap``: a frozen GraphDef is imported into a session and saved with
  ``tf.compat.v1.saved_model.Builder`` under the tag ``serve``, with one
  ``serving_default`` predict signature over the requested feeds and fetches: what TF
  Serving loads.

Both write to a temporary name beside the target and rename it into place only once TF has
written all of it, so a failed or killed conversion leaves the target as it was. Only the
run worker imports this module (it imports TensorFlow's converter), and it gets the ``tf``
module from the worker.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from smlens.core.run.graph_session import load_tf1_saved_model


class ConversionError(Exception):
    """A conversion that cannot be done as asked; the worker replies with it as one line."""


def freeze(tf, request: dict, progress) -> dict:
    """Write the frozen GraphDef ``request`` asks for; what it holds, in TF's words."""
    source = request["source"]
    progress(0.1, "loading the model")
    if source == "meta":
        graph_def, feeds, fetches = _freeze_meta(tf, request)
    elif source == "saved_model_tf1":
        graph_def, feeds, fetches = _freeze_tf1_saved_model(tf, request)
    elif source == "saved_model_tf2":
        graph_def, feeds, fetches = _freeze_tf2_signature(tf, request)
    else:
        raise ConversionError(f"cannot freeze a {source!r}")
    progress(0.8, "writing the frozen graph")
    target = Path(request["out"])
    data = graph_def.SerializeToString()

    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    _write_beside(target, write, bool(request.get("force")), is_dir=False)
    return {"out": str(target), "nodes": len(graph_def.node), "feeds": feeds, "fetches": fetches}


def _frozen_in_session(tf, session, graph, output_nodes: list[str]):
    """convert_variables_to_constants over the session's graph, its outputs checked first."""
    names = {op.name for op in graph.get_operations()}
    missing = [name for name in output_nodes if name not in names]
    if missing:
        raise ConversionError(f"the graph has no node {missing[0]!r}")
    if not output_nodes:
        raise ConversionError("no output nodes to freeze: name them with --fetch")
    graph_def = graph.as_graph_def()
    return tf.compat.v1.graph_util.convert_variables_to_constants(session, graph_def, output_nodes)


def _placeholders(graph_def) -> list[str]:
    """The tensors a client of the frozen graph feeds: its Placeholder nodes' outputs."""
    kinds = ("Placeholder", "PlaceholderV2", "PlaceholderWithDefault")
    return [f"{node.name}:0" for node in graph_def.node if node.op in kinds]


def _freeze_meta(tf, request: dict):
    """A .meta restored from its checkpoint, then frozen at the named output nodes."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        saver = v1.train.import_meta_graph(request["meta"], clear_devices=True)
        with v1.Session(graph=graph) as session:
            prefix = request.get("checkpoint")
            if saver is not None:
                if not prefix:
                    raise ConversionError("the graph has variables but no checkpoint is beside it")
                saver.restore(session, prefix)
            frozen = _frozen_in_session(tf, session, graph, list(request["outputs"]))
    fetches = {name: f"{name}:0" for name in request["outputs"]}
    return frozen, {t: t for t in _placeholders(frozen)}, fetches


def _freeze_tf1_saved_model(tf, request: dict):
    """A TF1 SavedModel's meta graph loaded into a session (its main op run), then frozen at
    the signature's outputs, or at the output nodes the request names."""
    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default(), v1.Session(graph=graph) as session:
        tags = list(request["tags"])
        meta = load_tf1_saved_model(tf, session, tags, request["path"])
        key = request.get("signature")
        if key:
            if key not in meta.signature_def:
                raise ConversionError(f"no signature {key!r} in the loaded meta graph")
            signature = meta.signature_def[key]
            feeds = {k: info.name for k, info in signature.inputs.items()}
            fetches = {k: info.name for k, info in signature.outputs.items()}
        else:
            feeds = {}
            fetches = {name: f"{name}:0" for name in request["outputs"]}
        if any(not name for name in [*feeds.values(), *fetches.values()]):
            raise ConversionError("a sparse or composite tensor in the signature: not supported")
        nodes = list(dict.fromkeys(name.rpartition(":")[0] for name in fetches.values()))
        frozen = _frozen_in_session(tf, session, graph, nodes)
    if not feeds:
        feeds = {t: t for t in _placeholders(frozen)}
    return frozen, feeds, fetches


def _freeze_tf2_signature(tf, request: dict):
    """A TF2 signature's concrete function with its variables turned into constants."""
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    root = tf.saved_model.load(request["path"], tags=list(request["tags"]))
    key = request["signature"]
    if key not in root.signatures:
        raise ConversionError(f"no signature {key!r} in the loaded model")
    function = root.signatures[key]
    frozen = convert_variables_to_constants_v2(function)
    graph_def = frozen.graph.as_graph_def()
    # A signature's function takes its inputs as keyword arguments in the order of its
    # structured input signature, and returns its dict of outputs flattened in sorted keys.
    _, keywords = function.structured_input_signature
    in_keys = list(keywords)
    out_keys = sorted(function.structured_outputs)
    feeds = dict(zip(in_keys, (t.name for t in frozen.inputs), strict=False))
    fetches = dict(zip(out_keys, (t.name for t in frozen.outputs), strict=False))
    return graph_def, feeds, fetches


def wrap(tf, request: dict, progress) -> dict:
    """Save the frozen GraphDef at ``request["path"]`` as a SavedModel with one
    ``serving_default`` signature over ``request["feeds"]`` and ``request["fetches"]``
    (each ``{key: tensor name}``), under the tag ``serve``."""
    v1 = tf.compat.v1
    progress(0.1, "reading the frozen graph")
    graph_def = _read_graph_def(tf, request["path"])
    graph = tf.Graph()
    target = Path(request["out"])
    with graph.as_default():
        progress(0.3, "importing the graph")
        tf.import_graph_def(graph_def, name="")
        inputs = _tensors(graph, request["feeds"])
        outputs = _tensors(graph, request["fetches"])
        build = v1.saved_model.signature_def_utils.predict_signature_def
        signature = build(inputs, outputs)
        with v1.Session(graph=graph) as session:
            progress(0.6, "saving the SavedModel")

            def write(tmp: Path) -> None:
                builder = v1.saved_model.Builder(str(tmp))
                builder.add_meta_graph_and_variables(
                    session,
                    [v1.saved_model.tag_constants.SERVING],
                    signature_def_map={"serving_default": signature},
                    strip_default_attrs=True,
                )
                builder.save()

            _write_beside(target, write, bool(request.get("force")), is_dir=True)
    feeds = {k: t.name for k, t in inputs.items()}
    fetches = {k: t.name for k, t in outputs.items()}
    return {"out": str(target), "nodes": len(graph_def.node), "feeds": feeds, "fetches": fetches}


def _read_graph_def(tf, path: str):
    """A GraphDef from a binary .pb, or from text (a .pbtxt) when binary does not parse."""
    from google.protobuf import message, text_format

    data = Path(path).read_bytes()
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except message.DecodeError:
        graph_def = tf.compat.v1.GraphDef()
        try:
            text_format.Parse(data.decode("utf-8"), graph_def)
        except (text_format.ParseError, UnicodeDecodeError) as e:
            raise ConversionError(f"not a GraphDef, binary or text: {e}") from None
    return graph_def


def _tensors(graph, names: dict[str, str]) -> dict[str, Any]:
    """``{key: tensor}`` for ``{key: tensor name}``; an unknown name is a one-line error."""
    found = {}
    for key, name in names.items():
        try:
            found[key] = graph.get_tensor_by_name(name)
        except (KeyError, ValueError):
            raise ConversionError(f"the graph has no tensor {name!r}") from None
    if not found:
        raise ConversionError("a signature needs at least one tensor on each side")
    return found


def _write_beside(target: Path, write, force: bool, *, is_dir: bool) -> None:
    """``write(tmp)`` into a fresh name in ``target``'s folder, then rename it to ``target``.

    The target is replaced only with ``force``; an old one is moved aside first and removed
    once the new one is in place, so a failure at any step leaves one of the two whole.
    """
    folder = target.parent
    if not folder.is_dir():
        raise ConversionError(f"{folder}: no such folder")
    holder = Path(tempfile.mkdtemp(prefix=f".{target.name}.smlens-", dir=folder))
    try:
        tmp = holder / target.name
        write(tmp)
        if not (tmp.is_dir() if is_dir else tmp.is_file()):
            raise ConversionError(f"TensorFlow wrote nothing at {tmp}")
        old = None
        if os.path.lexists(target):
            if not force:
                raise ConversionError(f"{target} exists: give --force to replace it")
            old = holder / ".old"
            os.replace(target, old)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(holder, ignore_errors=True)
