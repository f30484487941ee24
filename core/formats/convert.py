"""Turn parsed protos (MetaGraphDef, GraphDef, SavedObjectGraph) into the neutral model."""

from __future__ import annotations

from collections import deque
from dataclasses import replace

from smlens.core.formats.attrs import decode_attr_map, decode_shape, decode_tensor
from smlens.core.formats.structure import decode_structure, decode_type_spec
from smlens.core.model import (
    ArgDef,
    AssetFile,
    Collection,
    ConcreteFunction,
    Function,
    Graph,
    MetaGraph,
    Node,
    ObjectGraph,
    ObjectNode,
    SavedVariable,
    SaverInfo,
    Signature,
    TensorInfo,
)
from smlens.core.model.dtypes import dtype
from smlens.core.tasks import gc_paused


def convert_node(proto) -> Node:
    return Node(
        name=proto.name,
        op=proto.op,
        inputs=proto.input[:],  # a list; slicing is faster than list()
        device=proto.device,
        _attr_proto=proto.attr,
        _decode_attrs=decode_attr_map,
        experimental_debug_info=(
            list(proto.experimental_debug_info.original_node_names)
            if proto.HasField("experimental_debug_info")
            else []
        ),
    )


def _arg(proto) -> ArgDef:
    return ArgDef(
        name=proto.name,
        dtype=dtype(proto.type).name if proto.type else "",
        type_attr=proto.type_attr,
        number_attr=proto.number_attr,
        type_list_attr=proto.type_list_attr,
        is_ref=proto.is_ref,
        description=proto.description,
    )


def convert_function(proto) -> Function:
    sig = proto.signature
    return Function(
        name=sig.name,
        inputs=[_arg(a) for a in sig.input_arg],
        outputs=[_arg(a) for a in sig.output_arg],
        nodes=[convert_node(n) for n in proto.node_def],
        ret=dict(sorted(proto.ret.items())),
        control_ret=dict(sorted(proto.control_ret.items())),
        attrs=decode_attr_map(proto.attr),
        arg_attrs={int(i): decode_attr_map(a.attr) for i, a in sorted(proto.arg_attr.items())},
        resource_arg_unique_ids=dict(sorted(proto.resource_arg_unique_id.items())),
        is_stateful=sig.is_stateful,
        description=sig.description,
    )


class LazyGraph(Graph):
    """A Graph whose nodes are converted the first time they are asked for.

    Converting a NodeDef costs microseconds, and a frozen graph may hold a million of them:
    opening a model and ``show`` without flags never touch the nodes, so they pay nothing.
    """

    def __init__(self, proto, **fields):
        self._node_protos = proto.node
        self._nodes: list[Node] | None = None
        self._ops: list[str] | None = None
        super().__init__(nodes=None, **fields)

    @property
    def nodes(self) -> list[Node]:
        if self._nodes is None:
            with gc_paused():
                self._nodes = [convert_node(n) for n in self._node_protos]
            self._node_protos = None
        return self._nodes

    @nodes.setter
    def nodes(self, value: list[Node] | None) -> None:
        if value is not None:
            self._nodes = value
            self._ops = None

    @property
    def converted(self) -> bool:
        return self._nodes is not None

    def node_count(self) -> int:
        return len(self._nodes if self._nodes is not None else self._node_protos)

    def node_ops(self) -> list[str]:
        if self._ops is None:  # a tenth of the cost of converting the nodes
            source = self._nodes if self._nodes is not None else self._node_protos
            self._ops = [n.op for n in source]
        return self._ops

    def node_name(self, index: int) -> str:
        source = self._nodes if self._nodes is not None else self._node_protos
        return source[index].name

    def find_node(self, name: str) -> Node | None:
        if self._nodes is not None:
            return next((n for n in self._nodes if n.name == name), None)
        found = next((n for n in self._node_protos if n.name == name), None)
        return convert_node(found) if found is not None else None  # no index: 140 MiB at 1M


def node_count(graph: Graph) -> int:
    """How many nodes ``graph`` holds, without converting a lazy graph's nodes."""
    return graph.node_count() if isinstance(graph, LazyGraph) else len(graph.nodes)


def node_ops(graph: Graph) -> list[str]:
    """Each node's op, in node order, without converting a lazy graph's nodes (counting
    the ops of a million-node graph then costs 0.5 s instead of 4 s and 600 MiB)."""
    return graph.node_ops() if isinstance(graph, LazyGraph) else [n.op for n in graph.nodes]


def node_defs(graph: Graph):
    """The NodeDefs of a lazy graph whose nodes are not converted yet, else None: a pass
    that needs only names, ops and attrs reads them without converting."""
    return graph._node_protos if isinstance(graph, LazyGraph) and not graph.converted else None


def find_node(graph: Graph, name: str) -> Node | None:
    """The node called ``name``, converting only that one of a lazy graph's nodes."""
    if isinstance(graph, LazyGraph):
        return graph.find_node(name)
    return next((n for n in graph.nodes if n.name == name), None)


def node_name(graph: Graph, index: int) -> str:
    """The name of the node at ``index``, without converting a lazy graph's nodes."""
    return graph.node_name(index) if isinstance(graph, LazyGraph) else graph.nodes[index].name


def convert_graph(proto) -> Graph:
    return LazyGraph(
        proto,
        functions={f.signature.name: convert_function(f) for f in proto.library.function},
        producer=proto.versions.producer if proto.HasField("versions") else None,
        min_consumer=proto.versions.min_consumer if proto.HasField("versions") else None,
    )


def convert_tensor_info(key: str, proto) -> TensorInfo:
    encoding = proto.WhichOneof("encoding") or "name"
    info = TensorInfo(
        key=key,
        dtype=dtype(proto.dtype).name,
        shape=decode_shape(proto.tensor_shape),
        name=proto.name,
        encoding="composite" if encoding == "composite_tensor" else encoding,
    )
    if encoding == "coo_sparse":
        coo = proto.coo_sparse
        return replace(
            info,
            coo_sparse=(
                coo.values_tensor_name,
                coo.indices_tensor_name,
                coo.dense_shape_tensor_name,
            ),
        )
    if encoding == "composite_tensor":
        comp = proto.composite_tensor
        return replace(
            info,
            components=tuple(convert_tensor_info(str(i), c) for i, c in enumerate(comp.components)),
            type_spec=decode_type_spec(comp.type_spec),
        )
    return info


def convert_signature(key: str, proto) -> Signature:
    return Signature(
        key=key,
        method_name=proto.method_name,
        inputs={k: convert_tensor_info(k, proto.inputs[k]) for k in sorted(proto.inputs)},
        outputs={k: convert_tensor_info(k, proto.outputs[k]) for k in sorted(proto.outputs)},
        defaults={k: decode_tensor(proto.defaults[k]) for k in sorted(proto.defaults)},
    )


def _collection(name: str, proto) -> Collection:
    kind = proto.WhichOneof("kind") or ""
    if not kind:
        return Collection(name, "", ())
    values = getattr(proto, kind).value
    if kind == "any_list":
        return Collection(name, kind, tuple(v.type_url for v in values))
    return Collection(name, kind, tuple(values))


def _saver(proto) -> SaverInfo:
    return SaverInfo(
        filename_tensor_name=proto.filename_tensor_name,
        save_tensor_name=proto.save_tensor_name,
        restore_op_name=proto.restore_op_name,
        max_to_keep=proto.max_to_keep,
        sharded=proto.sharded,
        keep_checkpoint_every_n_hours=proto.keep_checkpoint_every_n_hours,
        version=["LEGACY", "V1", "V2"][proto.version] if proto.version < 3 else str(proto.version),
    )


def convert_meta_graph(proto) -> MetaGraph:
    info = proto.meta_info_def
    return MetaGraph(
        tags=list(info.tags),
        signatures={
            k: convert_signature(k, proto.signature_def[k]) for k in sorted(proto.signature_def)
        },
        graph=convert_graph(proto.graph_def),
        tf_version=info.tensorflow_version,
        tf_git_version=info.tensorflow_git_version,
        meta_graph_version=info.meta_graph_version,
        stripped_default_attrs=info.stripped_default_attrs,
        stripped_op_list=[op.name for op in info.stripped_op_list.op],
        collections={
            k: _collection(k, proto.collection_def[k]) for k in sorted(proto.collection_def)
        },
        saver=_saver(proto.saver_def) if proto.HasField("saver_def") else None,
        asset_files=[AssetFile(a.tensor_info.name, a.filename) for a in proto.asset_file_def],
        object_graph=(
            convert_object_graph(proto.object_graph_def)
            if proto.HasField("object_graph_def")
            else None
        ),
        function_aliases=dict(sorted(info.function_aliases.items())),
    )


def object_paths(children: list[list[tuple[str, int]]], sep: str = ".") -> list[str]:
    """The first path (breadth-first from node 0) that reaches each node: "model.dense.kernel"."""
    paths: list[str | None] = [None] * len(children)
    if not children:
        return []
    paths[0] = ""
    queue = deque([0])
    while queue:
        node = queue.popleft()
        for name, child in children[node]:
            if 0 <= child < len(paths) and paths[child] is None:
                paths[child] = f"{paths[node]}{sep}{name}" if paths[node] else name
                queue.append(child)
    return [p if p is not None else f"<unreachable {i}>" for i, p in enumerate(paths)]


def _variable(proto) -> SavedVariable:
    return SavedVariable(
        name=proto.name,
        dtype=dtype(proto.dtype).name,
        shape=decode_shape(proto.shape),
        trainable=proto.trainable,
        device=proto.device,
        synchronization=proto.synchronization,
        aggregation=proto.aggregation,
    )


def _object_node(i: int, proto, path: str, count: int) -> ObjectNode:
    kind = proto.WhichOneof("kind") or ""
    node = ObjectNode(
        id=i,
        kind=kind,
        children=[(c.local_name, c.node_id) for c in proto.children if 0 <= c.node_id < count],
        path=path,
        registered_name=proto.registered_name,
        slot_variables=[
            (s.original_variable_node_id, s.slot_name, s.slot_variable_node_id)
            for s in proto.slot_variables
        ],
    )
    if kind == "user_object":
        node.identifier = proto.user_object.identifier
    elif kind == "variable":
        node.variable = _variable(proto.variable)
    elif kind == "function":
        node.concrete_functions = tuple(proto.function.concrete_functions)
    elif kind == "bare_concrete_function":
        node.concrete_functions = (proto.bare_concrete_function.concrete_function_name,)
    elif kind == "asset":
        node.asset_index = proto.asset.asset_file_def_index
    return node


def dangling_children(proto) -> list[tuple[int, int]]:
    """(node, child id) for each child reference past the end of a SavedObjectGraph; the
    converted graph leaves them out."""
    count = len(proto.nodes)
    return [
        (i, c.node_id)
        for i, n in enumerate(proto.nodes)
        for c in n.children
        if not 0 <= c.node_id < count
    ]


def convert_object_graph(proto) -> ObjectGraph:
    children = [[(c.local_name, c.node_id) for c in n.children] for n in proto.nodes]
    paths = object_paths(children)
    nodes = [_object_node(i, n, paths[i], len(proto.nodes)) for i, n in enumerate(proto.nodes)]
    bare = {
        n.bare_concrete_function.concrete_function_name: n.bare_concrete_function
        for n in proto.nodes
        if n.WhichOneof("kind") == "bare_concrete_function"
    }
    functions = {}
    for name in sorted(proto.concrete_functions):
        fn = proto.concrete_functions[name]
        b = bare.get(name)
        functions[name] = ConcreteFunction(
            name=name,
            bound_inputs=tuple(fn.bound_inputs),
            input_signature=(
                decode_structure(fn.canonicalized_input_signature)
                if fn.HasField("canonicalized_input_signature")
                else None
            ),
            output_signature=(
                decode_structure(fn.output_signature) if fn.HasField("output_signature") else None
            ),
            argument_keywords=tuple(b.argument_keywords) if b else (),
            allowed_positional_arguments=b.allowed_positional_arguments if b else 0,
        )
    return ObjectGraph(nodes=nodes, concrete_functions=functions)
