"""Op types used by a meta graph: counts, stateful marks and risky (file or system) ops."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from operator import attrgetter

from smlens.core.formats import proto
from smlens.core.formats.convert import node_ops
from smlens.core.model import FuncRef, Graph, MetaGraph

# saved_model_cli scan's default denylist (tensorflow/python/tools/saved_model_cli.py).
DENYLIST = frozenset({"ReadFile", "WriteFile", "PrintV2"})

# Ops that touch files, run host code or write outside the graph. Save/Restore are left out:
# every TF2 export carries them in its saver functions.
_op_of = attrgetter("op")

RISKY_OPS = DENYLIST | frozenset(
    {
        "MatchingFiles",
        "ImmutableConst",
        "PyFunc",
        "PyFuncStateless",
        "EagerPyFunc",
        "DecodeProtoV2",
        "LoadAndRemapMatrix",
        "TFRecordDataset",
        "TFRecordDatasetV2",
        "FixedLengthRecordDataset",
        "FixedLengthRecordDatasetV2",
        "TextLineDataset",
        "CSVDataset",
        "CSVDatasetV2",
        "ExperimentalCSVDataset",
        "LMDBDataset",
        "ExperimentalLMDBDataset",
        "SqlDataset",
        "ExperimentalSqlDataset",
        "DatasetToTFRecord",
        "ExperimentalDatasetToTFRecord",
        "SaveDataset",
        "SaveDatasetV2",
        "LoadDataset",
        "SnapshotDataset",
        "SnapshotDatasetV2",
        "TFRecordReader",
        "TFRecordReaderV2",
        "TextLineReader",
        "TextLineReaderV2",
        "WholeFileReader",
        "WholeFileReaderV2",
        "FixedLengthRecordReader",
        "FixedLengthRecordReaderV2",
        "CreateSummaryFileWriter",
        "CreateSummaryDbWriter",
        "WriteSummary",
        "WriteRawProtoSummary",
        "WriteScalarSummary",
        "WriteHistogramSummary",
        "WriteImageSummary",
        "WriteAudioSummary",
        "WriteGraphSummary",
        "DebugIdentityV2",
        "DebugIdentityV3",
        "FileSystemSetConfiguration",
        "Print",
    }
)


@dataclass
class OpCount:
    op: str
    main: int = 0  # nodes in the meta graph's main graph
    functions: int = 0  # nodes in library functions
    stateful: bool = False
    risky: bool = False
    registered: bool = True  # False for ops TensorFlow does not know (custom ops)

    @property
    def total(self) -> int:
        return self.main + self.functions


def op_counts(mg: MetaGraph) -> dict[str, OpCount]:
    """Every op type of the main graph and of the library functions, with its node counts.

    Calls to library functions (a node whose op names a function) are not op types.
    Counted once per meta graph (``MetaGraph.derived``); the result is shared, not a copy.
    """
    counts = mg.derived.get("op_counts")
    if counts is None:
        counts = mg.derived["op_counts"] = _count_ops(mg)
    return counts


def _count_ops(mg: MetaGraph) -> dict[str, OpCount]:
    registry = proto.op_registry()
    counts: dict[str, OpCount] = {}

    def add(op: str, where: str, n: int) -> None:
        if op in mg.functions:
            return
        if op not in counts:
            op_def = registry.get(op)
            counts[op] = OpCount(
                op,
                stateful=bool(op_def and op_def.is_stateful),
                risky=op in RISKY_OPS,
                registered=op_def is not None,
            )
        setattr(counts[op], where, getattr(counts[op], where) + n)

    for op, n in Counter(node_ops(mg.graph)).items():
        add(op, "main", n)
    for fn in mg.functions.values():
        for op, n in Counter(map(_op_of, fn.nodes)).items():
            add(op, "functions", n)
    return counts


def ops_used(graph: Graph) -> set[str]:
    """The op set saved_model_cli prints, as meta_graph.ops_used_by_graph_def computes it.

    Functions are entered only through a node whose op names one, or through the ``f`` of a
    (Stateful)PartitionedCall: While bodies and If branches are not followed, and function
    names themselves are left out.
    """
    used: set[str] = set()
    pending = []

    def mark(op: str) -> None:
        if op not in used and op in graph.functions:
            pending.append(graph.functions[op])
        used.add(op)

    def visit(node) -> None:
        mark(node.op)
        if node.op in ("PartitionedCall", "StatefulPartitionedCall"):
            f = node.attrs.get("f")
            mark(f.name if isinstance(f, FuncRef) else "")

    for node in graph.nodes:
        visit(node)
    while pending:
        for node in pending.pop().nodes:
            visit(node)
    return {op for op in used if op not in graph.functions}


# Where ops TensorFlow does not define usually come from: (op prefix, pip package, what
# `smlens run --load` takes). Namespaced ops carry "Namespace>" in their type name.
OP_PROVIDERS = (
    ("TFText>", "tensorflow-text", "tensorflow_text"),
    ("Sentencepiece", "tensorflow-text", "tensorflow_text"),
    ("Addons>", "tensorflow-addons", "tensorflow_addons"),
    ("IO>", "tensorflow-io", "tensorflow_io"),
    ("TFRA>", "tensorflow-recommenders-addons", "tensorflow_recommenders_addons"),
    ("Scann>", "scann", "scann"),
    ("SimpleML", "tensorflow-decision-forests", "tensorflow_decision_forests"),
)


@dataclass(frozen=True)
class CustomOpGroup:
    """The ops of one namespace that TensorFlow does not define, and who usually does."""

    namespace: str  # "TFText"; "" for ops without one
    ops: dict[str, int]  # op type -> nodes using it
    package: str | None = None  # "tensorflow-text" (pip)
    module: str | None = None  # "tensorflow_text" (what --load takes)

    @property
    def load_hint(self) -> str:
        if self.module:
            return f"load {self.module} (pip install {self.package})"
        return "load the op library (.so) or Python package that defines it"


def op_provider(op: str) -> tuple[str, str] | None:
    """(pip package, module to load) known to provide ``op``, or None."""
    for prefix, package, module in OP_PROVIDERS:
        if op.startswith(prefix):
            return package, module
    return None


def custom_ops(meta_graphs: list[MetaGraph]) -> list[CustomOpGroup]:
    """The ops of these meta graphs that TensorFlow does not define, grouped by namespace
    (the part before ">"), namespaced groups first."""
    found: dict[str, dict[str, int]] = {}
    for mg in meta_graphs:
        for count in op_counts(mg).values():
            if not count.registered:
                namespace = count.op.split(">", 1)[0] if ">" in count.op else ""
                ops = found.setdefault(namespace, {})
                ops[count.op] = ops.get(count.op, 0) + count.total
    groups = []
    for namespace in sorted(found, key=lambda n: (n == "", n)):
        ops = dict(sorted(found[namespace].items()))
        provider = next(filter(None, map(op_provider, ops)), None)
        groups.append(CustomOpGroup(namespace, ops, *(provider or (None, None))))
    return groups


_MISSING_OP = re.compile(r"Op type not registered '([^']+)'")


def missing_op_text(message: str) -> str | None:
    """For TensorFlow's "Op type not registered 'X' in binary running on ...": which op is
    missing and what to load; None for any other message."""
    match = _MISSING_OP.search(message)
    if not match:
        return None
    op = match[1]
    provider = op_provider(op)
    what = (
        f"load {provider[1]} (pip install {provider[0]}) with --load {provider[1]}"
        if provider
        else "load the op library (.so) or Python package that defines it with --load"
    )
    return (
        f"The model uses the op {op}, which this TensorFlow does not define: {what}, "
        "or in the Run panel's Load box."
    )
