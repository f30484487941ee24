"""The neutral model every reader fills and every view reads: plain dataclasses, no protobuf.

Model -> meta graphs -> signatures, graph nodes, functions, object graph; plus the
checkpoint's variables and the assets on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from smlens.core.errors import Problem, SmlensError
from smlens.core.model.roles import WEIGHT
from smlens.core.model.text import format_dims

# The signature key TF1's Builder and TF2's save() give the model's init op (tables, assets):
# an op the loader runs, not a function a client calls (tf.saved_model.load drops it).
INIT_OP_KEY = "__saved_model_init_op"


@dataclass(frozen=True)
class Shape:
    """A tensor shape: ``dims`` is None for unknown rank, and -1 marks an unknown dim."""

    dims: tuple[int, ...] | None

    @property
    def known_rank(self) -> bool:
        return self.dims is not None

    @property
    def fully_defined(self) -> bool:
        return self.dims is not None and all(d >= 0 for d in self.dims)

    def num_elements(self) -> int | None:
        if not self.fully_defined:
            return None
        n = 1
        for d in self.dims:
            n *= d
        return n

    def __str__(self) -> str:
        if self.dims is None:
            return "<unknown rank>"
        return format_dims(self.dims)


@dataclass(frozen=True)
class TensorInfo:
    """One input or output of a signature (TensorInfo in meta_graph.proto)."""

    key: str
    dtype: str  # enum name, "DT_FLOAT"
    shape: Shape
    name: str  # graph tensor name "x:0"; "" for sparse and composite encodings
    encoding: str = "name"  # "name" | "coo_sparse" | "composite"
    coo_sparse: tuple[str, str, str] | None = None  # values, indices, dense_shape
    components: tuple[TensorInfo, ...] = ()  # composite tensors' parts
    type_spec: Any = None  # composite tensors' decoded TypeSpec


@dataclass(frozen=True)
class Signature:
    key: str
    method_name: str
    inputs: dict[str, TensorInfo]
    outputs: dict[str, TensorInfo]
    defaults: dict[str, Any] = field(default_factory=dict)  # input key -> default value


@dataclass(frozen=True)
class FuncRef:
    """A func attr value: the function's name and the attrs it is instantiated with."""

    name: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TensorValue:
    """A TensorProto's value (Const nodes, attr tensors): its serialized bytes, decoded on
    demand by the codec the reader attached (the model itself knows no wire format)."""

    dtype: str
    shape: Shape
    raw: bytes = field(repr=False, default=b"")  # the TensorProto, serialized deterministically
    _decode: Callable[[bytes], Any] | None = field(repr=False, compare=False, default=None)

    def numpy(self):
        if self._decode is None:
            raise ValueError(f"no decoder for this {self.dtype} value")
        return self._decode(self.raw)


@dataclass(frozen=True)
class Placeholder:
    """An attr whose value is bound when the enclosing function is instantiated."""

    name: str


@dataclass
class Node:
    """A NodeDef. Attrs are decoded from the reader's raw payload the first time they are
    asked for, by the codec the reader attached (decoding 100k nodes up front costs seconds)."""

    name: str
    op: str
    inputs: list[str]
    device: str = ""
    _attr_proto: Any = field(default=None, repr=False, compare=False)
    experimental_debug_info: list[str] = field(default_factory=list)
    _decode_attrs: Callable[[Any], dict[str, Any]] | None = field(
        default=None, repr=False, compare=False
    )

    @cached_property
    def attrs(self) -> dict[str, Any]:
        if self._attr_proto is None or self._decode_attrs is None:
            return {}
        return self._decode_attrs(self._attr_proto)

    @property
    def data_inputs(self) -> list[str]:
        return [i for i in self.inputs if not i.startswith("^")]

    @property
    def control_inputs(self) -> list[str]:
        return [i[1:] for i in self.inputs if i.startswith("^")]


@dataclass(frozen=True)
class ArgDef:
    """An input or output of an op or function signature (OpDef.ArgDef)."""

    name: str
    dtype: str = ""  # enum name when fixed
    type_attr: str = ""
    number_attr: str = ""
    type_list_attr: str = ""
    is_ref: bool = False
    description: str = ""


@dataclass(frozen=True)
class Call:
    """A node that calls a library function through a func or list(func) attr."""

    caller: str  # function name, or "" for the meta graph's main graph
    node: str
    attr: str  # "f", "body", "then_branch", "branches", ...
    callee: str


@dataclass
class Function:
    """A FunctionDef of the graph's library."""

    name: str
    inputs: list[ArgDef]
    outputs: list[ArgDef]
    nodes: list[Node]
    ret: dict[str, str]
    control_ret: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    arg_attrs: dict[int, dict[str, Any]] = field(default_factory=dict)
    resource_arg_unique_ids: dict[int, int] = field(default_factory=dict)
    is_stateful: bool = False
    description: str = ""


@dataclass
class Graph:
    """A GraphDef: its nodes and its function library."""

    nodes: list[Node]
    functions: dict[str, Function]
    producer: int | None = None
    min_consumer: int | None = None
    call_index: list[Call] | None = field(default=None, repr=False, compare=False)  # find_calls


@dataclass(frozen=True)
class Collection:
    """A collection_def entry: its kind and its values."""

    name: str
    kind: str  # "node_list" | "bytes_list" | "int64_list" | "float_list" | "any_list" | ""
    values: tuple


@dataclass(frozen=True)
class SaverInfo:
    filename_tensor_name: str
    save_tensor_name: str
    restore_op_name: str
    max_to_keep: int
    sharded: bool
    keep_checkpoint_every_n_hours: float
    version: str


@dataclass(frozen=True)
class AssetFile:
    """An asset_file_def: the graph tensor fed with the asset's path at load time."""

    tensor_name: str
    filename: str


@dataclass(frozen=True)
class TensorSpec:
    """A tf.TensorSpec as the object graph stores it (struct.proto)."""

    shape: Shape
    dtype: str  # short name, "float32"
    name: str | None = None
    kind: str = "TensorSpec"  # or "BoundedTensorSpec"
    minimum: Any = None
    maximum: Any = None


@dataclass(frozen=True)
class TypeSpec:
    """Any other tf.TypeSpec (ragged, sparse, dataset, ...): its class and decoded state."""

    type_name: str  # "RaggedTensorSpec", "SparseTensorSpec", ...
    state: Any
    num_flat_components: int = 0


@dataclass(frozen=True)
class NamedTuple:
    name: str
    fields: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class ConcreteFunction:
    """A concrete function of the object graph (SavedConcreteFunction)."""

    name: str
    bound_inputs: tuple[int, ...]  # object graph node ids of captured variables/resources
    input_signature: Any  # (args tuple, kwargs dict) of TensorSpec / containers, or None
    output_signature: Any
    argument_keywords: tuple[str, ...] = ()  # bare concrete functions only
    allowed_positional_arguments: int = 0


@dataclass(frozen=True)
class SavedVariable:
    name: str
    dtype: str  # enum name
    shape: Shape
    trainable: bool
    device: str = ""
    synchronization: int = 0
    aggregation: int = 0


@dataclass
class ObjectNode:
    """A node of the TF2 object graph (SavedObject), with the path that first reaches it."""

    id: int
    kind: str  # user_object, variable, function, bare_concrete_function, asset, constant,
    #  resource, captured_tensor, or "" when the proto leaves it empty
    children: list[tuple[str, int]]
    path: str = ""  # "model.layer_with_weights-0.kernel"; "" for the root
    identifier: str = ""  # user_object.identifier: "_generic_user_object", "trackable_list_wrapper"
    variable: SavedVariable | None = None
    concrete_functions: tuple[str, ...] = ()  # function / bare_concrete_function
    asset_index: int | None = None
    registered_name: str = ""
    slot_variables: list[tuple[int, str, int]] = field(default_factory=list)
    checkpoint_keys: dict[str, str] = field(default_factory=dict)  # attr name -> key


@dataclass
class ObjectGraph:
    nodes: list[ObjectNode]
    concrete_functions: dict[str, ConcreteFunction]

    def children_of(self, node_id: int) -> list[tuple[str, ObjectNode]]:
        return [(name, self.nodes[i]) for name, i in self.nodes[node_id].children]


@dataclass
class MetaGraph:
    tags: list[str]  # in stored order
    signatures: dict[str, Signature]
    graph: Graph
    tf_version: str = ""
    tf_git_version: str = ""
    meta_graph_version: str = ""
    stripped_default_attrs: bool = False
    stripped_op_list: list[str] = field(default_factory=list)
    collections: dict[str, Collection] = field(default_factory=dict)
    saver: SaverInfo | None = None
    asset_files: list[AssetFile] = field(default_factory=list)
    object_graph: ObjectGraph | None = None
    function_aliases: dict[str, str] = field(default_factory=dict)
    # Results of whole-graph passes (op counts, the risky-op scan), computed once by
    # core.analysis and shared by every reader: treat them as read-only.
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def functions(self) -> dict[str, Function]:
        return self.graph.functions

    @property
    def tag_set(self) -> str:
        return ",".join(self.tags)

    @property
    def callable_signatures(self) -> dict[str, Signature]:
        """The signatures a client can call: all but the init op's (``INIT_OP_KEY``)."""
        return {k: s for k, s in self.signatures.items() if k != INIT_OP_KEY}


@dataclass(frozen=True)
class Fingerprint:
    saved_model_checksum: int
    graph_def_program_hash: int
    signature_def_hash: int
    saved_object_graph_hash: int
    checkpoint_hash: int
    version: int
    uuid: str = ""


@dataclass
class Variable:
    """A tensor of the checkpoint, with the name the object graph gives it."""

    key: str  # checkpoint key, "variables/0/.ATTRIBUTES/VARIABLE_VALUE"
    name: str  # resolved name: "dense_1/kernel" (TF1: the key itself)
    dtype: str  # enum name
    shape: Shape
    object_path: str = ""  # "variables.0" (TF2 only)
    object_id: int | None = None  # node id in the object graph (TF2 only)
    trainable: bool | None = None
    device: str = ""
    slot_of: str | None = None  # resolved name of the weight this optimizer state belongs to
    slot_name: str | None = None  # "m", "v", "momentum", "Adam_1"
    sliced: bool = False  # a partitioned variable, stored as slices
    constant: bool = False  # a frozen weight: a Const node's tensor (key: its tensor name)
    consumer: str = ""  # constants: the op that reads it, "MatMul hidden/MatMul"
    role: str = WEIGHT  # one of core.model.roles.ROLES, given by core.formats.roles

    @property
    def is_weight(self) -> bool:
        return self.role == WEIGHT

    @property
    def num_elements(self) -> int:
        return self.shape.num_elements() or 0

    @property
    def nbytes(self) -> int | None:
        from smlens.core.model.dtypes import itemsize

        size = itemsize(self.dtype)
        return None if size is None else size * self.num_elements


@dataclass(frozen=True)
class Asset:
    path: str  # relative to the model folder: "assets/vocab.txt"
    size: int
    extra: bool = False  # under assets.extra/


def _key_rank(v: Variable) -> tuple:
    parts = v.object_path.split(".") if v.object_path else v.key.split("/")
    return (sum(p.startswith("_") for p in parts), len(parts), v.key)


class TensorSource(Protocol):
    """Where variable values come from: the stored entries (dtype, shape, checksum) are read
    when the model opens, values only when asked for; nothing is mapped until then. The
    checkpoint reader (``formats.bundle.TensorBundle``) is the one implementation."""

    entries: dict[str, Any]

    def read(self, key: str, *, verify: bool = False) -> Any: ...

    def close(self) -> None: ...


@dataclass
class Model:
    path: Path
    format: str  # "saved_model", "checkpoint", "meta_graph", "graph_def"
    meta_graphs: list[MetaGraph] = field(default_factory=list)
    schema_version: int | None = None
    fingerprint: Fingerprint | None = None
    variables: list[Variable] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    keras_metadata: bool = False
    files: dict[str, int] = field(default_factory=dict)  # relative path -> bytes on disk
    problems: list[Problem] = field(default_factory=list)
    checkpoint: TensorSource | None = field(default=None, repr=False)  # values on demand
    # The reader's scan for frozen weights (big Const nodes), run by ``constants()`` once.
    constant_finder: Callable[[Model], tuple[list[Variable], TensorSource]] | None = field(
        default=None, repr=False, compare=False
    )

    def meta_graph(self, tag_set: str | list[str]) -> MetaGraph:
        """The meta graph whose tags equal ``tag_set`` ("serve,gpu" or a list), in any order;
        SmlensError naming the tag-sets there are when none does."""
        wanted = {t for t in (tag_set.split(",") if isinstance(tag_set, str) else tag_set) if t}
        for mg in self.meta_graphs:
            if set(mg.tags) == wanted:
                return mg
        asked = tag_set if isinstance(tag_set, str) else ",".join(tag_set)
        have = ", ".join(repr(mg.tag_set) for mg in self.meta_graphs) or "none"
        raise SmlensError(
            self.path, f"no MetaGraphDef with tag-set {asked!r}; the tag-sets are: {have}"
        )

    def variable(self, name: str) -> Variable:
        """Find a variable by checkpoint key, resolved name, object path, or a unique
        "/"-suffix of a resolved name ("dense_1/kernel" for "sequential/dense_1/kernel").

        One variable stored under several keys (Keras exports track each twice) counts once,
        and is found as its first key (see ``distinct_variables``).
        """
        tests = (
            lambda v: v.key == name,
            lambda v: v.name == name,
            lambda v: v.object_path == name,
            lambda v: v.name.endswith("/" + name),
        )
        first = self._first_keys()
        for test in tests:
            hits = [v for v in self.variables if test(v)]
            firsts = {first[v.key] for v in hits}
            if len(firsts) == 1:
                key = firsts.pop()
                return next(v for v in self.variables if v.key == key)
            if hits:
                keys = ", ".join(v.key for v in hits[:5])
                raise KeyError(f"{name!r} names {len(hits)} variables; use a key: {keys}")
        raise KeyError(name)

    def variable_groups(self) -> list[list[Variable]]:
        """The variables grouped by the tensor they hold, first key first, in stored order.

        Keras exports track each variable twice (``variables/N`` and ``_all_variables/N``):
        two object-graph nodes whose checkpoint entries hold the same bytes. Entries are one
        tensor when they share name, dtype, shape and stored checksum; the name keeps two
        zero-initialised biases apart. The first key is the one without private (``_``)
        path parts, then the shortest, as ``tf.saved_model.load(...).variables`` names it.
        """
        cached = self.__dict__.get("_groups")
        if cached is not None and cached[0] is self.variables and cached[1] == len(self.variables):
            return cached[2]
        entries = getattr(self.checkpoint, "entries", {})
        groups: dict[tuple, list[Variable]] = {}
        for v in self.variables:
            crc = getattr(entries.get(v.key), "crc32c", None)
            ident = (v.name, v.dtype, v.shape, crc) if crc is not None else (v.key,)
            groups.setdefault(ident, []).append(v)
        order = {v.key: i for i, v in enumerate(self.variables)}
        result = sorted(
            (sorted(g, key=_key_rank) for g in groups.values()), key=lambda g: order[g[0].key]
        )
        self.__dict__["_groups"] = (self.variables, len(self.variables), result)
        return result

    def distinct_variables(self) -> list[Variable]:
        """One Variable per stored tensor (the first key of each ``variable_groups`` group)."""
        return [g[0] for g in self.variable_groups()]

    def aliases(self, variable: Variable) -> list[str]:
        """The other checkpoint keys that store the same tensor as ``variable``."""
        for group in self.variable_groups():
            if any(v.key == variable.key for v in group):
                return [v.key for v in group if v.key != variable.key]
        return []

    def _first_keys(self) -> dict[str, str]:
        return {v.key: g[0].key for g in self.variable_groups() for v in g}

    def constants(self) -> list[Variable]:
        """The frozen weights: Const tensors of the main graphs whose stored values take at
        least ``constants.CONSTANT_MIN_BYTES``, as Variables marked ``constant``. Found on
        the first call (a scan of every node), then kept."""
        found = self.__dict__.get("_constants")
        if found is None:
            found = ([], None) if self.constant_finder is None else self.constant_finder(self)
            self.__dict__["_constants"] = found
        return found[0]

    def tensors(self) -> list[Variable]:
        """Every tensor with values: the distinct variables, then the frozen constants."""
        return self.distinct_variables() + self.constants()

    def has_values(self) -> bool:
        """Whether any tensor's values can be read (a checkpoint or frozen constants)."""
        return self.checkpoint is not None or bool(self.constants())

    def constant_source(self) -> TensorSource | None:
        """What reads the frozen constants' values; None when the model has none."""
        self.constants()
        return self.__dict__["_constants"][1]

    def source_of(self, key: str) -> TensorSource | None:
        """Where the values stored under ``key`` are read: the constants or the checkpoint."""
        source = self.constant_source()
        if source is not None and key in source.entries:
            return source
        return self.checkpoint

    def read_tensor(self, key: str) -> Any:
        """The values of the variable or constant stored under ``key``."""
        source = self.source_of(key)
        if source is None:
            raise KeyError(key)
        return source.read(key)

    def tensor(self, name: str) -> Variable:
        """A variable (as ``variable`` finds it), else a constant by tensor name, node name
        or a unique "/"-suffix of it; KeyError when none or several match."""
        try:
            return self.variable(name)
        except KeyError as e:
            if e.args and e.args[0] != name:
                raise
        constants = self.constants()
        for test in (
            lambda c: c.key == name or c.name == name,
            lambda c: c.name.endswith("/" + name),
        ):
            hits = [c for c in constants if test(c)]
            if len(hits) == 1:
                return hits[0]
            if hits:
                keys = ", ".join(c.key for c in hits[:5])
                raise KeyError(f"{name!r} names {len(hits)} constants; use a tensor name: {keys}")
        raise KeyError(name)

    def bytes_by_part(self) -> dict[str, int]:
        """Bytes on disk split between graph, variables, assets and other files."""
        parts = {"graph": 0, "variables": 0, "assets": 0, "other": 0}
        for rel, size in self.files.items():
            top = rel.split("/", 1)[0]
            if top == "variables" or ".data-" in rel or rel.endswith(".index"):
                parts["variables"] += size
            elif top in ("assets", "assets.extra"):
                parts["assets"] += size
            elif rel.endswith((".pb", ".pbtxt", ".meta")):
                parts["graph"] += size
            else:
                parts["other"] += size
        return parts
