"""Op types used by a meta graph: counts, stateful marks and risky (file or system) ops."""

from __future__ import annotations

from dataclasses import dataclass

from smlens.core.formats import proto
from smlens.core.model import FuncRef, Graph, MetaGraph

# saved_model_cli scan's default denylist (tensorflow/python/tools/saved_model_cli.py).
DENYLIST = frozenset({"ReadFile", "WriteFile", "PrintV2"})

# Ops that touch files, run host code or write outside the graph. Save/Restore are left out:
# every TF2 export carries them in its saver functions.
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
    """
    registry = proto.op_registry()
    counts: dict[str, OpCount] = {}

    def add(op: str, where: str) -> None:
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
        setattr(counts[op], where, getattr(counts[op], where) + 1)

    for node in mg.graph.nodes:
        add(node.op, "main")
    for fn in mg.functions.values():
        for node in fn.nodes:
            add(node.op, "functions")
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
