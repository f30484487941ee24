"""TF1 sessions over graphs that have no signature to call, on one device: a frozen GraphDef
imported into a fresh Graph, a ``.meta`` restored from its checkpoint, or a SavedModel's meta
graph loaded by its tags. Worker-side: every function takes the ``tensorflow`` module the
worker imported, so importing this module never imports TensorFlow.

- ``import_frozen_graph(tf, path, device, text=None)``: ``tf.compat.v1.import_graph_def``
  of a ``.pb`` or ``.pbtxt`` (told by ``text``, else by its bytes) under ``name=""``, so
  tensors keep the names the file gives them;
- ``restore_meta_graph(tf, meta_path, checkpoint_prefix, device)``: ``import_meta_graph``
  and the saver's restore (a prefix may be empty: ``dir/`` restores ``dir/.index``);
- ``load_saved_model_graph(tf, path, tags, device)``: ``saved_model.loader.load``, any
  meta graph, signatures or not.

Each returns a ``GraphSession``: ``run(fetches, feeds)`` by tensor name, ``graph_def()``
for whoever freezes or wraps it, ``close()``. ``open_graph_session`` picks one of the three
by name (as a worker request says it), ``traced_run`` runs and says where each fetch ran.
Devices in the file are cleared and the graph is built under ``device`` with soft
placement, as the SavedModel path does: TF1 places ops when the graph is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


class GraphSessionError(Exception):
    """A file TensorFlow cannot turn into a session (bad GraphDef, no checkpoint...)."""


@dataclass
class GraphSession:
    """A session and its graph; ``kind`` says how it was made ("graph_def", "meta_graph",
    "saved_model"), ``restored`` whether variables came from a checkpoint."""

    tf: Any
    graph: Any
    session: Any
    kind: str
    restored: bool = False

    def tensor(self, name: str):
        """The graph's tensor ``name`` ("y:0"); GraphSessionError when it has none."""
        try:
            return self.graph.get_tensor_by_name(name)
        except (KeyError, ValueError) as e:
            raise GraphSessionError(f"no tensor {name!r} in the graph: {e}") from None

    def run(self, fetches: list[str], feeds: dict[str, Any], options=None, metadata=None):
        """The fetched tensors' values, in ``fetches`` order, with ``feeds`` fed by name."""
        fetched = [self.tensor(name) for name in fetches]
        feed_dict = {self.tensor(name): value for name, value in feeds.items()}
        return self.session.run(fetched, feed_dict, options, metadata)

    def graph_def(self):
        """The session's GraphDef, as convert_variables_to_constants takes it."""
        return self.graph.as_graph_def()

    def close(self) -> None:
        self.session.close()


def _session(tf, graph):
    v1 = tf.compat.v1
    return v1.Session(graph=graph, config=v1.ConfigProto(allow_soft_placement=True))


def read_graph_def(tf, path: str | Path, text: bool | None = None):
    """The GraphDef in ``path``: binary, or text format with ``text``; ``None`` tries the
    form the bytes look like first (text starts with a field name), then the other."""
    data = Path(path).read_bytes()
    if text is None:
        looks_text = data.lstrip()[:1].isalpha()
        forms = (True, False) if looks_text else (False, True)
    else:
        forms = (text,)
    error: Exception | None = None
    for as_text in forms:
        graph_def = tf.compat.v1.GraphDef()
        try:
            if as_text:
                from google.protobuf import text_format

                text_format.Parse(data.decode("utf-8"), graph_def)
            else:
                graph_def.ParseFromString(data)
            return graph_def
        except Exception as e:  # DecodeError, ParseError, UnicodeDecodeError
            error = e
    raise GraphSessionError(f"{path}: not a GraphDef: {error}")


def import_frozen_graph(
    tf, path: str | Path, device: str, text: bool | None = None
) -> GraphSession:
    """A session over the frozen GraphDef at ``path``, its ops placed on ``device``."""
    graph_def = read_graph_def(tf, path, text)
    for node in graph_def.node:
        node.device = ""
    graph = tf.Graph()
    with graph.as_default(), graph.device(device):
        tf.compat.v1.import_graph_def(graph_def, name="")
    return GraphSession(tf, graph, _session(tf, graph), "graph_def")


def restore_meta_graph(
    tf, meta_path: str | Path, checkpoint_prefix: str | None, device: str
) -> GraphSession:
    """A session over the ``.meta`` at ``meta_path``, its variables restored from
    ``checkpoint_prefix`` (None for a graph without variables: one with variables and no
    checkpoint is refused, as initial values would pass for trained ones).

    A meta graph whose saver_def is missing gets a default Saver over its global
    variables, as ``tf.train.Saver()`` would have written one. Lookup tables are
    initialized after the restore, as a SavedModel's main op would.
    """
    v1 = tf.compat.v1
    graph = tf.Graph()
    session = _session(tf, graph)
    with graph.as_default(), graph.device(device):
        saver = v1.train.import_meta_graph(str(meta_path), clear_devices=True)
        has_variables = bool(v1.global_variables())
        restored = has_variables
        if has_variables and checkpoint_prefix is None:
            session.close()
            raise GraphSessionError(f"{meta_path}: has variables but no checkpoint beside it")
        if has_variables:
            (saver or v1.train.Saver()).restore(session, str(checkpoint_prefix))
        session.run(v1.tables_initializer())
    return GraphSession(tf, graph, session, "meta_graph", restored=restored)


def load_saved_model_graph(tf, path: str | Path, tags: list[str], device: str) -> GraphSession:
    """A session over the meta graph of ``tags`` in the SavedModel at ``path``."""
    graph = tf.Graph()
    session = _session(tf, graph)
    with graph.as_default(), graph.device(device):
        load_tf1_saved_model(tf, session, tags, path)
    return GraphSession(tf, graph, session, "saved_model", restored=True)


def load_tf1_saved_model(tf, session, tags: list[str], path: str | Path):
    """``tf.compat.v1.saved_model.loader.load`` into ``session`` (devices cleared), its
    MetaGraphDef returned, without the deprecation warning TensorFlow logs on every call:
    a TF1 export has no other loader, and the warning would fill the run's log."""
    from tensorflow.python.util import deprecation

    with deprecation.silence():
        return tf.compat.v1.saved_model.loader.load(
            session, list(tags), str(path), clear_devices=True
        )


def open_graph_session(
    tf, source: str, path: str | Path, checkpoint: str | None, tags: list[str], device: str
) -> GraphSession:
    """The session ``source`` names: "graph_def" (``path`` a frozen GraphDef), "meta_graph"
    (``path`` a .meta, restored from ``checkpoint``) or "saved_model" (``path`` a folder,
    the meta graph of ``tags``)."""
    if source == "graph_def":
        return import_frozen_graph(tf, path, device)
    if source == "meta_graph":
        return restore_meta_graph(tf, path, checkpoint, device)
    if source == "saved_model":
        return load_saved_model_graph(tf, path, tags, device)
    raise GraphSessionError(f"{path}: cannot run a graph from a {source!r}")


def traced_run(session: GraphSession, fetches: list[str], feeds: dict[str, Any], first: bool):
    """``session.run``; the first call is traced, so its step stats say where each fetch
    was computed. Returns the values and, for the first call, {fetch: device}."""
    if not first:
        return session.run(fetches, feeds), {}
    v1 = session.tf.compat.v1
    options = v1.RunOptions(trace_level=v1.RunOptions.SOFTWARE_TRACE)
    metadata = v1.RunMetadata()
    values = session.run(fetches, feeds, options, metadata)
    placed = {
        node.node_name: stats.device
        for stats in metadata.step_stats.dev_stats
        for node in stats.node_stats
    }
    return values, {name: placed.get(name.rpartition(":")[0], "") for name in fetches}
