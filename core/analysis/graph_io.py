"""Feeds and fetches of a graph that has no signature: what a person would feed, freeze or
serve, found in the main graph's dataflow.

``graph_io(meta_graph)`` returns a ``GraphIO``:

- ``feeds``: every Placeholder and PlaceholderWithDefault a client feeds, with its dtype,
  shape and (for PlaceholderWithDefault) the tensor it falls back to;
- ``fetches``: candidate outputs, best first (``rank`` 1 is the likeliest), each with the
  reason it was kept. They are the dataflow's sinks once the plumbing is taken away: the
  saver (save/restore), initializers, summaries, the optimizer and the gradients. A loss
  (a sink read only by that plumbing) stays, ranked after the model's own outputs;
- ``left_out``: every other sink and placeholder, each with the reason it was left out.

Plumbing is recognised by op (``SaveV2``, ``ApplyAdam``, ``ScalarSummary``, ...), by the
saver_def's tensors and scope, and by TensorFlow's scope names (``gradients/``,
``*/Initializer/``); whatever consumes plumbing (a train op's ``NoOp``, ``Adam/Assign``) is
plumbing too. Computed once per meta graph (``MetaGraph.derived["graph_io"]``); the node
protos of a lazy graph are read without converting them.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from smlens.core.formats import proto
from smlens.core.formats.convert import convert_node, node_defs
from smlens.core.model import MetaGraph, Node, Shape, TensorValue

PLACEHOLDER_OPS = frozenset({"Placeholder", "PlaceholderV2", "PlaceholderWithDefault"})
VARIABLE_OPS = frozenset({"VariableV2", "Variable", "VarHandleOp", "TemporaryVariable"})
CONSTANT_OPS = frozenset({"Const", "HostConst"})

# Reasons a node is plumbing, in the words the feeds-and-fetches section prints.
SAVER = "save/restore plumbing"
INIT = "initializer"
SUMMARY = "summary"
OPTIMIZER = "optimizer update"
GRADIENT = "gradient computation"

_SAVER_OPS = frozenset(
    {
        "SaveV2",
        "Save",
        "SaveSlices",
        "RestoreV2",
        "Restore",
        "RestoreSlice",
        "MergeV2Checkpoints",
        "ShardedFilename",
        "ShardedFilespec",
    }
)
_SUMMARY_OPS = frozenset(
    {
        "ScalarSummary",
        "HistogramSummary",
        "ImageSummary",
        "AudioSummary",
        "AudioSummaryV2",
        "TensorSummary",
        "TensorSummaryV2",
        "MergeSummary",
        "WriteSummary",
        "WriteScalarSummary",
        "WriteHistogramSummary",
        "WriteImageSummary",
        "WriteAudioSummary",
        "WriteGraphSummary",
        "WriteRawProtoSummary",
        "FlushSummaryWriter",
        "CloseSummaryWriter",
        "CreateSummaryFileWriter",
        "CreateSummaryDbWriter",
        "SummaryWriter",
    }
)
_INIT_OPS = frozenset(
    {
        "VarIsInitializedOp",
        "IsVariableInitialized",
        "InitializeTable",
        "InitializeTableV2",
        "InitializeTableFromTextFile",
        "InitializeTableFromTextFileV2",
        "InitializeTableFromDataset",
    }
)
# Where the data of a graph without placeholders comes in (an Estimator's input pipeline).
SOURCE_OPS = frozenset(
    {
        "IteratorGetNext",
        "IteratorGetNextSync",
        "QueueDequeue",
        "QueueDequeueV2",
        "QueueDequeueMany",
        "QueueDequeueManyV2",
        "QueueDequeueUpTo",
        "QueueDequeueUpToV2",
        "ReaderRead",
        "ReaderReadV2",
    }
)
_HANDLE_DTYPES = frozenset({"DT_VARIANT", "DT_RESOURCE"})
_SHAPE_OPS = frozenset({"Shape", "ShapeN", "Size", "Rank"})
_SAVER_SCOPE = re.compile(r"^save(_\d+)?$")
_APPLY_OP = re.compile(r"^(Resource)?(Sparse)?Apply[A-Z]")
_GRADIENT_SCOPE = re.compile(r"^gradients(_\d+)?$")
_INIT_SCOPES = frozenset({"Initializer", "initial_value", "report_uninitialized_variables"})
_NUMBERED = re.compile(r"_\d+$")
# Names TensorFlow's Python wrappers give ops when the caller names none ("add_3", "mul").
_WRAPPER_NAMES = frozenset(
    {
        "add",
        "sub",
        "mul",
        "truediv",
        "div",
        "floordiv",
        "mod",
        "neg",
        "pow",
        "and",
        "or",
        "not",
        "concat",
        "stack",
        "strided_slice",
        "transpose",
        "sum",
        "mean",
        "max",
        "min",
        "prod",
        "argmax",
        "argmin",
        "const",
        "identity",
        "cast",
    }
)


_UNKNOWN = Shape(None)


@dataclass(frozen=True)
class Feed:
    """A placeholder a client feeds: ``name`` is the node; ``tensor`` what a feed dict keys."""

    name: str
    dtype: str  # enum name, "DT_FLOAT"; "" when the node does not say
    shape: Shape
    op: str = "Placeholder"
    default: str | None = None  # PlaceholderWithDefault: the tensor it falls back to
    default_value: TensorValue | None = field(default=None, compare=False)  # when a Const
    output: int = 0  # which output of the node is fed (a signature may feed any tensor)

    @property
    def tensor(self) -> str:
        return f"{self.name}:{self.output}"


@dataclass(frozen=True)
class Fetch:
    """A candidate output tensor: ``name`` is the tensor ("y:0"), ``rank`` 1 the likeliest."""

    name: str
    rank: int
    reason: str
    op: str = ""
    dtype: str = ""  # enum name when the op's OpDef or the node's attrs say
    shape: Shape = _UNKNOWN  # from the node's _output_shapes, when it has them

    @property
    def node(self) -> str:
        """The node's name, as convert_variables_to_constants takes output names."""
        return self.name.rpartition(":")[0]


@dataclass(frozen=True)
class LeftOut:
    """A sink or placeholder that is not a candidate, and why."""

    name: str  # node name
    op: str
    reason: str
    kind: str = "fetch"  # "fetch" | "feed"


@dataclass
class GraphIO:
    feeds: list[Feed]
    fetches: list[Fetch]
    left_out: list[LeftOut]

    @property
    def output_nodes(self) -> list[str]:
        """The fetches' node names, best first, each once: what a freeze takes."""
        return list(dict.fromkeys(f.node for f in self.fetches))


def graph_io(mg: MetaGraph) -> GraphIO:
    """The feeds and ranked fetches of ``mg``'s main graph (computed once, then shared)."""
    found = mg.derived.get("graph_io")
    if found is None:
        found = mg.derived["graph_io"] = _graph_io(mg)
    return found


def _split_input(text: str) -> tuple[str, int, bool]:
    """ "^a" -> ("a", -1, True); "a:1" -> ("a", 1, False); "a" -> ("a", 0, False)."""
    if text.startswith("^"):
        return text[1:], -1, True
    name, sep, index = text.rpartition(":")
    if sep and index.isdigit():
        return name, int(index), False
    return text, 0, False


class _Nodes:
    """Names, ops and inputs of the main graph, from NodeDefs when they are not converted."""

    def __init__(self, mg: MetaGraph):
        protos = node_defs(mg.graph)
        self.protos = protos
        source = protos if protos is not None else mg.graph.nodes
        self.names = [n.name for n in source]
        self.ops = [n.op for n in source]
        self.inputs = [n.input if protos is not None else n.inputs for n in source]
        self.graph = mg.graph
        self.index = {name: i for i, name in enumerate(self.names)}

    def node(self, i: int) -> Node:
        return convert_node(self.protos[i]) if self.protos is not None else self.graph.nodes[i]


def _graph_io(mg: MetaGraph) -> GraphIO:
    nodes = _Nodes(mg)
    count = len(nodes.names)
    index = nodes.index
    consumers: list[list[tuple[int, bool]]] = [[] for _ in range(count)]
    for j, inputs in enumerate(nodes.inputs):
        for text in inputs:
            name, _, control = _split_input(text)
            i = index.get(name)
            if i is not None:
                consumers[i].append((j, control))

    plumbing = _plumbing(mg, nodes, consumers)
    feeds, left_feeds = _feeds(mg, nodes, plumbing)
    signed_inputs = [index[n] for n in _signature_inputs(mg) if n in index]
    starts = (
        signed_inputs
        or [index[f.name] for f in feeds]
        or [i for i, op in enumerate(nodes.ops) if op in SOURCE_OPS and plumbing[i] is None]
    )
    fed = _reached(nodes, consumers, plumbing, starts)
    not_fed = "depends on no signature input" if signed_inputs else ""
    signature_outputs = _signature_outputs(mg)
    kept: list[tuple[tuple, Fetch]] = []
    left: list[LeftOut] = list(left_feeds)
    for i in range(count):
        data_readers = [j for j, control in consumers[i] if not control]
        op = nodes.ops[i]
        name = nodes.names[i]
        signed = [k for k in signature_outputs.get(name, {}) if plumbing[i] is None]
        if plumbing[i] is not None:
            if not data_readers:
                left.append(LeftOut(name, op, plumbing[i]))
            continue
        if any(plumbing[j] is None for j in data_readers):
            if signed:  # a signature's output the model reads on (scores -> prediction)
                kept += _fetches(nodes.node(i), i, signed, signature_outputs[name], ())
            continue
        why_not = _left_out_reason(nodes, i, data_readers, plumbing, bool(starts), fed[i])
        why_not = not_fed if why_not.startswith("does not depend") and not_fed else why_not
        if why_not and not signed:
            if op not in PLACEHOLDER_OPS:
                left.append(LeftOut(name, op, why_not))
            continue
        node = nodes.node(i)
        outputs = range(len(_outputs(node)))
        if not outputs:
            left.append(LeftOut(name, op, "has no output tensor: it runs for its effect"))
            continue
        read_by = sorted({plumbing[j] for j in data_readers})
        kept += _fetches(node, i, outputs, signature_outputs.get(name, {}), read_by)
    if signed_inputs:  # the signatures are the interface: other sinks are no candidates
        left += [
            LeftOut(f.node, f.op, "a sink no signature returns") for _, f in kept if not _signed(f)
        ]
        kept = [(order, f) for order, f in kept if _signed(f)]
    handles = [f for _, f in kept if f.dtype in _HANDLE_DTYPES and "signature" not in f.reason]
    for f in handles:
        left.append(LeftOut(f.name, f.op, f"a {f.dtype[3:].lower()} handle, not a value"))
    kept = [(order, f) for order, f in kept if f not in handles]
    kept.sort(key=lambda pair: pair[0])
    if signed_inputs:
        wanted = {nodes.names[i] for i in signed_inputs}
        feeds += _signature_fed(mg, {f.name for f in feeds}, nodes)
        left += [
            LeftOut(f.name, f.op, "fed by no signature", "feed")
            for f in feeds
            if f.name not in wanted
        ]
        feeds = [f for f in feeds if f.name in wanted]
    feeds, unread = _live_feeds(nodes, feeds, [index[f.node] for _, f in kept])
    left += unread
    fetches = [
        Fetch(f.name, rank, f.reason, f.op, f.dtype, f.shape) for rank, (_, f) in enumerate(kept, 1)
    ]
    return GraphIO(feeds=feeds, fetches=fetches, left_out=left)


def _fetches(node: Node, i: int, outputs, signed: dict[int, str], read_by) -> list:
    """(sort key, Fetch) for the given outputs of ``node``: signature outputs first, then
    the model's own sinks with a chosen name, latest made first, then a loss."""
    dtypes = _outputs(node)
    shapes = node.attrs.get("_output_shapes")
    if not isinstance(shapes, list):  # a damaged attr may hold another kind of value
        shapes = []
    found = []
    for k in outputs:
        shape = shapes[k] if k < len(shapes) and isinstance(shapes[k], Shape) else Shape(None)
        if k in signed:
            reason = f"an output of signature {signed[k]}"
        elif read_by:
            readers = " and ".join(_plural(r) for r in read_by)
            reason = f"read only by {readers}" + (" (a loss)" if GRADIENT in read_by else "")
        else:
            reason = "a sink of the dataflow: nothing reads it"
        order = (k not in signed, bool(read_by), _generated(node.name, node.op), -i, k)
        dtype = dtypes[k] if k < len(dtypes) else ""
        found.append((order, Fetch(f"{node.name}:{k}", 0, reason, node.op, dtype, shape)))
    return found


def _signed(fetch: Fetch) -> bool:
    return fetch.reason.startswith("an output of signature")


def _plural(reason: str) -> str:
    return {
        GRADIENT: "the gradients",
        SUMMARY: "summaries",
        OPTIMIZER: "the optimizer",
        SAVER: "the saver",
        INIT: "initializers",
    }.get(reason, reason)


def _left_out_reason(nodes: _Nodes, i: int, data_readers, plumbing, have_inputs, fed) -> str:
    """Why the model's sink ``i`` is no candidate output, or "" when it is one."""
    op = nodes.ops[i]
    if op in PLACEHOLDER_OPS:
        return "a feed"
    if op in VARIABLE_OPS:
        return "a variable nothing in the model reads"
    if op in CONSTANT_OPS:
        if data_readers:
            return f"a constant read only by {_plural(plumbing[data_readers[0]])}"
        return "a constant nothing reads"
    if have_inputs and not fed:
        return "does not depend on any feed or input"
    if op in _SHAPE_OPS:
        return "reads only a shape, and nothing reads it"
    if any(p == "Assert" or p.startswith("assert_") for p in nodes.names[i].split("/")[:-1]):
        return "an assertion's result"
    copied = _copied_feed(nodes, i)
    if copied:
        return f"only a copy of the feed {copied}"
    return ""


def _copied_feed(nodes: _Nodes, i: int) -> str:
    """The placeholder a chain of Identity ops ending at ``i`` copies, or "" (TF Transform
    leaves such copies of the placeholders an import replaced)."""
    index = nodes.index
    for _ in range(64):
        if nodes.ops[i] in PLACEHOLDER_OPS:
            return nodes.names[i]
        data = [t for t in nodes.inputs[i] if not t.startswith("^")]
        if nodes.ops[i] != "Identity" or len(data) != 1:
            return ""
        k = index.get(_split_input(data[0])[0])
        if k is None:
            return ""
        i = k
    return ""


def _plumbing(mg: MetaGraph, nodes: _Nodes, consumers) -> list[str | None]:
    """Each node's plumbing reason (SAVER, INIT, ...) or None for the model's own nodes:
    the seeds by op, saver_def and scope, then everything that reads a seed."""
    saver_nodes, saver_scope = _saver_names(mg)
    saver_scopes = {saver_scope} - {""} | {
        name.partition("/")[0] + "/"
        for name, op in zip(nodes.names, nodes.ops, strict=True)
        if op in _SAVER_OPS and _SAVER_SCOPE.match(name.partition("/")[0])
    }
    reasons: list[str | None] = []
    for name, op in zip(nodes.names, nodes.ops, strict=True):
        reasons.append(_seed_reason(name, op, saver_nodes, saver_scopes))
    queue = deque(i for i, r in enumerate(reasons) if r is not None)
    while queue:
        i = queue.popleft()
        for j, _ in consumers[i]:
            if reasons[j] is None:
                reasons[j] = reasons[i]
                queue.append(j)
    return reasons


def _seed_reason(name: str, op: str, saver_nodes: set[str], saver_scopes: set[str]) -> str | None:
    scope = name.partition("/")[0] + "/"
    if op in _SAVER_OPS or name in saver_nodes or scope in saver_scopes:
        return SAVER
    if op in _SUMMARY_OPS:
        return SUMMARY
    if op in _INIT_OPS:
        return INIT
    if _APPLY_OP.match(op):
        return OPTIMIZER
    parts = name.split("/")
    if any(_GRADIENT_SCOPE.match(p) for p in parts[:-1]):
        return GRADIENT
    if any(p in _INIT_SCOPES for p in parts[:-1]) or parts[-1] == "initial_value":
        return INIT
    if op in ("Assign", "AssignVariableOp") and parts[-1] == "Assign":
        return INIT  # tf.Variable's own initializer: "<var>/Assign"
    return None


def _saver_names(mg: MetaGraph) -> tuple[set[str], str]:
    """The saver_def's node names, and its name scope ("save/") when it has one."""
    saver = mg.saver
    if saver is None:
        return set(), ""
    names = {
        t.partition(":")[0]
        for t in (saver.filename_tensor_name, saver.save_tensor_name, saver.restore_op_name)
        if t
    }
    scopes = {n.rpartition("/")[0] for n in names if "/" in n}
    scope = scopes.pop() + "/" if len(scopes) == 1 else ""
    return names, scope


def _feeds(mg, nodes: _Nodes, plumbing) -> tuple[list[Feed], list[LeftOut]]:
    feeds, left = [], []
    for i, op in enumerate(nodes.ops):
        if op not in PLACEHOLDER_OPS:
            continue
        name = nodes.names[i]
        if plumbing[i] is not None:
            left.append(LeftOut(name, op, plumbing[i], kind="feed"))
            continue
        node = nodes.node(i)
        attrs = node.attrs
        shape = attrs.get("shape")
        default = default_value = None
        if op == "PlaceholderWithDefault" and node.data_inputs:
            default = node.data_inputs[0]
            source, _, _ = _split_input(default)
            default = default if ":" in default else f"{default}:0"
            k = nodes.index.get(source)
            if k is not None and nodes.ops[k] in CONSTANT_OPS:
                value = nodes.node(k).attrs.get("value")
                default_value = value if isinstance(value, TensorValue) else None
        feeds.append(
            Feed(
                name=name,
                dtype=attrs.get("dtype") or "",
                shape=shape if isinstance(shape, Shape) else Shape(None),
                op=op,
                default=default,
                default_value=default_value,
            )
        )
    return feeds, left


def _live_feeds(nodes: _Nodes, feeds: list[Feed], fetch_nodes: list[int]):
    """(the feeds some candidate output depends on, LeftOut for the others): a graph
    imported with an input_map keeps the placeholders it replaced, read by nothing live."""
    if not fetch_nodes:
        return feeds, []
    needed = set(fetch_nodes)
    queue = deque(fetch_nodes)
    while queue:
        i = queue.popleft()
        for text in nodes.inputs[i]:
            name, _, control = _split_input(text)
            k = nodes.index.get(name)
            if k is not None and not control and k not in needed:
                needed.add(k)
                queue.append(k)
    live = [f for f in feeds if nodes.index[f.name] in needed]
    dead = [
        LeftOut(f.name, f.op, "no candidate output depends on it", kind="feed")
        for f in feeds
        if nodes.index[f.name] not in needed
    ]
    return live, dead


def _reached(nodes: _Nodes, consumers, plumbing, starts: list[int]) -> list[bool]:
    """Which model nodes the feeds reach through data edges."""
    reached = [False] * len(nodes.names)
    queue = deque(starts)
    for i in starts:
        reached[i] = True
    while queue:
        i = queue.popleft()
        for j, control in consumers[i]:
            if not control and not reached[j] and plumbing[j] is None:
                reached[j] = True
                queue.append(j)
    return reached


def _signature_fed(mg: MetaGraph, placeholders: set[str], nodes: _Nodes) -> list[Feed]:
    """Feeds for the signature inputs that are no placeholder (an Identity a TF1 predict
    signature names), with the signature's dtype and shape."""
    found: dict[str, Feed] = {}
    for sig in mg.callable_signatures.values():
        for info in sig.inputs.values():
            if not info.name:
                continue
            node, k, _ = _split_input(info.name)
            if node in placeholders or node in found or node not in nodes.index:
                continue
            op = nodes.ops[nodes.index[node]]
            found[node] = Feed(node, info.dtype, info.shape, op=op, output=k)
    return list(found.values())


def _signature_inputs(mg: MetaGraph) -> list[str]:
    """The nodes the callable signatures feed, each once."""
    found: dict[str, None] = {}
    for sig in mg.callable_signatures.values():
        for info in sig.inputs.values():
            names = [info.name] if info.name else list(info.coo_sparse or ())
            names += [c.name for c in info.components if c.name]
            for tensor in names:
                found[_split_input(tensor)[0]] = None
    return list(found)


def _signature_outputs(mg: MetaGraph) -> dict[str, dict[int, str]]:
    """Node -> {output index: "key/output"} for every signature output (the init op's
    excepted), the first signature by name that names it."""
    found: dict[str, dict[int, str]] = {}
    for key, sig in sorted(mg.callable_signatures.items()):
        for out_key, info in sig.outputs.items():
            names = [info.name] if info.name else list(info.coo_sparse or ())
            for tensor in names:
                node, k, _ = _split_input(tensor)
                found.setdefault(node, {}).setdefault(k, f"{key}/{out_key}")
    return found


def _outputs(node: Node) -> list[str]:
    """The dtype enum name of each of the node's outputs ("" where unknown), from its OpDef;
    one unknown output for an op TensorFlow does not register (a custom op)."""
    op_def = proto.op_registry().get(node.op)
    if op_def is None:
        return [""]
    attrs = node.attrs
    types = proto.enum_names("tensorflow.DataType")
    out: list[str] = []
    for arg in op_def.output_arg:
        if arg.type_list_attr:
            listed = attrs.get(arg.type_list_attr) or []
            out += [t for t in listed if isinstance(t, str)]
            continue
        if arg.type:
            one = types.get(arg.type, "")
        else:
            one = attrs.get(arg.type_attr) or _default(op_def, arg.type_attr) or ""
        number = 1
        if arg.number_attr:
            number = attrs.get(arg.number_attr)
            number = number if isinstance(number, int) else 0
        out += [one if isinstance(one, str) else ""] * number
    return out


def _default(op_def, attr: str) -> str:
    for a in op_def.attr:
        if a.name == attr and a.HasField("default_value") and a.default_value.type:
            return proto.enum_names("tensorflow.DataType").get(a.default_value.type, "")
    return ""


def _generated(name: str, op: str) -> bool:
    """Whether ``name`` looks like the one TensorFlow made up ("add_3", "MatMul", "Softmax_1")
    rather than a name the author chose ("logits", "probabilities")."""
    last = _NUMBERED.sub("", name.rpartition("/")[2]).lower().replace("_", "")
    bare = re.sub(r"v\d+$", "", op.lower())
    return last in (op.lower(), bare) or last in {w.replace("_", "") for w in _WRAPPER_NAMES}


def output_dtypes(node: Node) -> list[str]:
    """The dtype enum name of each of ``node``'s outputs ("" where unknown), from its OpDef
    and attrs: what a run that feeds any tensor by name checks its value against."""
    return _outputs(node)
